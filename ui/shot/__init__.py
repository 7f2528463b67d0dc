"""The shot panel: the current shot's prompt, settings, keyframe and continuity."""
