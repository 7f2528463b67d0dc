"""Exact conversions between frames, seconds and "HH:MM:SS:FF" timecode at a rational rate.

Frames are integers and rates are `Fraction`s (24000/1001, not 23.976), so a position never
drifts however long the edit. Timecode is non-drop-frame: at 23.976 or 29.97 fps it counts
with the nominal integer rate (24, 30), as editors and players display it, which means its
seconds run slightly slower than wall-clock seconds.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction
from numbers import Rational

from studio.errors import EditError

__all__ = [
    "check_fps",
    "frames_to_seconds",
    "nominal_rate",
    "parse_timecode",
    "seconds_to_frames",
    "timecode",
]

# `studio.project.validate.parse_fraction` reads rates within the same bounds, so any rate a
# timeline holds can be saved. Video files store rates as 32-bit fractions: larger terms mean
# nothing.
MAX_FPS = 1000
MAX_RATE_TERM = 2**31 - 1

_TIMECODE = re.compile(r"^(\d{2,9}):(\d{2}):(\d{2}):(\d{2,4})$")


def check_fps(fps: object) -> Fraction:
    """`fps` as a `Fraction` in (0, 1000]; ints are accepted, floats refused as inexact."""
    if isinstance(fps, bool) or not isinstance(fps, int | Fraction):
        raise EditError(f"frame rate must be an integer or a Fraction, not {fps!r}")
    rate = Fraction(fps)
    if not 0 < rate <= MAX_FPS:
        raise EditError(f"frame rate must be between 0 and {MAX_FPS}, not {rate}")
    if rate.denominator > MAX_RATE_TERM or rate.numerator > MAX_RATE_TERM:
        raise EditError(
            f"frame rate {float(rate):g} needs terms above {MAX_RATE_TERM}; "
            "video files store rates as 32-bit fractions"
        )
    return rate


def _check_frame(frame: object) -> int:
    if isinstance(frame, bool) or not isinstance(frame, int):
        raise EditError(f"a frame number must be an integer, not {frame!r}")
    return frame


def frames_to_seconds(frames: int, fps: Fraction | int) -> Fraction:
    """The exact duration of `frames` frames (negative counts give negative durations)."""
    return Fraction(_check_frame(frames)) / check_fps(fps)


def seconds_to_frames(seconds: Fraction | int | float | Decimal, fps: Fraction | int) -> int:
    """The frame nearest to `seconds`, ties rounded half to even.

    Rounding to nearest (rather than flooring) makes `seconds_to_frames(frames_to_seconds(n))`
    return `n` even after the seconds passed through a float; half to even is what
    `round()` does for `Fraction`, and it keeps a tie from always favouring the later frame.
    """
    if isinstance(seconds, bool):
        raise EditError(f"seconds must be a number, not {seconds!r}")
    if isinstance(seconds, float | Decimal):
        if not math.isfinite(seconds):
            raise EditError(f"seconds must be finite, not {seconds!r}")
        exact = Fraction(seconds)
    elif isinstance(seconds, int | Rational):
        exact = Fraction(seconds)
    else:
        raise EditError(f"seconds must be a number, not {seconds!r}")
    return round(exact * check_fps(fps))


def nominal_rate(fps: Fraction | int) -> int:
    """The integer frames-per-second that timecode counts with: 24 for 24000/1001.

    Rates below one frame a second count one frame per timecode second.
    """
    return max(1, round(check_fps(fps)))


def timecode(frame: int, fps: Fraction | int) -> str:
    """Non-drop "HH:MM:SS:FF" of a frame; hours grow past two digits rather than wrap."""
    frame = _check_frame(frame)
    if frame < 0:
        raise EditError(f"timecode needs a frame of 0 or more, not {frame}")
    rate = nominal_rate(fps)
    seconds, ff = divmod(frame, rate)
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    width = len(str(rate - 1))
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:0{max(2, width)}d}"


def parse_timecode(text: str, fps: Fraction | int) -> int:
    """The frame of a non-drop "HH:MM:SS:FF" timecode (the inverse of `timecode`)."""
    if not isinstance(text, str):
        raise EditError(f"a timecode must be text, not {text!r}")
    rate = nominal_rate(fps)
    stripped = text.strip()
    if ";" in stripped:
        raise EditError(f"drop-frame timecode {text!r} is not supported; use ':' separators")
    match = _TIMECODE.match(stripped)
    # \d also matches non-ASCII digits, which int() would read but no one means.
    if match is None or not stripped.isascii():
        raise EditError(f"expected a timecode such as 00:01:02:03, not {text!r}")
    hh, mm, ss, ff = (int(part) for part in match.groups())
    if mm >= 60 or ss >= 60:
        raise EditError(f"minutes and seconds must be below 60 in {text!r}")
    if ff >= rate:
        raise EditError(f"frames must be below {rate} at this rate in {text!r}")
    return ((hh * 60 + mm) * 60 + ss) * rate + ff
