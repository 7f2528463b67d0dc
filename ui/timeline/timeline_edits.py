"""The timeline view's edits other than mouse drags: split, ripple delete and lift, the
transition and colour match at a join, a clip back to its shot's length, markers, and the
in and out points.

Each is a `studio.timeline.timeline` operation pushed by `TimelineView._apply` as one undo
step; an edit the timeline refuses shows its reason in the status line and changes nothing.
`TimelineView` has these methods through `TimelineEdits`; its keys, toolbar and context
menus (`ui.timeline.timeline_menus`) call them.
"""

from __future__ import annotations

from dataclasses import replace

from studio.errors import EditError
from studio.timeline.timecode import nominal_rate, timecode
from studio.timeline.timeline import Clip, Marker, MarkerColour, Transition, TransitionKind

TRANSITION_KINDS = [
    ("Cut", TransitionKind.CUT),
    ("Crossfade", TransitionKind.CROSSFADE),
    ("Dip to black", TransitionKind.DIP_BLACK),
    ("Dip to white", TransitionKind.DIP_WHITE),
]
COMMON_LENGTHS = (6, 12, 18, 24, 36, 48)  # transition lengths offered in frames
MARKER_COLOURS = [
    ("Red", MarkerColour.RED),
    ("Orange", MarkerColour.ORANGE),
    ("Yellow", MarkerColour.YELLOW),
    ("Green", MarkerColour.GREEN),
    ("Blue", MarkerColour.BLUE),
    ("Purple", MarkerColour.PURPLE),
]
MARK_HELP = (
    "\nMarks: M adds a marker at the playhead (double-click it to rename, right-click for "
    "its colour or to delete it); Shift+M and Ctrl+Shift+M go to the next and previous "
    "marker; I and O set the in and out points at the playhead, Alt+X clears them. "
    "Right-click a clip, a join between two clips or the ruler for more."
)


class TimelineEdits:
    """Edits of `TimelineView` (which supplies `timeline`, `layout_`, `playhead`,
    `selected_id`, `select`, `message`, `_apply` and `_fresh_id`)."""

    marker_colour = MarkerColour.BLUE  # new markers take the colour last chosen

    def _clip_by_id(self, clip_id: str) -> Clip | None:
        i = self.layout_.index.get(clip_id)
        item = self.layout_.items[i] if i is not None else None
        return item if isinstance(item, Clip) else None

    # -- clips ---------------------------------------------------------------------------
    def split_at_playhead(self) -> bool:
        hit = (
            self.timeline.clip_at(self.playhead) if self.playhead < self.layout_.duration else None
        )
        if hit is None or not isinstance(hit[1], Clip):
            self.message.emit("Put the playhead over a clip to split it")
            return False
        new_id = self._fresh_id(hit[1].id)
        return self._apply(lambda: self.timeline.split(self.playhead, new_id), "Split clip")

    def split_clip(self, clip_id: str) -> bool:
        """Split this clip at the playhead (which must be inside it)."""
        i = self.layout_.index.get(clip_id)
        if i is None or not bool(self.layout_.starts[i] < self.playhead < self.layout_.ends[i]):
            self.message.emit("Put the playhead inside the clip to split it there")
            return False
        new_id = self._fresh_id(clip_id)
        return self._apply(lambda: self.timeline.split(self.playhead, new_id), "Split clip")

    def _remove(self, lift: bool) -> bool:
        i = self.layout_.index.get(self.selected_id)
        if i is None:
            self.message.emit("Select a clip first")
            return False
        if lift:
            ok = self._apply(lambda: self.timeline.lift(self.selected_id), "Lift clip")
        else:
            ok = self._apply(lambda: self.timeline.ripple_delete(self.selected_id), "Ripple delete")
        if ok and self.layout_.items:
            self.select(self.layout_.items[min(i, len(self.layout_.items) - 1)].id)
        return ok

    def ripple_delete(self) -> bool:
        return self._remove(lift=False)

    def lift(self) -> bool:
        return self._remove(lift=True)

    def fit_clip_to_shot(self, clip_id: str) -> bool:
        """Undo the clip's trims: it shows its whole shot again and follows its length."""
        clip = self._clip_by_id(clip_id)
        shot = self.layout_.shots.get(clip.shot_id) if clip is not None else None
        if clip is None or shot is None:
            return False
        frames = max(1, round(shot.duration * self.timeline.fps))
        whole = replace(clip, source_in=0, source_out=frames, trimmed=False)
        return self._apply(lambda: self.timeline.replace_clip(whole), "Follow the shot's length")

    # -- joins ---------------------------------------------------------------------------
    def default_transition_frames(self) -> int:
        return max(1, nominal_rate(self.timeline.fps) // 2)

    def set_transition(self, kind: TransitionKind, frames: int) -> bool:
        """Set the transition into the selected clip (a cut ignores `frames`)."""
        clip = self.selected_clip()
        if clip is None:
            self.message.emit("Select a clip to set the transition into it")
            return False
        return self.set_join_transition(clip.id, kind, frames)

    def set_join_transition(
        self, clip_id: str, kind: TransitionKind, frames: int | None = None
    ) -> bool:
        """The transition into a clip from the one before it. Without `frames` a new
        transition keeps the length of the one it replaces (half a second after a cut)."""
        clip = self._clip_by_id(clip_id)
        if clip is None:
            return False
        kind = TransitionKind(kind)
        if kind is TransitionKind.CUT:
            transition, text = Transition(), "Remove transition"
        else:
            current = clip.transition
            if frames is None:
                cut = current.kind is TransitionKind.CUT
                frames = self.default_transition_frames() if cut else current.frames
            transition = Transition(kind, frames)
            text = f"Set {transition.label}"
        return self._apply(lambda: self.timeline.set_transition(clip_id, transition), text)

    def set_join_length(self, clip_id: str, frames: int) -> bool:
        """The length in frames of the transition into a clip (not a cut)."""
        clip = self._clip_by_id(clip_id)
        if clip is None:
            return False
        if clip.transition.kind is TransitionKind.CUT:
            self.message.emit("A cut has no length: choose a transition first")
            return False
        transition = Transition(clip.transition.kind, frames)
        return self._apply(
            lambda: self.timeline.set_transition(clip_id, transition), "Transition length"
        )

    def transition_fits(self, clip_id: str, transition: Transition) -> bool:
        """Whether the join into the clip has room for `transition`."""
        try:
            self.timeline.set_transition(clip_id, transition)
        except EditError:  # the clips are too short for it
            return False
        return True

    def set_match_colour(self, on: bool) -> bool:
        """Match the selected clip's colour to the clip before it at their join."""
        clip = self.selected_clip()
        if clip is None:
            self.message.emit("Select a clip to match its colour to the clip before it")
            return False
        return self.set_clip_match_colour(clip.id, on)

    def set_clip_match_colour(self, clip_id: str, on: bool) -> bool:
        clip = self._clip_by_id(clip_id)
        if clip is None:
            return False
        if clip.match_colour == on:
            return True
        return self._apply(
            lambda: self.timeline.replace_clip(replace(clip, match_colour=on)),
            "Match colour at the join" if on else "Unmatch colour at the join",
        )

    # -- markers -------------------------------------------------------------------------
    def add_marker(self, frame: int | None = None, name: str = "") -> str:
        """A marker at `frame` (default: the playhead); its id, or "" when refused."""
        frame = self.playhead if frame is None else frame
        if any(m.frame == frame for m in self.timeline.markers):
            self.message.emit(f"There is a marker at {timecode(frame, self.timeline.fps)} already")
            return ""
        marker_id = self.timeline.fresh_marker_id()
        name = name or f"Marker {len(self.timeline.markers) + 1}"
        marker = Marker(marker_id, frame, name, self.marker_colour)
        ok = self._apply(lambda: self.timeline.add_marker(marker), "Add marker")
        return marker_id if ok else ""

    def _change_marker(self, marker_id: str, text: str, **fields) -> bool:
        def make():
            return self.timeline.replace_marker(replace(self.timeline.marker(marker_id), **fields))

        return self._apply(make, text)

    def rename_marker(self, marker_id: str, name: str) -> bool:
        return self._change_marker(marker_id, "Rename marker", name=name.strip())

    def recolour_marker(self, marker_id: str, colour: MarkerColour) -> bool:
        self.marker_colour = MarkerColour(colour)
        return self._change_marker(marker_id, "Marker colour", colour=MarkerColour(colour))

    def delete_marker(self, marker_id: str) -> bool:
        return self._apply(lambda: self.timeline.remove_marker(marker_id), "Delete marker")

    def jump_to_marker(self, forward: bool = True) -> bool:
        tl = self.timeline
        marker = tl.marker_after(self.playhead) if forward else tl.marker_before(self.playhead)
        if marker is None:
            self.message.emit(f"No marker {'after' if forward else 'before'} the playhead")
            return False
        self._user_playhead(marker.frame)
        self.message.emit(f"{marker.name or 'Marker'} at {timecode(marker.frame, tl.fps)}")
        return True

    # -- in and out ----------------------------------------------------------------------
    def set_mark_in(self, frame: int | None = None) -> bool:
        """The in point at `frame` (default: the playhead): the first frame of the range."""
        frame = self.playhead if frame is None else frame
        return self._apply(lambda: self.timeline.set_mark_in(frame), "Set in point")

    def set_mark_out(self, frame: int | None = None) -> bool:
        """The out point at `frame` (default: the playhead), the last frame of the range:
        the range includes the frame under the playhead."""
        frame = self.playhead if frame is None else frame
        stop = min(frame + 1, max(1, self.layout_.duration))
        return self._apply(lambda: self.timeline.set_mark_out(stop), "Set out point")

    def clear_marks(self) -> bool:
        return self._apply(lambda: self.timeline.set_marks(None, None), "Clear in and out")
