"""Keyframed curves for camera axes: easing, interpolation, validation and smooth noise.

A keyframe's easing shapes the segment that starts at it. Every curve maps [0, 1] onto
[0, 1] with exact endpoints and is monotone, also in floating point: the curves are built
only from correctly rounded, monotone operations (no `pow`, no trigonometry), so a slider
never jitters backwards and a move always lands exactly on its keyframe value.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from studio.errors import ProjectError
from studio.project.validate import check_float

__all__ = [
    "CurveMotion",
    "Easing",
    "Keyframe",
    "axis_value",
    "axis_values",
    "check_keyframes",
    "check_number",
    "curve_motion",
    "ease",
    "ease_array",
    "frame_times",
    "smooth_noise",
]


class Easing(StrEnum):
    LINEAR = "linear"
    EASE_IN = "ease_in"
    EASE_OUT = "ease_out"
    EASE_IN_OUT = "ease_in_out"
    HOLD = "hold"


@dataclass(frozen=True)
class Keyframe:
    """A value at `t`, a fraction of the shot in [0, 1]; `easing` shapes the next segment."""

    t: float
    value: float
    easing: Easing = Easing.EASE_IN_OUT


def ease_array(easing: Easing | str, u: np.ndarray | float) -> np.ndarray:
    """`ease` over an array; `u` is clamped to [0, 1]."""
    kind = Easing(easing)
    x = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    if kind is Easing.LINEAR:
        return x.copy()
    if kind is Easing.HOLD:
        return np.where(x >= 1.0, 1.0, 0.0)
    if kind is Easing.EASE_IN:
        return x * x * x
    if kind is Easing.EASE_OUT:
        v = 1.0 - x
        return 1.0 - v * v * v
    # Cubic in-out as two mirrored halves: each half is monotone in floating point and
    # both give exactly 0.5 at u == 0.5, unlike the single polynomial 3u^2 - 2u^3.
    low = 2.0 * x
    high = 2.0 * (1.0 - x)
    return np.where(x < 0.5, 0.5 * (low * low * low), 1.0 - 0.5 * (high * high * high))


def ease(easing: Easing | str, u: float) -> float:
    """The eased fraction for `u` in [0, 1] (clamped); ease(e, 0) == 0 and ease(e, 1) == 1."""
    if math.isnan(u):
        raise ValueError("easing position must not be NaN")
    return float(ease_array(easing, float(u)))


def axis_values(keyframes: Sequence[Keyframe], ts: np.ndarray, *, log: bool = False) -> np.ndarray:
    """Values of a keyframed axis at the fractions `ts`.

    No keyframes is neutral (0, or 1 with `log`); one keyframe is a constant; before the
    first and after the last keyframe the value holds. With `log` the values are
    interpolated geometrically, as a zoom should be: equal steps in time give equal
    ratios of focal length.
    """
    ts = np.asarray(ts, dtype=np.float64)
    if not keyframes:
        return np.full(ts.shape, 1.0 if log else 0.0)
    values = np.array([float(k.value) for k in keyframes], dtype=np.float64)
    if log:
        if np.any(values <= 0.0):
            raise ValueError("log interpolation needs values greater than 0")
        space = np.log(values)
    else:
        space = values
    if len(keyframes) == 1:
        return np.full(ts.shape, values[0])
    times = np.array([float(k.t) for k in keyframes], dtype=np.float64)
    seg = np.clip(np.searchsorted(times, ts, side="right") - 1, 0, len(keyframes) - 2)
    start, end = times[seg], times[seg + 1]
    with np.errstate(over="ignore"):  # keyframes a few ulps apart: the ratio clips to 1
        u = np.clip((ts - start) / (end - start), 0.0, 1.0)
    eased = np.empty(ts.shape)
    for i, key in enumerate(keyframes[:-1]):
        mask = seg == i
        if np.any(mask):
            eased[mask] = ease_array(key.easing, u[mask])
    a, b = space[seg], space[seg + 1]
    # a + (b - a) * e is monotone in e; the clip removes a last-ulp overshoot past b.
    mixed = np.clip(a + (b - a) * eased, np.minimum(a, b), np.maximum(a, b))
    if log:
        mixed = np.exp(mixed)
    # Exact keyframe values at the ends of each segment (exp(log(v)) may differ from v).
    return np.where(eased <= 0.0, values[seg], np.where(eased >= 1.0, values[seg + 1], mixed))


def axis_value(keyframes: Sequence[Keyframe], t: float, *, log: bool = False) -> float:
    """The value of a keyframed axis at fraction `t` of the shot (see `axis_values`)."""
    if math.isnan(t):
        raise ValueError("time must not be NaN")
    return float(axis_values(keyframes, np.array([float(t)]), log=log)[0])


# Three detuned partials per channel: irregular enough to read as a hand, smooth enough
# not to flicker. The weights sum to 0.5 and each partial is offset by its value at the
# first sample, so the noise starts at exactly 0 and stays within [-1, 1].
_PARTIALS = ((1.0, 0.25), (2.13, 0.15), (3.71, 0.10))


def smooth_noise(seed: int, frequency: float, seconds: np.ndarray, channels: int = 1) -> np.ndarray:
    """Deterministic smooth noise of shape (channels, len(seconds)), 0 at the first sample.

    `frequency` (Hz) is the lowest partial's; the same seed always gives the same curves.
    """
    seconds = np.asarray(seconds, dtype=np.float64)
    out = np.zeros((channels, len(seconds)))
    if len(seconds) == 0:
        return out
    # random.Random(int).random() is guaranteed to give the same sequence on every Python.
    rnd = random.Random(seed)
    for channel in range(channels):
        for multiple, weight in _PARTIALS:
            omega = 2.0 * math.pi * frequency * multiple * (0.85 + 0.3 * rnd.random())
            wave = np.sin(omega * seconds + 2.0 * math.pi * rnd.random())
            out[channel] += weight * (wave - wave[0])
    return out


def frame_times(frames: int) -> np.ndarray:
    """The fraction of the shot of each frame: i / (frames - 1), and 0 for a single frame."""
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise ValueError(f"frames must be a positive integer, found {frames!r}")
    if frames == 1:
        return np.zeros(1)
    return np.arange(frames, dtype=np.float64) / (frames - 1)


def check_number(
    value: object, path: str, low: float | None = None, high: float | None = None
) -> float:
    """`check_float` with the bounds given positionally."""
    return check_float(value, path, min_value=low, max_value=high)


def check_keyframes(keyframes: object, path: str, low: float, high: float) -> None:
    """ProjectError naming the bad value unless `keyframes` is a tuple of valid keyframes.

    Valid: t in [0, 1] and strictly increasing, values finite and within [low, high],
    easing an `Easing` name.
    """
    if not isinstance(keyframes, tuple):
        raise ProjectError(path, "expected a tuple of keyframes")
    previous: float | None = None
    for i, key in enumerate(keyframes):
        here = f"{path}[{i}]"
        if not isinstance(key, Keyframe):
            raise ProjectError(here, "expected a keyframe")
        t = check_number(key.t, f"{here}.t", 0.0, 1.0)
        if previous is not None and t <= previous:
            raise ProjectError(
                f"{here}.t", f"must be later than the previous keyframe ({previous})"
            )
        previous = t
        check_number(key.value, f"{here}.value", low, high)
        try:
            Easing(key.easing)
        except (ValueError, TypeError):
            choices = ", ".join(e.value for e in Easing)
            raise ProjectError(f"{here}.easing", f"expected one of {choices}") from None


@dataclass(frozen=True)
class CurveMotion:
    """How much a keyframed curve moves (in log space for a geometric curve)."""

    net: float  # last value minus first
    travel: float  # total distance covered through every keyframe
    peak_rate: float  # fastest segment's average speed, per whole shot


def curve_motion(keyframes: Sequence[Keyframe], *, log: bool = False) -> CurveMotion:
    if len(keyframes) < 2:
        return CurveMotion(0.0, 0.0, 0.0)
    values = np.array([float(k.value) for k in keyframes])
    if log:
        values = np.log(values)
    steps = np.abs(np.diff(values))
    spans = np.diff([float(k.t) for k in keyframes])
    with np.errstate(over="ignore"):  # a jump between keyframes an ulp apart is infinitely fast
        peak = float(np.max(steps / spans))
    return CurveMotion(float(values[-1] - values[0]), float(steps.sum()), peak)
