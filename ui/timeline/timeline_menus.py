"""The timeline's context menus: on a clip, on a join between two clips, on the ruler and its
markers, and on a gap; double-clicking a marker renames it.

Everything the toolbar offers is here too, so a narrow dock that hides the toolbar's tools
loses nothing: a right-click on a join sets its transition (kind, and length from a list of
common lengths or any length with "Custom…"), removes it or matches colour there; on a clip
it splits, deletes, matches colour, sets the transitions in and out, opens the shot or
reveals its take. Each choice is one undo step (`ui.timeline.timeline_edits`).

`TimelineView` has these handlers through `TimelineMenus`, first among its bases.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from PySide6.QtCore import QEvent, Qt, QUrl
from PySide6.QtGui import (
    QActionGroup,
    QContextMenuEvent,
    QDesktopServices,
    QKeyEvent,
    QMouseEvent,
)
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMenu

from studio.timeline.timecode import frames_to_seconds, timecode
from studio.timeline.timeline import Clip, Gap, Marker, Transition, TransitionKind
from ui.timeline.timeline_edits import COMMON_LENGTHS, MARKER_COLOURS, TRANSITION_KINDS
from ui.timeline.timeline_marks import marker_rect, transition_badge_rect
from ui.timeline.timeline_paint import EDGE_PX, RULER_H, VIDEO_H

MARKER_REACH = 6  # pixels either side of a marker that still hit it


class TimelineMenus:
    """Context menus and marker clicks of `TimelineView`."""

    # -- what is under the pointer -------------------------------------------------------
    def marker_at(self, x: float, y: float) -> Marker | None:
        """The marker whose flag is nearest (x, y) on the ruler, within reach."""
        if not 0 <= y < RULER_H:
            return None
        best: tuple[float, Marker] | None = None
        for marker in self.timeline.markers:
            distance = abs(marker_rect(self, marker).center().x() - x)
            if distance <= MARKER_REACH and (best is None or distance < best[0]):
                best = (distance, marker)
        return best[1] if best else None

    def join_at(self, x: float, y: float) -> int | None:
        """The index of the incoming clip whose join with the clip before it is under
        (x, y): a transition's span, its badge, or a few pixels either side of a cut."""
        top = self.video_top()
        lay = self.layout_
        if not top <= y < top + VIDEO_H or len(lay.items) < 2:
            return None
        i0, i1 = lay.visible(self.frame_at(x) - 1, self.frame_at(x) + 2)
        best: tuple[float, int] | None = None
        for i in range(max(1, i0 - 1), min(i1 + 2, len(lay.items))):
            if not (lay.is_clip[i] and lay.is_clip[i - 1]):
                continue
            span = lay.transition_span(i) or (int(lay.starts[i]), int(lay.starts[i]))
            x0, x1 = self.x_of_frame(span[0]), self.x_of_frame(span[1])
            # Within a clip's third at most, so a narrow clip still has a body to click.
            reach = min(
                EDGE_PX,
                (self.x_of_frame(lay.ends[i]) - self.x_of_frame(lay.starts[i])) / 3,
                (self.x_of_frame(lay.ends[i - 1]) - self.x_of_frame(lay.starts[i - 1])) / 3,
            )
            inside = x0 - reach <= x <= x1 + reach
            if inside or transition_badge_rect(self, lay, i).contains(x, y):
                distance = abs((x0 + x1) / 2 - x)
                if best is None or distance < best[0]:
                    best = (distance, i)
        return best[1] if best else None

    # -- the menus -----------------------------------------------------------------------
    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 - Qt override
        pos = event.pos()
        if event.reason() == QContextMenuEvent.Keyboard and self.selected_id in self.layout_.index:
            pos = self.clip_rect(self.selected_id).center().toPoint()
        menu = self.context_menu_at(pos.x(), pos.y())
        if menu is None:
            event.ignore()
            return
        menu.exec(self.mapToGlobal(pos))
        menu.deleteLater()

    def context_menu_at(self, x: float, y: float) -> QMenu | None:
        """The menu for a right-click at (x, y): the ruler's (with the marker there), a
        join's, a clip's (selecting it) or a gap's; None elsewhere."""
        if y < RULER_H:
            frame = min(max(0, self.frame_at(x)), self.layout_.duration)
            return self.ruler_menu(frame, self.marker_at(x, y))
        join = self.join_at(x, y)
        if join is not None:
            return self.join_menu(join)
        hit = self.hit(x, y)
        if hit is None:
            return None
        item = self.layout_.items[hit[1]]
        self.select(item.id)
        return self.clip_menu(hit[1]) if isinstance(item, Clip) else self.gap_menu(item)

    def _menu_action(self, menu: QMenu, text: str, slot, *, enabled: bool = True, tip: str = ""):
        action = menu.addAction(text)
        action.triggered.connect(lambda _checked=False: slot())
        action.setEnabled(bool(enabled))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        return action

    def _clip_name(self, clip: Clip) -> str:
        shot = self.layout_.shots.get(clip.shot_id)
        return (shot.title or shot.id) if shot else clip.shot_id

    def fill_transition_menu(self, menu: QMenu, i: int) -> None:
        """The transition into items[i] (a clip after a clip): its kind, its length and
        colour matching at the join."""
        clip = self.layout_.items[i]
        assert isinstance(clip, Clip)
        current = clip.transition
        cut = current.kind is TransitionKind.CUT
        kinds = QActionGroup(menu)
        for label, kind in TRANSITION_KINDS:
            if kind is TransitionKind.CUT:
                fits = True
            else:
                frames = self.default_transition_frames() if cut else current.frames
                fits = self.transition_fits(clip.id, Transition(kind, frames))
            action = self._menu_action(
                menu,
                label,
                partial(self.set_join_transition, clip.id, kind),
                enabled=fits,
                tip="" if fits else "The clips are too short for it",
            )
            action.setCheckable(True)
            action.setChecked(kind is current.kind)
            kinds.addAction(action)
        lengths = menu.addMenu("Length")
        lengths.setEnabled(not cut)
        fps = self.timeline.fps
        for frames in sorted({*COMMON_LENGTHS, *(() if cut else (current.frames,))}):
            seconds = float(frames_to_seconds(frames, fps))
            fits = not cut and self.transition_fits(clip.id, Transition(current.kind, frames))
            action = self._menu_action(
                lengths,
                f"{frames} frames ({seconds:.2g} s)",
                partial(self.set_join_length, clip.id, frames),
                enabled=fits,
            )
            action.setCheckable(True)
            action.setChecked(not cut and frames == current.frames)
        lengths.addSeparator()
        self._menu_action(lengths, "Custom…", partial(self.ask_join_length, clip.id))
        self._menu_action(
            menu,
            "Remove transition",
            partial(self.set_join_transition, clip.id, TransitionKind.CUT),
            enabled=not cut,
        )
        menu.addSeparator()
        match = self._menu_action(
            menu,
            "Match colour at this join",
            lambda: self.set_clip_match_colour(clip.id, not clip.match_colour),
            tip="Match the colour and exposure of the incoming clip to the clip before it",
        )
        match.setCheckable(True)
        match.setChecked(clip.match_colour)

    def join_menu(self, i: int) -> QMenu:
        clip, before = self.layout_.items[i], self.layout_.items[i - 1]
        menu = QMenu(self)
        menu.addSection(f"{self._clip_name(before)} → {self._clip_name(clip)}")
        self.fill_transition_menu(menu, i)
        return menu

    def clip_menu(self, i: int) -> QMenu:
        lay = self.layout_
        clip = lay.items[i]
        assert isinstance(clip, Clip)
        before = lay.items[i - 1] if i else None
        after = lay.items[i + 1] if i + 1 < len(lay.items) else None
        menu = QMenu(self)
        menu.addSection(self._clip_name(clip))
        inside = bool(lay.starts[i] < self.playhead < lay.ends[i])
        self._menu_action(
            menu, "Split at playhead\tS", partial(self.split_clip, clip.id), enabled=inside
        )
        self._menu_action(menu, "Ripple delete\tDel", self.ripple_delete)
        self._menu_action(menu, "Lift (leave a gap)\tShift+Del", self.lift)
        menu.addSeparator()
        match = self._menu_action(
            menu,
            "Match colour to previous clip",
            lambda: self.set_clip_match_colour(clip.id, not clip.match_colour),
            enabled=isinstance(before, Clip),
        )
        match.setCheckable(True)
        match.setChecked(clip.match_colour)
        into = menu.addMenu("Transition in")
        into.setEnabled(isinstance(before, Clip))
        if isinstance(before, Clip):
            self.fill_transition_menu(into, i)
        out = menu.addMenu("Transition out")
        out.setEnabled(isinstance(after, Clip))
        if isinstance(after, Clip):
            self.fill_transition_menu(out, i + 1)
        menu.addSeparator()
        shot = lay.shots.get(clip.shot_id)
        take_id = clip.take_id or (shot.selected_take if shot else None)
        self._menu_action(menu, "Open shot", partial(self.open_shot, clip.shot_id))
        self._menu_action(
            menu,
            "Reveal take in Takes",
            partial(self.reveal_take, clip.shot_id, take_id or ""),
            enabled=bool(take_id),
        )
        self._menu_action(
            menu,
            "Show take file in folder",
            partial(self.show_take_file, clip),
            enabled=self.take_path_of(clip) is not None,
        )
        menu.addSeparator()
        frames = max(1, round(shot.duration * self.timeline.fps)) if shot else clip.duration
        self._menu_action(
            menu,
            "Follow the shot's length",
            partial(self.fit_clip_to_shot, clip.id),
            enabled=shot is not None
            and (clip.trimmed or (clip.source_in, clip.source_out) != (0, frames)),
            tip="Undo the trims: show the whole shot, and follow its length from now on",
        )
        return menu

    def gap_menu(self, gap: Gap) -> QMenu:
        menu = QMenu(self)
        menu.addSection(f"Gap, {gap.frames} frames")
        self._menu_action(menu, "Close gap\tDel", self.ripple_delete)
        return menu

    def ruler_menu(self, frame: int, marker: Marker | None) -> QMenu:
        tl = self.timeline
        menu = QMenu(self)
        if marker is not None:
            menu.addSection(f"{marker.name or 'Marker'} at {timecode(marker.frame, tl.fps)}")
            self._menu_action(menu, "Rename marker…", partial(self.ask_marker_name, marker.id))
            colours = menu.addMenu("Colour")
            group = QActionGroup(colours)
            for label, colour in MARKER_COLOURS:
                action = self._menu_action(
                    colours, label, partial(self.recolour_marker, marker.id, colour)
                )
                action.setCheckable(True)
                action.setChecked(marker.colour is colour)
                group.addAction(action)
            self._menu_action(menu, "Delete marker", partial(self.delete_marker, marker.id))
            menu.addSeparator()
        else:
            menu.addSection(timecode(frame, tl.fps))
            self._menu_action(menu, "Add marker here", partial(self.add_marker, frame))
        self._menu_action(menu, "Set in point here", partial(self.set_mark_in, frame))
        self._menu_action(menu, "Set out point here", partial(self.set_mark_out, frame))
        self._menu_action(
            menu,
            "Clear in and out\tAlt+X",
            self.clear_marks,
            enabled=tl.mark_in is not None or tl.mark_out is not None,
        )
        return menu

    # -- what the menus open -------------------------------------------------------------
    def open_shot(self, shot_id: str) -> None:
        """Make the shot current (the storyboard and the shot panel show it) and say so."""
        self.document.set_current_shot(shot_id)
        self.shotOpened.emit(shot_id)

    def reveal_take(self, shot_id: str, take_id: str) -> None:
        self.document.set_current_shot(shot_id)
        self.takeRevealed.emit(shot_id, take_id)

    def show_take_file(self, clip: Clip) -> bool:
        path = self.take_path_of(clip)
        if path is None:
            self.message.emit("The take's file is not there")
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))

    def ask_join_length(self, clip_id: str) -> bool:
        clip = self._clip_by_id(clip_id)
        if clip is None:
            return False
        current = clip.transition
        start = (
            current.frames
            if current.kind is not TransitionKind.CUT
            else self.default_transition_frames()
        )
        frames, ok = QInputDialog.getInt(
            self, "Transition length", "Length in frames:", start, 1, 9999, 1
        )
        if not ok:
            return False
        if current.kind is TransitionKind.CUT:
            return self.set_join_transition(clip_id, TransitionKind.CROSSFADE, frames)
        return self.set_join_length(clip_id, frames)

    def ask_marker_name(self, marker_id: str) -> bool:
        marker = next((m for m in self.timeline.markers if m.id == marker_id), None)
        if marker is None:
            return False
        name, ok = QInputDialog.getText(
            self, "Rename marker", "Name:", QLineEdit.Normal, marker.name
        )
        return ok and self.rename_marker(marker_id, name)

    def _snap_targets(self, index: int | None, drop_frame: int | None, ripple: bool):
        """Edits and the playhead (`TimelineMouse`), and the markers and in and out points."""
        targets = super()._snap_targets(index, drop_frame, ripple)
        tl = self.timeline
        marks = [m.frame for m in tl.markers] + [f for f in (tl.mark_in, tl.mark_out) if f]
        marks = [f for f in marks if f != drop_frame]
        return np.unique(np.concatenate([targets, np.array(marks, np.int64)])) if marks else targets

    # -- keys the window also binds --------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        # I and O are the player's marks as window shortcuts; with the timeline focused they
        # mark the timeline's in and out (as M, Shift+M and Alt+X act here), so the view
        # takes them before any shortcut does.
        if event.type() == QEvent.ShortcutOverride and self._timeline_key(event):
            event.accept()
            return True
        return super().event(event)

    @staticmethod
    def _timeline_key(event: QKeyEvent) -> bool:
        key, mods = event.key(), event.modifiers() & ~Qt.KeypadModifier
        if key in (Qt.Key_I, Qt.Key_O):
            return mods == Qt.NoModifier
        if key == Qt.Key_M:
            return mods in (Qt.NoModifier, Qt.ShiftModifier, Qt.ShiftModifier | Qt.ControlModifier)
        return key == Qt.Key_X and mods == Qt.AltModifier

    # -- double-clicks and tooltips on marks ---------------------------------------------
    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = event.position()
        marker = self.marker_at(pos.x(), pos.y()) if event.button() == Qt.LeftButton else None
        if marker is None:
            super().mouseDoubleClickEvent(event)
            return
        self._drag = None  # the first click of the pair started a playhead drag
        self.ask_marker_name(marker.id)

    def tooltip_at(self, x: float, y: float) -> str:
        marker = self.marker_at(x, y)
        if marker is not None:
            when = timecode(marker.frame, self.timeline.fps)
            return (
                f"{marker.name or 'Marker'} at {when}\n"
                "Double-click to rename; right-click for its colour or to delete it"
            )
        hit = self.hit(x, y)
        join = self.join_at(x, y) if hit is None or hit[0] == "body" else None
        if join is not None:
            clip = self.layout_.items[join]
            what = (
                "Cut"
                if clip.transition.kind is TransitionKind.CUT
                else (f"{clip.transition.label.capitalize()}, {clip.transition.frames} frames")
            )
            matched = "; colour matched" if clip.match_colour else ""
            return f"{what}{matched}\nRight-click to change the transition at this join"
        return super().tooltip_at(x, y)
