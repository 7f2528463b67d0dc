"""The timeline panel: the painted edit, its edits, and the sound clips."""
