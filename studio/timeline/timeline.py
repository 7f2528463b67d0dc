"""The edit: an immutable sequence of clips, gaps and transitions, plus audio tracks.

Everything here is frozen. An edit (`Timeline.trim`, `Timeline.split`, ...) returns a new
`Timeline` and leaves the old one untouched, so the undo stack simply keeps whole timelines;
an edit that cannot be applied raises `EditError` and changes nothing. Every constructor
validates, so a `Timeline` that exists is a valid one.

Time is exact: positions and lengths are integer frames at `Timeline.fps`, a `Fraction`
(24000/1001, never 23.976); `studio.timeline.timecode` converts to seconds and timecode.

The video track is a sequence of `Clip` and `Gap` items, each starting where the previous one
ends, except that a crossfade of N frames into a clip overlaps it with the clip before by N
frames (the sequence gets N frames shorter). A dip to black or white does not overlap: the
outgoing clip fades out over its last N // 2 frames and the incoming clip fades in over its
first N - N // 2 frames. Audio clips sit at absolute timeline frames on their own tracks;
their edits are in `studio.timeline.audio_edits`.

`timeline_to_dict` / `timeline_from_dict` give the JSON form; reading is strict and raises only
`ProjectError`, naming the JSON path of the first bad value. The pieces themselves live in
`studio.timeline.items` and are re-exported here.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property
from typing import Any

from studio.errors import EditError, ProjectError
from studio.ids import fresh_id
from studio.project import validate as v
from studio.timeline.audio_edits import AudioEdits
from studio.timeline.items import (
    CUT,
    MAX_FRAMES,
    MAX_GAIN_DB,
    MIN_GAIN_DB,
    AudioClip,
    AudioTrack,
    Clip,
    Gap,
    InvalidValue,
    Item,
    Transition,
    TransitionKind,
    as_tuple,
    audio_track_from_dict,
    audio_track_to_dict,
    build,
    check_id,
    check_transitions,
    check_unique_ids,
    frame_arg,
    head_use,
    item_from_dict,
    item_to_dict,
    relink,
    tail_use,
)
from studio.timeline.markers import (
    MARKER_KEYS,
    Marker,
    MarkerColour,
    MarkerEdits,
    check_markers,
    check_marks,
    markers_to_dict,
    read_markers,
)
from studio.timeline.timecode import (
    check_fps,
    frames_to_seconds,
    nominal_rate,
    parse_timecode,
    seconds_to_frames,
    timecode,
)

__all__ = [
    "AudioClip",
    "AudioTrack",
    "Clip",
    "Gap",
    "InvalidValue",
    "Item",
    "MAX_FRAMES",
    "Marker",
    "MarkerColour",
    "MAX_GAIN_DB",
    "MIN_GAIN_DB",
    "Timeline",
    "Transition",
    "TransitionKind",
    "frames_to_seconds",
    "nominal_rate",
    "parse_timecode",
    "seconds_to_frames",
    "timecode",
    "timeline_from_dict",
    "timeline_to_dict",
]


def _merge_gaps(items: list[Item], at: int) -> list[Item]:
    """Merge the gaps on either side of index boundary `at` into the first one."""
    if 0 < at < len(items):
        left, right = items[at - 1], items[at]
        if isinstance(left, Gap) and isinstance(right, Gap):
            items[at - 1 : at + 1] = [replace(left, frames=left.frames + right.frames)]
    return items


@dataclass(frozen=True)
class Timeline(AudioEdits, MarkerEdits):
    """The edit: video `items` at `fps`, audio tracks, markers and in and out points
    (`studio.timeline.markers`). Immutable; edits return a copy."""

    fps: Fraction = Fraction(24)
    items: tuple[Item, ...] = ()
    audio_tracks: tuple[AudioTrack, ...] = ()
    markers: tuple[Marker, ...] = ()
    mark_in: int | None = None
    mark_out: int | None = None

    def __post_init__(self) -> None:
        try:
            fps = check_fps(self.fps)
        except EditError as exc:
            raise InvalidValue("fps", str(exc)) from None
        object.__setattr__(self, "fps", fps)
        items = as_tuple(self.items, "items")
        tracks = as_tuple(self.audio_tracks, "audio_tracks")
        object.__setattr__(self, "items", items)
        object.__setattr__(self, "audio_tracks", tracks)
        for i, item in enumerate(items):
            if not isinstance(item, Clip | Gap):
                raise InvalidValue(f"items[{i}]", f"expected a Clip or a Gap, not {item!r}")
        for t, track in enumerate(tracks):
            if not isinstance(track, AudioTrack):
                raise InvalidValue(f"audio_tracks[{t}]", f"expected an AudioTrack, not {track!r}")
        check_unique_ids(items, tracks)
        check_transitions(items)
        object.__setattr__(self, "markers", check_markers(self.markers))
        check_marks(self.mark_in, self.mark_out)
        if self.duration > MAX_FRAMES:
            raise InvalidValue(
                "items",
                f"the timeline is {self.duration} frames long, more than {MAX_FRAMES} "
                "(24 hours at 1000 fps)",
            )

    # -- reading -------------------------------------------------------------------------

    @cached_property
    def _layout(self) -> tuple[tuple[int, ...], int]:
        starts: list[int] = []
        position = 0
        for item in self.items:
            if isinstance(item, Clip):
                position -= item.transition.overlap
            starts.append(position)
            position += item.duration
        return tuple(starts), position

    @property
    def duration(self) -> int:
        """Length in frames: the items' durations less the crossfade overlaps."""
        return self._layout[1]

    @property
    def duration_seconds(self) -> Fraction:
        return frames_to_seconds(self.duration, self.fps)

    def starts(self) -> tuple[int, ...]:
        """The timeline frame where each item starts (non-decreasing)."""
        return self._layout[0]

    def start_of(self, item_id: str) -> int:
        return self.starts()[self.index_of(item_id)]

    def clips(self) -> tuple[Clip, ...]:
        return tuple(item for item in self.items if isinstance(item, Clip))

    def clips_between(self, first: int, stop: int) -> tuple[Clip, ...]:
        """The clips that show in timeline frames `first`..`stop` (exclusive)."""
        return tuple(
            item
            for item, start in zip(self.items, self.starts(), strict=True)
            if isinstance(item, Clip) and start < stop and start + item.duration > first
        )

    def index_of(self, item_id: str) -> int:
        for i, item in enumerate(self.items):
            if item.id == item_id:
                return i
        raise EditError(f"the timeline has no clip or gap {item_id!r}")

    def item(self, item_id: str) -> Item:
        return self.items[self.index_of(item_id)]

    def clip_at(self, frame: int) -> tuple[int, Item, int] | None:
        """(index, item, frame within the item) of what shows at a timeline frame.

        Inside a crossfade the incoming clip is the one returned, so a clip is "at" a frame
        from its first frame on. None before 0 and from `duration` on.
        """
        frame = frame_arg(frame, "frame")
        starts = self.starts()
        i = bisect.bisect_right(starts, frame) - 1
        if frame < 0 or i < 0:
            return None
        item = self.items[i]
        if frame >= starts[i] + item.duration:
            return None
        return i, item, frame - starts[i]

    def audio_track(self, track_id: str) -> AudioTrack:
        return self.audio_tracks[self._track_index(track_id)]

    # -- video edits ---------------------------------------------------------------------

    def _with_items(self, items: Iterable[Item], action: str) -> Timeline:
        try:
            return replace(self, items=tuple(items))
        except EditError as exc:
            raise EditError(f"cannot {action}: {exc}") from None

    def _clip(self, clip_id: str) -> tuple[int, Clip]:
        i = self.index_of(clip_id)
        item = self.items[i]
        if not isinstance(item, Clip):
            raise EditError(f"{clip_id!r} is a gap, not a clip")
        return i, item

    def ids(self) -> set[str]:
        """Every id in use: the items', the audio tracks' and their clips'."""
        used = {item.id for item in self.items}
        for track in self.audio_tracks:
            used.add(track.id)
            used.update(clip.id for clip in track.clips)
        return used

    def _fresh_id(self, prefix: str, taken: Iterable[Item] = ()) -> str:
        return fresh_id(prefix, self.ids() | {item.id for item in taken})

    def insert(self, index: int, item: Item) -> Timeline:
        """`item` placed before `items[index]` (`len(items)` appends); later items move on.

        A transition of the inserted clip must fit where it lands; the transition of the
        item now after it resets to a cut if it no longer fits.
        """
        index = frame_arg(index, "an insert position")
        if not 0 <= index <= len(self.items):
            raise EditError(f"insert position {index} is outside 0..{len(self.items)}")
        if not isinstance(item, Clip | Gap):
            raise EditError(f"only clips and gaps go on the video track, not {item!r}")
        new = list(self.items)
        new.insert(index, item)
        return self._with_items(relink(self.items, new, keep=[item.id]), f"insert {item.id!r}")

    def append(self, item: Item) -> Timeline:
        return self.insert(len(self.items), item)

    def move(self, from_index: int, to_index: int) -> Timeline:
        """The item at `from_index` moved so that it ends up at `to_index`.

        Transitions whose clip before changed (the moved clip's own, and those of the clips
        that now follow it or followed it) reset to a cut where they no longer fit.
        """
        count = len(self.items)
        for name, value in (("from", from_index), ("to", to_index)):
            value = frame_arg(value, f"the {name} position")
            if not 0 <= value < count:
                raise EditError(f"{name} position {value} is outside 0..{count - 1}")
        new = list(self.items)
        new.insert(to_index, new.pop(from_index))
        return self._with_items(relink(self.items, new), "move")

    def trim(
        self,
        clip_id: str,
        *,
        source_in: int | None = None,
        source_out: int | None = None,
        ripple: bool = True,
        source_frames: int | None = None,
    ) -> Timeline:
        """The clip with new source in and/or out points.

        With `ripple` everything after the clip moves by the change in length. Without it
        every other item keeps its timeline position: the clip's frames stay where they were,
        and the gap after it (for the out point) or before it (for the in point) grows,
        shrinks, appears or disappears. Such a trim refuses to extend into a neighbouring
        clip, and to open a gap where a transition joins the clip to its neighbour.
        `source_frames`, the take's length, bounds the out point. The clip is then
        `trimmed`: it keeps these points when its shot's length changes.
        """
        i, clip = self._clip(clip_id)
        new_in = clip.source_in if source_in is None else frame_arg(source_in, "source_in")
        new_out = clip.source_out if source_out is None else frame_arg(source_out, "source_out")
        if new_in < 0:
            raise EditError(f"clip {clip_id!r} cannot start before the first frame of its take")
        if new_out <= new_in:
            raise EditError(f"trimming clip {clip_id!r} to {new_in}..{new_out} leaves no frames")
        if source_frames is not None:
            source_frames = frame_arg(source_frames, "source_frames")
            if new_out > source_frames:
                raise EditError(
                    f"clip {clip_id!r} cannot end at frame {new_out}: "
                    f"its take has only {source_frames} frames"
                )
        new = list(self.items)
        new[i] = replace(clip, source_in=new_in, source_out=new_out, trimmed=True)
        action = f"trim clip {clip_id!r}"
        if ripple:
            return self._with_items(new, action)
        # Out point first: it never changes the clip's index, the in point may insert before it.
        self._make_room(new, i, clip.source_out - new_out, after=True)
        self._make_room(new, i, new_in - clip.source_in, after=False)
        return self._with_items(new, action)

    def _make_room(self, items: list[Item], i: int, delta: int, *, after: bool) -> None:
        """Grow (delta > 0) or shrink the space on one side of items[i] by `delta` frames."""
        if delta == 0:
            return
        clip = items[i]
        side = "after" if after else "before"
        j = i + 1 if after else i - 1
        neighbour = items[j] if 0 <= j < len(items) else None
        if neighbour is None:
            if after:
                return  # nothing later to keep in place: the timeline just gets longer or shorter
            if delta < 0:
                raise EditError(f"clip {clip.id!r} starts the timeline: there is no room before it")
            items.insert(i, Gap(self._fresh_id("gap", items), delta))
            return
        if isinstance(neighbour, Gap):
            frames = neighbour.frames + delta
            if frames < 0:
                raise EditError(
                    f"clip {clip.id!r} can grow by only {neighbour.frames} frames {side} it "
                    f"without a ripple trim"
                )
            if frames == 0:
                del items[j]
            else:
                items[j] = replace(neighbour, frames=frames)
            return
        if delta < 0:
            raise EditError(
                f"clip {clip.id!r} would overwrite clip {neighbour.id!r}; "
                "use a ripple trim or a roll"
            )
        joined = neighbour if after else clip
        assert isinstance(joined, Clip)
        if joined.transition.kind is not TransitionKind.CUT:
            raise EditError(
                f"trimming clip {clip.id!r} would open a gap inside the "
                f"{joined.transition.label} into {joined.id!r}; use a ripple trim or set a cut"
            )
        items.insert(j if after else i, Gap(self._fresh_id("gap", items), delta))

    def roll(self, edit_point: int, delta: int, *, source_frames: int | None = None) -> Timeline:
        """The edit between items[edit_point - 1] and items[edit_point] moved by `delta` frames.

        The item before grows by `delta` and the one after shrinks by as much (or the other
        way round when negative), so nothing else moves and the duration stays the same; a
        transition on the edit moves with it. `source_frames` bounds the outgoing clip's out
        point when it grows. Both clips are then `trimmed`.
        """
        edit_point = frame_arg(edit_point, "the edit point")
        delta = frame_arg(delta, "a roll")
        if source_frames is not None:
            source_frames = frame_arg(source_frames, "source_frames")
        if not 1 <= edit_point < len(self.items):
            raise EditError(f"there is no edit point {edit_point} between two items")
        if delta == 0:
            return self
        before, after = self.items[edit_point - 1], self.items[edit_point]
        if isinstance(before, Clip):
            out = before.source_out + delta
            if out <= before.source_in:
                raise EditError(f"rolling by {delta} frames leaves clip {before.id!r} empty")
            if delta > 0 and source_frames is not None and out > source_frames:
                raise EditError(
                    f"clip {before.id!r} cannot end at frame {out}: "
                    f"its take has only {source_frames} frames"
                )
            new_before: Item = replace(before, source_out=out, trimmed=True)
        else:
            if before.frames + delta <= 0:
                raise EditError(f"rolling by {delta} frames leaves gap {before.id!r} empty")
            new_before = replace(before, frames=before.frames + delta)
        if isinstance(after, Clip):
            start = after.source_in + delta
            if start < 0:
                raise EditError(
                    f"clip {after.id!r} cannot start before the first frame of its take"
                )
            if start >= after.source_out:
                raise EditError(f"rolling by {delta} frames leaves clip {after.id!r} empty")
            new_after: Item = replace(after, source_in=start, trimmed=True)
        else:
            if after.frames - delta <= 0:
                raise EditError(f"rolling by {delta} frames leaves gap {after.id!r} empty")
            new_after = replace(after, frames=after.frames - delta)
        new = list(self.items)
        new[edit_point - 1 : edit_point + 1] = [new_before, new_after]
        return self._with_items(new, f"roll the edit before {after.id!r}")

    def split(self, frame: int, new_id: str) -> Timeline:
        """The clip showing at timeline `frame` cut in two there; the second half is `new_id`.

        The halves cover the original exactly; the second starts at `frame` with a cut, and
        the transition out of the clip now leads out of the second half. Splitting at a
        clip's first frame, in a gap, past the end or inside a transition is refused. Both
        halves are `trimmed`: each shows a part of its shot that the user chose.
        """
        hit = self.clip_at(frame)
        if hit is None:
            raise EditError(
                f"nothing to split at frame {frame}: the timeline has {self.duration} frames"
            )
        i, clip, offset = hit
        if isinstance(clip, Gap):
            raise EditError(f"frame {frame} is in a gap; there is no clip to split")
        if offset == 0:
            raise EditError(
                f"frame {frame} is the first frame of clip {clip.id!r}; there is nothing to split"
            )
        if offset < clip.transition.incoming_frames:
            raise EditError(
                f"frame {frame} is inside the {clip.transition.label} into clip {clip.id!r}"
            )
        if clip.duration - offset < tail_use(self.items, i):
            raise EditError(f"frame {frame} is inside the transition out of clip {clip.id!r}")
        cut = clip.source_in + offset
        first = replace(clip, source_out=cut, trimmed=True)
        second = Clip(
            check_id(new_id), clip.shot_id, clip.take_id, cut, clip.source_out, trimmed=True
        )
        new = list(self.items)
        new[i : i + 1] = [first, second]
        return self._with_items(new, f"split clip {clip.id!r}")

    def ripple_delete(self, item_id: str) -> Timeline:
        """The item removed and everything after it moved up to close the space.

        Gaps that become neighbours merge; the transition of the item that now follows the
        one before resets to a cut if it no longer fits.
        """
        i = self.index_of(item_id)
        new = list(self.items)
        del new[i]
        _merge_gaps(new, i)
        return self._with_items(relink(self.items, new), f"delete {item_id!r}")

    def lift(self, clip_id: str) -> Timeline:
        """The clip replaced by a gap so that nothing else moves and the duration stays.

        The clip's transitions go with it. The gap covers the frames the clip showed on its
        own (its length less the crossfades it shared) and merges with neighbouring gaps.
        """
        i, clip = self._clip(clip_id)
        before = self.items[i - 1] if i else None
        after = self.items[i + 1] if i + 1 < len(self.items) else None
        new = list(self.items)
        start, stop = i, i + 1
        frames = clip.duration - clip.transition.overlap
        gap_id = None
        if isinstance(after, Clip):
            frames -= after.transition.overlap
            # The transition needed the lifted clip; keeping it as a crossfade would move `after`.
            new[i + 1] = replace(after, transition=CUT)
        elif isinstance(after, Gap):
            stop, frames, gap_id = i + 2, frames + after.frames, after.id
        if isinstance(before, Gap):
            start, frames, gap_id = i - 1, frames + before.frames, before.id
        filler = [Gap(gap_id or self._fresh_id("gap"), frames)] if frames else []
        new[start:stop] = filler
        return self._with_items(new, f"lift clip {clip_id!r}")

    def set_transition(self, clip_id: str, transition: Transition) -> Timeline:
        """The transition into a clip replaced, refused unless it fits both clips."""
        if not isinstance(transition, Transition):
            raise EditError(f"expected a Transition, not {transition!r}")
        i, clip = self._clip(clip_id)
        if transition.kind is not TransitionKind.CUT:
            prev = self.items[i - 1] if i else None
            if prev is None:
                raise EditError(
                    f"clip {clip_id!r} starts the timeline: there is nothing to "
                    f"{transition.label} from"
                )
            if isinstance(prev, Gap):
                raise EditError(
                    f"clip {clip_id!r} follows a gap: a {transition.label} needs a clip before it"
                )
            free = prev.duration - head_use(prev)
            if transition.outgoing_frames > free:
                raise EditError(
                    f"a {transition.label} of {transition.frames} frames needs "
                    f"{transition.outgoing_frames} frames of clip {prev.id!r}, which has "
                    f"only {free} free"
                )
            free = clip.duration - tail_use(self.items, i)
            if transition.incoming_frames > free:
                raise EditError(
                    f"a {transition.label} of {transition.frames} frames needs "
                    f"{transition.incoming_frames} frames of clip {clip_id!r}, which has "
                    f"only {free} free"
                )
        new = list(self.items)
        new[i] = replace(clip, transition=transition)
        return self._with_items(new, f"set the transition into {clip_id!r}")

    def replace_clip(self, clip: Clip) -> Timeline:
        """The clip with the same id replaced by `clip` (its take, range or transition)."""
        if not isinstance(clip, Clip):
            raise EditError(f"expected a Clip, not {clip!r}")
        i, _ = self._clip(clip.id)
        new = list(self.items)
        new[i] = clip
        return self._with_items(new, f"replace clip {clip.id!r}")


# -- JSON --------------------------------------------------------------------------------


def timeline_to_dict(tl: Timeline) -> dict[str, Any]:
    """The JSON form of a timeline; `timeline_from_dict` reads it back to an equal one."""
    return {
        "fps": v.fraction_to_json(tl.fps),
        "items": [item_to_dict(item) for item in tl.items],
        "audio_tracks": [audio_track_to_dict(track) for track in tl.audio_tracks],
        **markers_to_dict(tl.markers, tl.mark_in, tl.mark_out),
    }


def _read_fps(d: dict[str, Any], path: str) -> Fraction:
    try:
        return v.get_fraction(d, "fps", path, Fraction(24))
    except ValueError:
        # int() refuses digit strings it cannot read (superscripts, thousands of digits).
        raise ProjectError(f"{path}.fps", 'expected a rate such as "24000/1001"') from None


def timeline_from_dict(data: Any, path: str = "$.timeline") -> Timeline:
    """Read a timeline strictly: any problem raises `ProjectError` naming its JSON path.

    Every field is optional except the ids and source ranges of clips, gaps, audio tracks
    and audio clips; an empty object is an empty timeline at 24 fps.
    """
    d = v.expect_dict(data, path, ("fps", "items", "audio_tracks", *MARKER_KEYS))
    fps = _read_fps(d, path)
    items = tuple(v.get_list_of(d, "items", path, item_from_dict, default=()))
    tracks = tuple(v.get_list_of(d, "audio_tracks", path, audio_track_from_dict, default=()))
    markers, mark_in, mark_out = read_markers(d, path)
    return build(lambda: Timeline(fps, items, tracks, markers, mark_in, mark_out), path)
