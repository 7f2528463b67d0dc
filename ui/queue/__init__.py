"""The render queue panel: every job with its state, progress and actions."""
