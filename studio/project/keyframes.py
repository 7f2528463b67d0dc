"""Keyframes inside a shot: pictures the shot passes through at chosen times.

A shot starts on its keyframe (`Shot.keyframe`), may end on an end keyframe
(`Shot.end_keyframe`, or the next shot's start picture with `Shot.end_on_next`) and may pass
through pictures in between, each a `ShotKeyframe`: a time in seconds from the shot's start
and a project-relative image. They are kept in time order, one per time, and replaced whole.
The render plan turns each time into a frame of the clip (`studio.render_plan`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from studio.errors import EditError, ProjectError
from studio.project import validate as v

MAX_TIME = 3600.0  # seconds: the longest shot
SAME_TIME = 1e-6  # seconds: two keyframes closer than this are at the same time


@dataclass(frozen=True)
class ShotKeyframe:
    """A picture (`image`, project-relative) the shot shows at `time` seconds."""

    time: float
    image: str

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "image": self.image}


def sorted_keyframes(keyframes: Iterable[ShotKeyframe]) -> tuple[ShotKeyframe, ...]:
    """The keyframes in time order; EditError for a bad time or two at the same time."""
    ordered = tuple(sorted(keyframes, key=lambda k: k.time))
    for key in ordered:
        if not (math.isfinite(key.time) and 0.0 <= key.time <= MAX_TIME):
            raise EditError(f"a keyframe's time must be 0 to {MAX_TIME:g} s, not {key.time!r}")
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.time - before.time < SAME_TIME:
            raise EditError(f"two keyframes at {after.time:g} s")
    return ordered


def with_keyframe(
    keyframes: Iterable[ShotKeyframe], time: float, image: str
) -> tuple[ShotKeyframe, ...]:
    """The keyframes with `image` at `time`, replacing the one already there."""
    time = float(time)
    kept = [k for k in keyframes if abs(k.time - time) >= SAME_TIME]
    return sorted_keyframes([*kept, ShotKeyframe(time, image)])


def without_keyframe(keyframes: Iterable[ShotKeyframe], time: float) -> tuple[ShotKeyframe, ...]:
    """The keyframes without the one at `time` (as they are when there is none)."""
    return tuple(k for k in keyframes if abs(k.time - float(time)) >= SAME_TIME)


def keyframes_to_json(keyframes: Iterable[ShotKeyframe]) -> list[dict[str, Any]]:
    return [k.to_dict() for k in keyframes]


def read_keyframes(data: dict[str, Any], key: str, path: str) -> tuple[ShotKeyframe, ...]:
    """The shot's keyframes from its JSON (none when absent), validated and in time order;
    ProjectError names the first bad value."""

    def read(value: Any, at: str) -> ShotKeyframe:
        d = v.expect_dict(value, at, ("time", "image"))
        image = d.get("image")
        problem = v.relative_path_problem(image)
        if problem is not None:
            raise ProjectError(f"{at}.image", problem)
        return ShotKeyframe(
            time=v.get_float(d, "time", at, min_value=0.0, max_value=MAX_TIME), image=image
        )

    keys = v.get_list_of(data, key, path, read, default=())
    try:
        return sorted_keyframes(keys)
    except EditError as error:
        raise ProjectError(v.key_path(path, key), str(error)) from None


def frame_of(time: float, fps: float, frames: int) -> int | None:
    """The frame of a `frames`-frame clip at `fps` shown at `time` seconds; None when the
    clip has ended by then."""
    frame = round(time * fps)
    return frame if 0 <= frame < frames else None
