"""Rendering: the engine thread and process, the farm, batches, long shots, progress."""
