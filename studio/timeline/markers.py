"""Markers and the in and out points of a timeline.

A marker names a timeline frame (a beat, a cue, a note to self): an id, the frame, a name
and one of a few colours. The in and out points mark a part of the edit, the frames
`mark_in` up to `mark_out` (exclusive), to export that part alone. Both mark the
timeline's time, not a clip: they stay where they were put when clips move.

`Timeline` has these edits through `MarkerEdits`; like its other edits each returns a new
timeline and raises `EditError` (changing nothing) when it cannot be applied. The JSON
(`markers_to_dict`, `read_markers`) is written only when there are markers or marks, so
the file of a timeline without any stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from studio.errors import EditError
from studio.ids import fresh_id
from studio.project import validate as v
from studio.timeline.items import (
    MAX_FRAMES,
    InvalidValue,
    _check_frames,
    build,
    check_id,
    distinct,
    frame_arg,
)

if TYPE_CHECKING:
    from studio.timeline.timeline import Timeline

MAX_NAME = 200  # characters of a marker's name


class MarkerColour(StrEnum):
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    GREEN = "green"
    BLUE = "blue"
    PURPLE = "purple"


@dataclass(frozen=True)
class Marker:
    """A named, coloured mark at a timeline frame."""

    id: str
    frame: int
    name: str = ""
    colour: MarkerColour = MarkerColour.BLUE

    def __post_init__(self) -> None:
        check_id(self.id)
        _check_frames(self.frame, "frame")
        if not isinstance(self.name, str):
            raise InvalidValue("name", f"a marker's name must be text, not {v.quote(self.name)}")
        if len(self.name) > MAX_NAME or "\n" in self.name:
            raise InvalidValue(
                "name", f"a marker's name is one line of at most {MAX_NAME} characters"
            )
        try:
            object.__setattr__(self, "colour", MarkerColour(self.colour))
        except (ValueError, TypeError):
            choices = ", ".join(c.value for c in MarkerColour)
            raise InvalidValue("colour", f"a marker's colour is one of {choices}") from None


def check_markers(markers: object) -> tuple[Marker, ...]:
    """The markers sorted by frame (then id), each a `Marker` with an id of its own."""
    items = distinct(markers, "markers", Marker, "marker")
    return tuple(sorted(items, key=lambda m: (m.frame, m.id)))


def check_marks(mark_in: object, mark_out: object) -> None:
    """In and out points: each a frame or None, the in point before the out point."""
    for name, value in (("mark_in", mark_in), ("mark_out", mark_out)):
        if value is not None:
            _check_frames(value, name)
    if mark_in is not None and mark_out is not None and mark_out <= mark_in:
        raise InvalidValue(
            "mark_out", f"the out point (frame {mark_out}) must come after the in point ({mark_in})"
        )


class MarkerEdits:
    """The marker and in/out edits of `Timeline` (its `markers`, `mark_in`, `mark_out`)."""

    def marker(self, marker_id: str) -> Marker:
        for marker in self.markers:
            if marker.id == marker_id:
                return marker
        raise EditError(f"the timeline has no marker {marker_id!r}")

    def fresh_marker_id(self) -> str:
        return fresh_id("marker", {m.id for m in self.markers})

    def _with_markers(self, markers: Iterable[Marker], action: str) -> Timeline:
        try:
            return replace(self, markers=tuple(markers))
        except EditError as exc:
            raise EditError(f"cannot {action}: {exc}") from None

    def add_marker(self, marker: Marker) -> Timeline:
        if not isinstance(marker, Marker):
            raise EditError(f"expected a Marker, not {marker!r}")
        if any(m.id == marker.id for m in self.markers):
            raise EditError(f"the timeline already has a marker {marker.id!r}")
        return self._with_markers((*self.markers, marker), f"add marker {marker.id!r}")

    def replace_marker(self, marker: Marker) -> Timeline:
        """The marker with the same id replaced (its name, colour or frame)."""
        if not isinstance(marker, Marker):
            raise EditError(f"expected a Marker, not {marker!r}")
        self.marker(marker.id)
        others = [m for m in self.markers if m.id != marker.id]
        return self._with_markers((*others, marker), f"change marker {marker.id!r}")

    def remove_marker(self, marker_id: str) -> Timeline:
        self.marker(marker_id)
        kept = [m for m in self.markers if m.id != marker_id]
        return self._with_markers(kept, f"remove marker {marker_id!r}")

    def marker_after(self, frame: int) -> Marker | None:
        """The first marker later than `frame`, if any."""
        return next((m for m in self.markers if m.frame > frame), None)

    def marker_before(self, frame: int) -> Marker | None:
        """The last marker earlier than `frame`, if any."""
        return next((m for m in reversed(self.markers) if m.frame < frame), None)

    def set_marks(self, mark_in: int | None, mark_out: int | None) -> Timeline:
        """Both points at once (None clears one); the in point must precede the out point."""
        for name, value in (("in point", mark_in), ("out point", mark_out)):
            if value is not None:
                frame_arg(value, f"the {name}")
        try:
            return replace(self, mark_in=mark_in, mark_out=mark_out)
        except EditError as exc:
            raise EditError(f"cannot set the in and out points: {exc}") from None

    def set_mark_in(self, frame: int) -> Timeline:
        """The in point at `frame`; an out point at or before it is cleared."""
        frame = frame_arg(frame, "the in point")
        out = self.mark_out if self.mark_out is not None and self.mark_out > frame else None
        return self.set_marks(frame, out)

    def set_mark_out(self, frame: int) -> Timeline:
        """The out point at `frame` (the first frame not included); an in point at or
        after it is cleared."""
        frame = frame_arg(frame, "the out point")
        start = self.mark_in if self.mark_in is not None and self.mark_in < frame else None
        return self.set_marks(start, frame)

    def marked_range(self) -> tuple[int, int] | None:
        """The frames from the in point (else the start) to the out point (else the end),
        within the edit; None without marks, or when they leave no frame of the edit."""
        if self.mark_in is None and self.mark_out is None:
            return None
        start = self.mark_in or 0
        stop = self.duration if self.mark_out is None else min(self.mark_out, self.duration)
        return (start, stop) if start < stop else None


# -- JSON --------------------------------------------------------------------------------

MARKER_KEYS = ("markers", "mark_in", "mark_out")


def markers_to_dict(markers: tuple[Marker, ...], mark_in: int | None, mark_out: int | None):
    """The timeline's optional JSON keys for its markers and marks."""
    out: dict[str, Any] = {}
    if markers:
        out["markers"] = [
            {"id": m.id, "frame": m.frame, "name": m.name, "colour": m.colour.value}
            for m in markers
        ]
    if mark_in is not None:
        out["mark_in"] = mark_in
    if mark_out is not None:
        out["mark_out"] = mark_out
    return out


def marker_from_dict(data: Any, path: str) -> Marker:
    d = v.expect_dict(data, path, ("id", "frame", "name", "colour"))
    ident = v.get_str(d, "id", path, nonempty=True)
    frame = v.get_int(d, "frame", path, min_value=0, max_value=MAX_FRAMES)
    name = v.get_str(d, "name", path, "")
    colour = v.get_enum(d, "colour", path, MarkerColour, MarkerColour.BLUE)
    return build(lambda: Marker(ident, frame, name, colour), path)


def read_markers(d: dict[str, Any], path: str) -> tuple[tuple[Marker, ...], int | None, int | None]:
    """The markers and the in and out points of a timeline's JSON (all optional)."""
    markers = tuple(v.get_list_of(d, "markers", path, marker_from_dict, default=()))
    marks = []
    for key in ("mark_in", "mark_out"):
        value = d.get(key)
        marks.append(
            None if value is None else v.get_int(d, key, path, min_value=0, max_value=MAX_FRAMES)
        )
    return markers, marks[0], marks[1]
