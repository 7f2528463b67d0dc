"""The edit: the timeline, its clips, gaps and transitions, and timecode."""
