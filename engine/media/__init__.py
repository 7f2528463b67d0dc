"""Pictures and sound: video files, the edit's frames, the mix, colour continuity."""
