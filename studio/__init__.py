"""Gallop Studio's domain: projects, shots, camera rig, timeline, edits and the job protocol.

Plain Python (numpy at most): no Qt, torch or PyAV, so it runs and is tested anywhere.
"""

__version__ = "0.1.0"
