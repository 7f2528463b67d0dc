"""The storyboard panel: one card per shot in story order."""
