"""The camera panel: the rig on sliders and keyframe curves, with a live previz."""
