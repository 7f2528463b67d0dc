"""The player: a take or the whole edit with its sound, frame-accurate."""
