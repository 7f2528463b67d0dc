"""The camera rig: keyframed moves turned into per-frame poses, and easing."""
