"""Shared by the panels: labels, images, thumbnails, the theme, keyframe drops, model checks."""
