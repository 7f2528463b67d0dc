"""The pieces of a timeline: clips, gaps, transitions, audio clips and tracks, and their JSON.

All frozen; every constructor checks its own values and raises `InvalidValue` (an `EditError`)
naming the offending field, which the JSON readers turn into a `ProjectError` at the JSON path
of that value. `studio.timeline.timeline` assembles them into a `Timeline` and edits it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from studio.errors import EditError, ProjectError
from studio.project import validate as v

# Wide enough for any real mix, narrow enough that 10 ** (gain / 20) never overflows a mixer.
MIN_GAIN_DB = -120.0
MAX_GAIN_DB = 48.0
# The longest thing a timeline can mean: 24 hours at the highest rate (1000 fps). Any frame
# count or position past it is damage, and the arithmetic, timecode and export loops that
# run over frames stay finite and fast below it.
MAX_FRAMES = 24 * 60 * 60 * 1000


class InvalidValue(EditError):
    """A value breaks a rule of the model.

    `field` is where, relative to the object being built: "source_out",
    "items[2].transition.frames", "clips[1].start". `timeline_from_dict` prefixes it with
    the JSON path of that object to name the bad value.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class TransitionKind(StrEnum):
    CUT = "cut"
    CROSSFADE = "crossfade"
    DIP_BLACK = "dip_black"
    DIP_WHITE = "dip_white"


_KIND_LABEL = {
    TransitionKind.CUT: "cut",
    TransitionKind.CROSSFADE: "crossfade",
    TransitionKind.DIP_BLACK: "dip to black",
    TransitionKind.DIP_WHITE: "dip to white",
}


def check_id(value: object, field: str = "id") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(field, f"an id must be a non-empty string, not {v.quote(value)}")
    return value


def _check_frames(value: object, field: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(field, f"{field} must be a whole number of frames, not {v.quote(value)}")
    if value < minimum:
        raise InvalidValue(field, f"{field} must be at least {minimum}, not {v.quote(value)}")
    if value > MAX_FRAMES:
        raise InvalidValue(
            field,
            f"{field} must be at most {MAX_FRAMES} (24 hours at 1000 fps), not {v.quote(value)}",
        )
    return value


def _check_source(source_in: object, source_out: object, what: str, ident: str) -> None:
    """Frames `source_in`..`source_out` of the source of `what` `ident`: whole, in range
    and at least one."""
    _check_frames(source_in, "source_in")
    _check_frames(source_out, "source_out")
    if source_out <= source_in:
        raise InvalidValue(
            "source_out",
            f"{what} {ident!r} must end after it starts: "
            f"source_out {source_out} <= source_in {source_in}",
        )


def _check_gain(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(field, f"{field} must be a number of decibels, not {value!r}")
    # Compare before converting: float() of a huge int raises OverflowError.
    if not MIN_GAIN_DB <= value <= MAX_GAIN_DB:
        raise InvalidValue(field, f"{field} must be between {MIN_GAIN_DB} and {MAX_GAIN_DB} dB")
    return float(value)


def _check_media(value: object, field: str) -> str:
    """A path relative to the project folder, with forward slashes, that cannot escape it."""
    problem = v.relative_path_problem(value)
    if problem is not None:
        raise InvalidValue(field, f"media: {problem}")
    return value  # type: ignore[return-value]


def as_tuple(value: object, field: str) -> tuple[Any, ...]:
    if isinstance(value, tuple):
        return value
    if isinstance(value, list):
        return tuple(value)
    raise InvalidValue(field, f"{field} must be a tuple, not {type(value).__name__}")


def distinct(value: object, field: str, kind: type, what: str) -> tuple[Any, ...]:
    """`value` as a tuple of `kind` items whose ids are all different, else InvalidValue
    naming the first item at fault (`what` names the items in the message)."""
    items = as_tuple(value, field)
    seen: set[str] = set()
    for k, item in enumerate(items):
        if not isinstance(item, kind):
            raise InvalidValue(f"{field}[{k}]", f"expected a {kind.__name__}, not {item!r}")
        if item.id in seen:
            raise InvalidValue(f"{field}[{k}].id", f"{what} id {item.id!r} is used twice")
        seen.add(item.id)
    return items


def frame_arg(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise EditError(f"{what} must be a whole number of frames, not {value!r}")
    return value


@dataclass(frozen=True)
class Transition:
    """How the picture changes into a clip from the clip before it."""

    kind: TransitionKind = TransitionKind.CUT
    frames: int = 0

    def __post_init__(self) -> None:
        try:
            kind = TransitionKind(self.kind)
        except (ValueError, TypeError):
            choices = ", ".join(k.value for k in TransitionKind)
            raise InvalidValue("kind", f"transition must be one of {choices}") from None
        object.__setattr__(self, "kind", kind)
        frames = _check_frames(self.frames, "frames")
        if kind is TransitionKind.CUT and frames != 0:
            raise InvalidValue("frames", f"a cut has no length, not {frames} frames")
        if kind is not TransitionKind.CUT and frames == 0:
            raise InvalidValue("frames", f"a {_KIND_LABEL[kind]} needs at least one frame")

    @property
    def label(self) -> str:
        return _KIND_LABEL[self.kind]

    @property
    def overlap(self) -> int:
        """Frames by which the two clips overlap on the timeline (crossfades only)."""
        return self.frames if self.kind is TransitionKind.CROSSFADE else 0

    @property
    def outgoing_frames(self) -> int:
        """Frames at the end of the outgoing clip that the transition uses."""
        if self.kind is TransitionKind.CROSSFADE:
            return self.frames
        return self.frames // 2

    @property
    def incoming_frames(self) -> int:
        """Frames at the start of the incoming clip that the transition uses."""
        if self.kind is TransitionKind.CROSSFADE:
            return self.frames
        return self.frames - self.frames // 2


CUT = Transition()


@dataclass(frozen=True)
class Clip:
    """Frames `source_in` (inclusive) to `source_out` (exclusive) of a take of a shot.

    `take_id` is None while the shot has no take yet. `transition` leads into this clip
    from the item before it and must be a cut for the first item or after a gap.

    `trimmed` records that the user chose the clip's in or out point (a trim, a roll, a
    split). It is stored rather than guessed from the range, since a range alone cannot
    tell a trim from a clip made before its shot's length changed. An untrimmed clip shows
    its whole shot: when the shot's duration changes, the clip follows
    (`studio.timeline.shot_order.fit_to_shot`). Files without the flag read as untrimmed.
    """

    id: str
    shot_id: str
    take_id: str | None
    source_in: int
    source_out: int
    transition: Transition = CUT
    # Match the colour and exposure of this clip's first frames to the clip before it.
    match_colour: bool = False
    trimmed: bool = False

    def __post_init__(self) -> None:
        check_id(self.id)
        check_id(self.shot_id, "shot_id")
        for name in ("match_colour", "trimmed"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise InvalidValue(name, f"expected true or false, not {value!r}")
        if self.take_id is not None:
            check_id(self.take_id, "take_id")
        _check_source(self.source_in, self.source_out, "clip", self.id)
        if not isinstance(self.transition, Transition):
            raise InvalidValue("transition", f"expected a Transition, not {self.transition!r}")

    @property
    def duration(self) -> int:
        return self.source_out - self.source_in


@dataclass(frozen=True)
class Gap:
    """Empty (black, silent) frames on the video track."""

    id: str
    frames: int

    def __post_init__(self) -> None:
        check_id(self.id)
        _check_frames(self.frames, "frames", minimum=1)

    @property
    def duration(self) -> int:
        return self.frames


Item = Clip | Gap


@dataclass(frozen=True)
class AudioClip:
    """Frames `source_in`..`source_out` (at the timeline's rate) of a sound file, placed at
    timeline frame `start`, with a gain and linear fades measured in frames."""

    id: str
    media: str
    start: int
    source_in: int
    source_out: int
    gain_db: float = 0.0
    fade_in: int = 0
    fade_out: int = 0

    def __post_init__(self) -> None:
        check_id(self.id)
        _check_media(self.media, "media")
        _check_frames(self.start, "start")
        _check_source(self.source_in, self.source_out, "audio clip", self.id)
        object.__setattr__(self, "gain_db", _check_gain(self.gain_db, "gain_db"))
        _check_frames(self.fade_in, "fade_in")
        _check_frames(self.fade_out, "fade_out")
        if self.end > MAX_FRAMES:
            raise InvalidValue(
                "start",
                f"audio clip {self.id!r} ends after frame {MAX_FRAMES} (24 hours at 1000 fps)",
            )
        if self.fade_in + self.fade_out > self.duration:
            raise InvalidValue(
                "fade_out",
                f"audio clip {self.id!r} is {self.duration} frames long, too short for "
                f"fades of {self.fade_in} + {self.fade_out} frames",
            )

    @property
    def duration(self) -> int:
        return self.source_out - self.source_in

    @property
    def end(self) -> int:
        """The timeline frame just after the clip."""
        return self.start + self.duration


@dataclass(frozen=True)
class AudioTrack:
    """A track of audio clips sorted by start and never overlapping."""

    id: str
    name: str
    clips: tuple[AudioClip, ...] = ()
    gain_db: float = 0.0
    muted: bool = False

    def __post_init__(self) -> None:
        check_id(self.id)
        if not isinstance(self.name, str):
            raise InvalidValue("name", f"a track name must be a string, not {self.name!r}")
        clips = distinct(self.clips, "clips", AudioClip, "audio clip")
        object.__setattr__(self, "clips", clips)
        for j, clip in enumerate(clips):
            if j and clip.start < clips[j - 1].end:
                prev = clips[j - 1]
                raise InvalidValue(
                    f"clips[{j}].start",
                    f"audio clip {clip.id!r} starts at frame {clip.start}, before "
                    f"{prev.id!r} (frames {prev.start}-{prev.end}) ends",
                )
        object.__setattr__(self, "gain_db", _check_gain(self.gain_db, "gain_db"))
        if not isinstance(self.muted, bool):
            raise InvalidValue("muted", f"muted must be true or false, not {self.muted!r}")

    def index_of(self, clip_id: str) -> int:
        for j, clip in enumerate(self.clips):
            if clip.id == clip_id:
                return j
        raise EditError(f"audio track {self.name or self.id!r} has no clip {clip_id!r}")


def head_use(item: Item) -> int:
    return item.transition.incoming_frames if isinstance(item, Clip) else 0


def tail_use(items: Sequence[Item], i: int) -> int:
    after = items[i + 1] if i + 1 < len(items) else None
    return after.transition.outgoing_frames if isinstance(after, Clip) else 0


def check_transitions(items: Sequence[Item]) -> None:
    """Transitions only between two clips, and each clip long enough for both of its own."""
    for i, item in enumerate(items):
        if not isinstance(item, Clip):
            continue
        t = item.transition
        if t.kind is not TransitionKind.CUT:
            prev = items[i - 1] if i else None
            if prev is None:
                raise InvalidValue(
                    f"items[{i}].transition.kind",
                    f"clip {item.id!r} starts the timeline: it cannot have a {t.label} into it",
                )
            if isinstance(prev, Gap):
                raise InvalidValue(
                    f"items[{i}].transition.kind",
                    f"clip {item.id!r} follows a gap: a {t.label} needs a clip before it",
                )
        head, tail = t.incoming_frames, tail_use(items, i)
        if head + tail > item.duration:
            # Blame the transition out of the clip when there is one: it is the later of the two.
            blamed = i + 1 if tail else i
            raise InvalidValue(
                f"items[{blamed}].transition.frames",
                f"clip {item.id!r} is {item.duration} frames long, too short for its "
                f"transitions ({head} frames at its start, {tail} at its end)",
            )


def check_unique_ids(items: Sequence[Item], tracks: Sequence[AudioTrack]) -> None:
    fields: list[tuple[str, str]] = [(f"items[{i}].id", item.id) for i, item in enumerate(items)]
    for t, track in enumerate(tracks):
        fields.append((f"audio_tracks[{t}].id", track.id))
        fields.extend(
            (f"audio_tracks[{t}].clips[{j}].id", clip.id) for j, clip in enumerate(track.clips)
        )
    seen: set[str] = set()
    for field, ident in fields:
        if ident in seen:
            raise InvalidValue(field, f"id {ident!r} is already used in this timeline")
        seen.add(ident)


def relink(old: Sequence[Item], new: list[Item], keep: Iterable[str] = ()) -> list[Item]:
    """Reset to a cut each transition whose preceding item changed and that no longer fits.

    Transitions named in `keep` are left for validation to accept or refuse. Resetting only
    ever frees frames, so transitions checked earlier in the pass stay valid.
    """
    before = {item.id: old[i - 1].id if i else None for i, item in enumerate(old)}
    kept = set(keep)
    for j, item in enumerate(new):
        if not isinstance(item, Clip) or item.transition.kind is TransitionKind.CUT:
            continue
        prev_id = new[j - 1].id if j else None
        if item.id in kept or (item.id in before and before[item.id] == prev_id):
            continue
        if not transition_fits(new, j):
            new[j] = replace(item, transition=CUT)
    return new


def transition_fits(items: Sequence[Item], j: int) -> bool:
    """Whether the transition into items[j] is allowed where it now stands."""
    item = items[j]
    assert isinstance(item, Clip)
    t = item.transition
    prev = items[j - 1] if j else None
    if not isinstance(prev, Clip):
        return False
    if head_use(prev) + t.outgoing_frames > prev.duration:
        return False
    return t.incoming_frames + tail_use(items, j) <= item.duration


# -- JSON --------------------------------------------------------------------------------


def transition_to_dict(t: Transition) -> dict[str, Any]:
    return {"kind": t.kind.value, "frames": t.frames}


def item_to_dict(item: Item) -> dict[str, Any]:
    if isinstance(item, Gap):
        return {"type": "gap", "id": item.id, "frames": item.frames}
    return {
        "type": "clip",
        "id": item.id,
        "shot_id": item.shot_id,
        "take_id": item.take_id,
        "source_in": item.source_in,
        "source_out": item.source_out,
        "transition": transition_to_dict(item.transition),
        **({"match_colour": True} if item.match_colour else {}),
        **({"trimmed": True} if item.trimmed else {}),
    }


def audio_clip_to_dict(clip: AudioClip) -> dict[str, Any]:
    return {
        "id": clip.id,
        "media": clip.media,
        "start": clip.start,
        "source_in": clip.source_in,
        "source_out": clip.source_out,
        "gain_db": clip.gain_db,
        "fade_in": clip.fade_in,
        "fade_out": clip.fade_out,
    }


def audio_track_to_dict(track: AudioTrack) -> dict[str, Any]:
    return {
        "id": track.id,
        "name": track.name,
        "gain_db": track.gain_db,
        "muted": track.muted,
        "clips": [audio_clip_to_dict(clip) for clip in track.clips],
    }


def build(make: Any, path: str) -> Any:
    """Call a constructor, turning a broken rule into a ProjectError at the value's path."""
    try:
        return make()
    except InvalidValue as exc:
        raise ProjectError(f"{path}.{exc.field}", str(exc)) from None
    except EditError as exc:
        raise ProjectError(path, str(exc)) from None


def get_gain(d: dict[str, Any], path: str) -> float:
    value = d.get("gain_db", 0.0)
    # check_float converts before comparing, which overflows on huge integers.
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and not MIN_GAIN_DB <= value <= MAX_GAIN_DB
    ):
        raise ProjectError(f"{path}.gain_db", f"must be between {MIN_GAIN_DB} and {MAX_GAIN_DB} dB")
    return v.get_float(d, "gain_db", path, 0.0, min_value=MIN_GAIN_DB, max_value=MAX_GAIN_DB)


def read_id(d: dict[str, Any], key: str, path: str) -> str:
    return v.get_str(d, key, path, nonempty=True)


def transition_from_dict(data: Any, path: str) -> Transition:
    d = v.expect_dict(data, path, ("kind", "frames"))
    kind = v.get_enum(d, "kind", path, TransitionKind)
    frames = v.get_int(d, "frames", path, 0, min_value=0, max_value=MAX_FRAMES)
    return build(lambda: Transition(kind, frames), path)


def item_from_dict(data: Any, path: str) -> Item:
    d = v.expect_dict(data, path)
    kind = v.get_str(d, "type", path)
    if kind == "gap":
        v.expect_dict(d, path, ("type", "id", "frames"))
        ident = read_id(d, "id", path)
        frames = v.get_int(d, "frames", path, min_value=1, max_value=MAX_FRAMES)
        return build(lambda: Gap(ident, frames), path)
    if kind != "clip":
        raise ProjectError(f"{path}.type", f"expected 'clip' or 'gap', found {kind!r}")
    keys = ("type", "id", "shot_id", "take_id", "source_in", "source_out", "transition")
    v.expect_dict(d, path, (*keys, "match_colour", "trimmed"))
    ident = read_id(d, "id", path)
    shot_id = read_id(d, "shot_id", path)
    take_id = v.get_optional_str(d, "take_id", path)
    source_in = v.get_int(d, "source_in", path, min_value=0, max_value=MAX_FRAMES)
    source_out = v.get_int(d, "source_out", path, min_value=1, max_value=MAX_FRAMES)
    transition = CUT
    if "transition" in d:
        transition = transition_from_dict(d["transition"], f"{path}.transition")
    match = v.get_bool(d, "match_colour", path, default=False)
    trimmed = v.get_bool(d, "trimmed", path, default=False)
    return build(
        lambda: Clip(ident, shot_id, take_id, source_in, source_out, transition, match, trimmed),
        path,
    )


def audio_clip_from_dict(data: Any, path: str) -> AudioClip:
    keys = ("id", "media", "start", "source_in", "source_out", "gain_db", "fade_in", "fade_out")
    d = v.expect_dict(data, path, keys)
    ident = read_id(d, "id", path)
    media = v.get_str(d, "media", path, nonempty=True)
    start = v.get_int(d, "start", path, min_value=0, max_value=MAX_FRAMES)
    source_in = v.get_int(d, "source_in", path, min_value=0, max_value=MAX_FRAMES)
    source_out = v.get_int(d, "source_out", path, min_value=1, max_value=MAX_FRAMES)
    gain = get_gain(d, path)
    fade_in = v.get_int(d, "fade_in", path, 0, min_value=0, max_value=MAX_FRAMES)
    fade_out = v.get_int(d, "fade_out", path, 0, min_value=0, max_value=MAX_FRAMES)
    return build(
        lambda: AudioClip(ident, media, start, source_in, source_out, gain, fade_in, fade_out),
        path,
    )


def audio_track_from_dict(data: Any, path: str) -> AudioTrack:
    d = v.expect_dict(data, path, ("id", "name", "gain_db", "muted", "clips"))
    ident = read_id(d, "id", path)
    name = v.get_str(d, "name", path, "")
    gain = get_gain(d, path)
    muted = v.get_bool(d, "muted", path, False)
    clips = tuple(v.get_list_of(d, "clips", path, audio_clip_from_dict, default=()))
    return build(lambda: AudioTrack(ident, name, clips, gain, muted), path)
