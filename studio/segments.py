"""How a shot longer than one clip of its model splits into overlapping segments.

A model renders at most `max_frames` frames per clip, each obeying its family's frame
rule (m*n + 1). A longer shot is split into segments that obey the rule and the limit and
overlap by a few frames, so together they are exactly the shot's frame count. Pure
arithmetic: the render plan counts the segments, the engine renders and joins them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_OVERLAP = 8  # frames shared by two segments, before rounding to the frame rule


@dataclass(frozen=True)
class Segment:
    """One clip of an extended shot: frames [start, start + frames) of the shot."""

    index: int
    start: int
    frames: int
    overlap: int  # frames shared with the segment before (0 for the first)

    @property
    def end(self) -> int:
        return self.start + self.frames


# --- planning -------------------------------------------------------------------------


def longest_clip(max_frames: int, multiple: int = 1) -> int:
    """The longest frame count within `max_frames` that obeys the multiple*n+1 rule."""
    if max_frames < 1:
        raise ValueError(f"the clip limit must be positive, got {max_frames}")
    m = max(1, multiple)
    return max_frames if m == 1 else max(1, (max_frames - 1) // m * m + 1)


def fits_rule(frames: int, multiple: int = 1) -> bool:
    return frames >= 1 and (multiple <= 1 or (frames - 1) % multiple == 0)


def default_overlap(max_frames: int, multiple: int = 1) -> int:
    """About a quarter of a clip, at most 8 frames, rounded up to the frame rule when that
    still leaves most of the clip new (LTX keeps only an 8n+1 run of its lead-in)."""
    longest = longest_clip(max_frames, multiple)
    half = max(1, (longest - 1) // 2)
    overlap = max(1, min(MAX_OVERLAP, (longest - 1) // 4))
    if multiple > 1:
        ruled = -(-(overlap - 1) // multiple) * multiple + 1
        if ruled <= half:
            overlap = ruled
    return min(overlap, half)


def plan_segments(
    total: int, max_frames: int, multiple: int = 1, overlap: int | None = None
) -> tuple[Segment, ...]:
    """Segments covering exactly `total` frames, each a valid clip, overlapping by at least
    `overlap` frames (default: `default_overlap`).

    Segments are as few as the limit allows and as even as the rule allows; the few frames
    the rule cannot absorb in the lengths widen the overlaps instead, so nothing rendered
    is thrown away. Where short clips leave no room for that, the overlap shrinks by as
    little as it must. A total within one clip must obey the rule itself.
    """
    if total < 1:
        raise ValueError(f"frames must be positive, got {total}")
    m = max(1, multiple)
    longest = longest_clip(max_frames, m)
    if total <= longest:
        if not fits_rule(total, m):
            raise ValueError(f"{total} frames break the {m}n+1 rule")
        return (Segment(0, 0, total, 0),)
    if longest < 3:
        raise ValueError(f"clips of {longest} frames are too short to extend")
    k = default_overlap(longest, m) if overlap is None else overlap
    if not 1 <= k < longest:
        raise ValueError(f"the overlap must be 1 to {longest - 1} frames, got {k}")
    # Fewest segments first (each costs a whole clip), then the widest overlap, down to
    # half of the one asked for; joins stay apart (a segment's own frames between them).
    candidates = [
        plan
        for shared in range(k, (k + 1) // 2 - 1, -1)
        for more in range(2)
        if (plan := _even_plan(total, longest, m, shared, _count(total, longest, shared) + more))
    ]
    if candidates:
        return min(candidates, key=lambda plan: (len(plan), -min(s.overlap for s in plan[1:])))
    # The shortest clips leave no room for that: narrower overlaps, joins that may touch.
    for shared in range(k, 0, -1):
        for more in range(2):
            count = _count(total, longest, shared) + more
            plan = _even_plan(total, longest, m, shared, count, apart=False)
            if plan is not None:
                return plan
    raise ValueError(f"cannot split {total} frames into {longest}-frame clips")


def _count(total: int, longest: int, overlap: int) -> int:
    """The fewest clips of `longest` frames overlapping by `overlap` that cover `total`."""
    return max(2, math.ceil((total - overlap) / (longest - overlap)))


def _even_plan(
    total: int, longest: int, m: int, k: int, count: int, apart: bool = True
) -> tuple[Segment, ...] | None:
    target = total + (count - 1) * k  # frames to render with every overlap exactly k
    units = -(-(target - count) // m)  # n summed over the segments' lengths m*n + 1
    if units > count * ((longest - 1) // m):
        return None
    lengths = [m * (units // count + (i < units % count)) + 1 for i in range(count)]
    excess = sum(lengths) - target  # less than m: widens the overlaps
    joins = count - 1
    overlaps = [0] + [k + excess // joins + (j < excess % joins) for j in range(joins)]
    segments, start = [], 0
    for i, (frames, shared) in enumerate(zip(lengths, overlaps, strict=True)):
        start -= shared
        segments.append(Segment(i, start, frames, shared))
        start += frames
    # Every segment brings new frames: past the previous segment's end, and (apart) before
    # the next segment's overlap begins.
    for i, seg in enumerate(segments):
        following = overlaps[i + 1] if i + 1 < count else 0
        if max(seg.overlap, following) >= seg.frames:
            return None
        if apart and seg.overlap + following >= seg.frames:
            return None
    return tuple(segments)
