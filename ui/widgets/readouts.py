"""How a position in a take reads, the same in the player, the compare window and the
timeline: timecode, and frames counted from 0."""

from __future__ import annotations

NO_TIMECODE = "--:--:--:--"
TIMECODE_TIP = "Timecode (hours:minutes:seconds:frames)"
FRAME_TIP = "Frame number, counted from 0 / number of frames"


def frame_readout(index: int, count: int) -> str:
    """ "0 / 121" for the first of 121 frames: frames count from 0 everywhere."""
    return f"{index} / {count}"
