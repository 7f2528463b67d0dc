"""What the mouse does on the timeline: a click selects a clip or moves the playhead, a drag
trims (ripple, overwrite or roll), moves a clip or lengthens a transition, each gesture one
undo step, with snapping to edits; the wheel scrolls (zooms with Ctrl); tooltips say what
is under the pointer and what dragging it does.

`TimelineView` has these handlers through `TimelineMouse`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QToolTip

from studio.timeline.timecode import timecode
from studio.timeline.timeline import Clip, Timeline, Transition
from ui.timeline.timeline_paint import AUDIO_H, LEFT, RULER_H, VIDEO_H

SNAP_PX = 8
VIEW_HELP = (
    "Click a clip to select it; click or drag the ruler to move the playhead.\n"
    "Drag a clip's edge to trim it (later clips follow); Ctrl-drag trims without moving "
    "later clips; Shift- or Alt-drag rolls the edit between two clips.\n"
    "Drag a clip to reorder it; drag a transition's handle sideways to change its length.\n"
    "Keys: Left/Right step a frame (Shift: a second), Up/Down jump between edits, "
    "Home/End, S split at the playhead, Delete ripple-deletes, Shift+Delete lifts, "
    "+/- zoom, \\ fits, Escape cancels a drag."
)


@dataclass
class _Drag:
    kind: str  # "playhead", "left", "right", "body" or "transition"
    index: int
    x: float
    origin: Timeline
    mode: str  # "ripple", "roll" or "overwrite" for edges
    targets: np.ndarray
    moving: bool = False


class TimelineMouse:
    """The timeline view's mouse handlers (first among its bases, so they override Qt's)."""

    def _snap_targets(self, index: int | None, drop_frame: int | None, ripple: bool) -> np.ndarray:
        lay = self.layout_
        edges, owners = lay.item_edges()
        if ripple and index is not None:
            edges = edges[owners <= index]  # later items move with the trim
        targets = np.concatenate([edges, lay.audio_edges(), [self.playhead]])
        if drop_frame is not None:
            targets = targets[targets != drop_frame]
        return np.unique(targets)

    def snap(self, frame: float, targets: np.ndarray) -> int:
        if self.snapping and targets.size:
            j = int(np.searchsorted(targets, frame))
            near = targets[max(0, j - 1) : j + 1]
            best = near[np.argmin(np.abs(near - frame))]
            if abs(best - frame) * self.ppf <= SNAP_PX:
                return int(best)
        return round(frame)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self.setFocus(Qt.MouseFocusReason)
        if event.button() != Qt.LeftButton:
            return
        x, y = event.position().x(), event.position().y()
        self._gesture += 1
        origin = self.timeline
        if y < RULER_H:
            targets = self._snap_targets(None, None, False)
            targets = targets[targets != self.playhead]
            self._drag = _Drag("playhead", -1, x, origin, "", targets)
            self._user_playhead(self.snap((x - LEFT + self.scroll) / self.ppf, targets), False)
            return
        hit = self.hit(x, y)
        if hit is None:
            if self.video_top() <= y < self.video_top() + VIDEO_H:
                self.select("")
            else:
                audio = self.audio_hit(x, y)
                if audio is not None:
                    self.audioClipSelected.emit(*audio)
            return
        kind, i = hit
        mods = event.modifiers()
        mode = "ripple"
        if mods & (Qt.ShiftModifier | Qt.AltModifier):
            mode = "roll"
        elif mods & Qt.ControlModifier:
            mode = "overwrite"
        edge = None
        if kind == "left":
            edge = int(self.layout_.starts[i])
        elif kind == "right":
            edge = int(self.layout_.ends[i])
        targets = self._snap_targets(i, edge, mode == "ripple")
        self._drag = _Drag(kind, i, x, origin, mode, targets)
        self.select(origin.items[i].id)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        x = event.position().x()
        drag = self._drag
        if drag is None:
            self._hover(x, event.position().y())
            return
        dx = x - drag.x
        if drag.kind == "playhead":
            self._user_playhead(self.snap((x - LEFT + self.scroll) / self.ppf, drag.targets))
        elif drag.kind in ("left", "right"):
            self._drag_edge(drag, dx)
        elif drag.kind == "transition":
            self._drag_transition(drag, dx)
        elif drag.kind == "body":
            if not drag.moving and abs(dx) >= QApplication.startDragDistance():
                drag.moving = True
                self.setCursor(Qt.ClosedHandCursor)
            if drag.moving:
                slot = self.slot_at(x)
                lay = self.layout_
                frame = lay.starts[slot] if slot < len(lay.items) else lay.duration
                self.drop_x = float(self.x_of_frame(frame))
                self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        drag, self._drag = self._drag, None
        self.drop_x = None
        self.unsetCursor()
        if drag is not None and drag.kind == "body" and drag.moving:
            slot = self.slot_at(event.position().x())
            src = drag.index
            dest = slot if slot <= src else slot - 1
            if dest != src:
                self._gesture += 1
                self._apply(lambda: drag.origin.move(src, dest), "Move clip")
        if self._fit:
            self.fit()
        self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self.mousePressEvent(event)

    def _hover(self, x: float, y: float) -> None:
        hit = self.hit(x, y)
        handle = hit[1] if hit and hit[0] == "transition" else None
        if handle != self.hover_handle:
            self.hover_handle = handle
            self.update()
        if hit and hit[0] in ("left", "right", "transition"):
            self.setCursor(Qt.SizeHorCursor)
        elif y < RULER_H:
            self.setCursor(Qt.IBeamCursor)
        else:
            self.unsetCursor()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.ToolTip:
            pos = event.pos()
            QToolTip.showText(event.globalPos(), self.tooltip_at(pos.x(), pos.y()), self)
            return True
        return super().event(event)

    def tooltip_at(self, x: float, y: float) -> str:
        """What the thing under (x, y) is and what dragging it does."""
        if y < RULER_H:
            return "Click or drag to move the playhead (snaps to edits when snapping is on)"
        fps = self.timeline.fps
        for t, lane in enumerate(self.layout_.audio):
            frame = self.frame_at(x)
            j0, j1 = lane.visible(frame, frame + 1)
            if self.audio_top(t) <= y < self.audio_top(t) + AUDIO_H and j1 > j0:
                clip = lane.track.clips[j0]
                name = self.layout_.media_names.get(clip.media, clip.media)
                peaks = self.waveforms.get(self.document.media_path(clip.media))
                if peaks is self.waveforms.FAILED:
                    name += " (cannot read the sound file)"
                return (
                    f"{name} on {lane.track.name or lane.track.id}: {clip.gain_db:+g} dB, "
                    f"fades {clip.fade_in} / {clip.fade_out} frames\n"
                    f"{timecode(clip.start, fps)} - {timecode(clip.end, fps)}"
                )
        hit = self.hit(x, y)
        if hit is None:
            return VIEW_HELP
        kind, i = hit
        item = self.layout_.items[i]
        if kind == "transition":
            t = item.transition
            return (
                f"{t.label.capitalize()}, {t.frames} frames\n"
                "Drag sideways to lengthen or shorten it"
            )
        if kind in ("left", "right"):
            return (
                "Drag to trim; later clips follow (ripple)\n"
                "Ctrl-drag: trim and keep later clips in place\n"
                "Shift- or Alt-drag: roll the edit with the neighbouring clip"
            )
        if not isinstance(item, Clip):
            return f"Gap, {item.frames} frames ({timecode(item.frames, fps)})\nDelete closes it"
        shot = self.layout_.shots.get(item.shot_id)
        title = (shot.title or shot.id) if shot else item.shot_id
        take = "no take yet" if self.take_path_of(item) is None else "rendered take"
        return (
            f"{title}: {item.duration} frames ({timecode(item.duration, fps)}), {take}\n"
            f"Source frames {item.source_in}–{item.source_out - 1} (counted from 0)\n"
            "Drag to reorder; S splits at the playhead; Delete ripple-deletes"
        )

    def _drag_edge(self, drag: _Drag, dx: float) -> None:
        tl, i = drag.origin, drag.index
        clip = tl.items[i]
        assert isinstance(clip, Clip)
        starts = tl.starts()
        edge = starts[i] + clip.duration if drag.kind == "right" else starts[i]
        delta = self.snap(edge + dx / self.ppf, drag.targets) - edge
        if drag.mode == "roll":
            point = i + 1 if drag.kind == "right" else i
            if not 1 <= point < len(tl.items):
                self.message.emit(f"Clip {clip.id!r} has no neighbour on that side to roll with")
                return
            bound = self._source_frames(tl.items[point - 1])
            self._apply(lambda: tl.roll(point, delta, source_frames=bound), "Roll edit", True)
            return
        ripple = drag.mode == "ripple"
        bound = self._source_frames(clip)
        if drag.kind == "right":
            out = clip.source_out + delta

            def make():
                return tl.trim(clip.id, source_out=out, ripple=ripple, source_frames=bound)
        else:
            start = clip.source_in + delta

            def make():
                return tl.trim(clip.id, source_in=start, ripple=ripple, source_frames=bound)

        self._apply(make, "Trim clip", merge=True)

    def _drag_transition(self, drag: _Drag, dx: float) -> None:
        clip = drag.origin.items[drag.index]
        assert isinstance(clip, Clip)
        t = clip.transition
        frames = max(1, t.frames + round(dx / self.ppf))
        transition = Transition(t.kind, frames)
        if self._apply(
            lambda: drag.origin.set_transition(clip.id, transition), "Transition length", True
        ):
            self.message.emit(f"{t.label.capitalize()}: {frames} frames")

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        delta = event.angleDelta()
        steps = (delta.y() or delta.x()) / 120
        if event.modifiers() & Qt.ControlModifier:
            self.set_zoom(self.ppf * 1.25**steps, event.position().x())
        else:
            pixels = event.pixelDelta()  # touchpads report pixels: scroll by exactly that
            moved = (pixels.y() or pixels.x()) if not pixels.isNull() else steps * 80
            self._fit = False
            self.set_scroll(self.scroll - moved)
        event.accept()

    def audio_hit(self, x: float, y: float) -> tuple[str, str] | None:
        """The (track id, clip id) of the audio clip under (x, y), if any."""
        frame = self.frame_at(x)
        for t, lane in enumerate(self.layout_.audio):
            top = self.audio_top(t)
            if top <= y < top + AUDIO_H:
                j = int(np.searchsorted(lane.starts, frame, side="right")) - 1
                if 0 <= j < len(lane.track.clips) and frame < lane.ends[j]:
                    return lane.track.id, lane.track.clips[j].id
        return None

    def _source_frames(self, item) -> int | None:
        """How long the take behind a clip runs; a clip without a take is bounded by its shot."""
        if not isinstance(item, Clip):
            return None
        shot = self.layout_.shots.get(item.shot_id)
        if shot is None:
            return None
        take = shot.take(item.take_id) if item.take_id else shot.current_take
        frames = take.request.frames if take is not None else shot.frames
        return max(frames, item.source_out)
