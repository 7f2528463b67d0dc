"""The timeline panel: a painted view of the edit (ruler, shot clips with take thumbnails,
transitions, audio waveforms, playhead) where clips are trimmed, rolled, moved, split and
deleted with the mouse and keyboard, and a toolbar for zoom, snapping and transitions.

Every edit is a `studio.timeline.timeline` operation pushed through `Document.push`; a drag pushes
as it goes under one merge key per gesture, so the whole drag is one undo step. An edit the
timeline refuses (`EditError`) changes nothing and its reason shows in the status line.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QKeyEvent,
    QPainter,
    QPixmap,
    QStaticText,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QScrollBar,
    QSpinBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from studio.commands import set_timeline
from studio.errors import EditError
from studio.ids import fresh_id
from studio.timeline.timecode import nominal_rate, timecode
from studio.timeline.timeline import Clip, Timeline, Transition, TransitionKind
from ui.document import Document
from ui.timeline.timeline_edits import MARK_HELP, TRANSITION_KINDS, TimelineEdits
from ui.timeline.timeline_marks import paint_marks
from ui.timeline.timeline_menus import TimelineMenus
from ui.timeline.timeline_mouse import VIEW_HELP, TimelineMouse, _Drag
from ui.timeline.timeline_paint import (
    LEFT,
    TimelineGeometry,
    TimelineLayout,
    WaveformCache,
    paint_playhead,
    paint_timeline,
)
from ui.widgets.theme import show_toolbar_overflow
from ui.widgets.thumbnails import ThumbnailCache

MIN_PPF, MAX_PPF = 0.001, 64.0  # pixels per frame
CLIP_FIELDS = frozenset({"title", "takes", "selected_take", "width", "height"})
RIGHT_PAD = 120  # room past the end so the last edit can be dragged longer


class TimelineView(TimelineMenus, TimelineEdits, TimelineMouse, QWidget, TimelineGeometry):
    """The painted timeline. Geometry helpers (`x_of_frame`, `clip_rect`, ...) are public
    so the panel and tests can aim at clips."""

    clipSelected = Signal(str)  # noqa: N815 - the shot id of a clicked clip
    playheadMoved = Signal(int)  # noqa: N815 - moved by the user here
    playheadChanged = Signal(int)  # noqa: N815 - moved by anyone
    selectionChanged = Signal(str)  # noqa: N815 - the selected item id, "" for none
    audioClipSelected = Signal(str, str)  # noqa: N815 - track id, audio clip id
    message = Signal(str)
    shotOpened = Signal(str)  # noqa: N815 - "Open shot" on a clip: the shot id
    takeRevealed = Signal(str, str)  # noqa: N815 - "Reveal take": shot id, take id

    def __init__(
        self,
        document: Document,
        thumbnails: ThumbnailCache | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.thumbnails = thumbnails
        self.waveforms = WaveformCache(self)
        self.ppf = 4.0
        self.scroll = 0.0
        self.playhead = 0
        self.snapping = True
        self.selected_id = ""
        self.hover_handle: int | None = None
        self.drop_x: float | None = None
        self.last_painted_clips = 0
        self._fit = True  # follow the window's width until the user zooms or scrolls
        self._gesture = 0
        self._drag: _Drag | None = None
        self._take_paths: dict[tuple[str, str | None], object] = {}
        self._labels: dict[tuple[str, int | None], QStaticText] = {}
        self._version = 0
        self._static: QPixmap | None = None
        self._static_key: tuple | None = None
        self.layout_ = TimelineLayout(document.project.timeline, document.project)
        self.scrollbar = QScrollBar(Qt.Horizontal, self)
        self.scrollbar.valueChanged.connect(self._scrollbar_moved)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMouseTracking(True)
        self.setWhatsThis(VIEW_HELP + MARK_HELP)
        self.setMinimumHeight(self.content_height(1) + self.scrollbar.sizeHint().height())
        document.timelineChanged.connect(self._timeline_changed)
        document.shotsChanged.connect(self._shots_changed)
        document.projectSettingsChanged.connect(self._shots_changed)  # the sounds' names
        document.shotChanged.connect(self._shot_changed)
        document.currentShotChanged.connect(self._current_shot_changed)
        self.waveforms.ready.connect(self._media_ready)
        if thumbnails is not None:
            thumbnails.ready.connect(self._thumbnail_ready)

    # -- geometry ------------------------------------------------------------------------
    @property
    def timeline(self) -> Timeline:
        return self.layout_.timeline

    def sizeHint(self):  # noqa: N802 - Qt override
        size = super().sizeHint()
        size.setWidth(900)
        size.setHeight(self.content_height() + self.scrollbar.sizeHint().height())
        return size

    def take_path_of(self, clip: Clip):
        key = (clip.shot_id, clip.take_id)
        if key not in self._take_paths:
            shot = self.layout_.shots.get(clip.shot_id)
            self._take_paths[key] = self.document.take_path(shot, clip.take_id) if shot else None
        return self._take_paths[key]

    # -- zoom and scroll -----------------------------------------------------------------
    def _fit_ppf(self) -> float:
        return max(MIN_PPF, (self.width() - LEFT - 16) / max(1, self.layout_.duration))

    def _max_scroll(self) -> float:
        return max(0.0, self.layout_.duration * self.ppf + LEFT + RIGHT_PAD - self.width())

    def set_scroll(self, value: float) -> None:
        self.scroll = min(max(0.0, value), self._max_scroll())
        self.scrollbar.blockSignals(True)
        self.scrollbar.setRange(0, int(np.ceil(self._max_scroll())))
        self.scrollbar.setPageStep(max(1, self.width()))
        self.scrollbar.setSingleStep(40)
        self.scrollbar.setValue(round(self.scroll))
        self.scrollbar.blockSignals(False)
        self.update()

    def _scrollbar_moved(self, value: int) -> None:
        self._fit = False
        self.set_scroll(float(value))

    def set_zoom(self, ppf: float, anchor_x: float | None = None) -> None:
        """Pixels per frame, keeping the frame under `anchor_x` (default: centre) in place."""
        anchor = self.width() / 2 if anchor_x is None else anchor_x
        frame = (anchor - LEFT + self.scroll) / self.ppf
        self.ppf = min(max(ppf, min(MIN_PPF, self._fit_ppf())), MAX_PPF)
        self._fit = False
        self.set_scroll(frame * self.ppf - (anchor - LEFT))

    def _zoom_anchor(self) -> float | None:
        x = self.x_of_frame(self.playhead)
        return x if 0 <= x <= self.width() else None

    def zoom_in(self) -> None:
        self.set_zoom(self.ppf * 1.5, self._zoom_anchor())

    def zoom_out(self) -> None:
        self.set_zoom(self.ppf / 1.5, self._zoom_anchor())

    def fit(self) -> None:
        self.ppf = self._fit_ppf()
        self._fit = True
        self.set_scroll(0.0)

    def ensure_visible(self, frame: int) -> None:
        x = self.x_of_frame(frame)
        if x < 0 or x > self.width() - 8:
            self._fit = False
            self.set_scroll(frame * self.ppf - self.width() / 3)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        h = self.scrollbar.sizeHint().height()
        self.scrollbar.setGeometry(0, self.height() - h, self.width(), h)
        if self._fit:
            self.fit()
        else:
            self.set_scroll(self.scroll)
        super().resizeEvent(event)

    # -- painting ------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        # Everything but the playhead is kept in a pixmap, so playback (which only moves
        # the playhead) repaints with one blit.
        width, height = self.width(), self.height() - self.scrollbar.height()
        ratio = self.devicePixelRatioF()
        key = (
            self.layout_,
            self.ppf,
            self.scroll,
            width,
            height,
            ratio,
            self.selected_id,
            self.hover_handle,
            self.drop_x,
            self._version,
        )
        if key != self._static_key:
            pixmap = self._static
            size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
            if pixmap is None or (pixmap.width(), pixmap.height()) != size:
                pixmap = QPixmap(*size)
                pixmap.setDevicePixelRatio(ratio)
            painter = QPainter(pixmap)
            try:
                painter.setFont(self.font())
                self.last_painted_clips = paint_timeline(painter, self, self.layout_, width, height)
                paint_marks(painter, self, self.layout_, width)
            finally:
                painter.end()
            self._static, self._static_key = pixmap, key
        painter = QPainter(self)
        try:
            painter.drawPixmap(0, 0, self._static)
            paint_playhead(painter, self, width, height)
        finally:
            painter.end()

    def invalidate(self) -> None:
        """Repaint everything, not just the playhead (new media, palette or font)."""
        self._version += 1
        self.update()

    def label(self, text: str, width: int | None = None) -> QStaticText:
        """`text` elided to `width` pixels, laid out once: redrawn labels cost a blit."""
        key = (text, width)
        static = self._labels.get(key)
        if static is None:
            if len(self._labels) > 4096:
                self._labels.clear()
            if width is not None:
                text = self.fontMetrics().elidedText(text, Qt.ElideRight, max(0, width))
            static = self._labels[key] = QStaticText(text)
            static.setTextFormat(Qt.PlainText)
        return static

    def timecode_label(self, frame: int) -> QStaticText:
        key = (f"@{frame}", None)  # ruler labels cached by frame: no timecode() per paint
        static = self._labels.get(key)
        if static is None:
            static = self._labels[key] = self.label(timecode(frame, self.timeline.fps))
        return static

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.type() in (QEvent.PaletteChange, QEvent.FontChange, QEvent.StyleChange):
            self._labels.clear()
            self.invalidate()
        super().changeEvent(event)

    def _media_ready(self, _path: str) -> None:
        self.invalidate()

    def _thumbnail_ready(self, path: str) -> None:
        # The cache is shared with the storyboard: only frames of takes shown here count.
        if any(str(take) == path for take in self._take_paths.values() if take is not None):
            self.invalidate()

    # -- following the document ----------------------------------------------------------
    def _shots_changed(self) -> None:
        """Shots came, went or moved (their clips' colours follow the storyboard order)."""
        self.layout_.refresh_shots(self.document.project)
        self._take_paths.clear()
        self.invalidate()

    def _shot_changed(self, shot_id: str, fields: frozenset[str]) -> None:
        """A clip shows its shot's title and picked take, framed to the shot's size."""
        if shot_id in self.layout_.shots and fields & CLIP_FIELDS:
            for key in [key for key in self._take_paths if key[0] == shot_id]:
                del self._take_paths[key]
            self.invalidate()

    def _timeline_changed(self) -> None:
        project = self.document.project
        self._take_paths.clear()
        self._version += 1
        if project.timeline is not self.layout_.timeline:
            if project.timeline.fps != self.layout_.timeline.fps:
                self._labels.clear()  # ruler labels are cached by frame
            self.layout_ = TimelineLayout(project.timeline, project)
            self.setMinimumHeight(self.content_height() + self.scrollbar.sizeHint().height())
        if self.selected_id and self.selected_id not in self.layout_.index:
            self.select("")
        if self.playhead > self.layout_.duration:
            self.set_playhead(self.layout_.duration)
        if self._fit and self._drag is None:
            self.fit()
        else:
            self.set_scroll(self.scroll)

    def _current_shot_changed(self, shot_id: str) -> None:
        selected = self.selected_clip()
        if not shot_id or (selected is not None and selected.shot_id == shot_id):
            return
        i = self.layout_.first_clip(shot_id)
        if i is not None:
            self.select(self.layout_.items[i].id, notify=False)
            self.ensure_visible(int(self.layout_.starts[i]))

    # -- selection and playhead ----------------------------------------------------------
    def selected_clip(self) -> Clip | None:
        i = self.layout_.index.get(self.selected_id)
        item = self.layout_.items[i] if i is not None else None
        return item if isinstance(item, Clip) else None

    def select(self, item_id: str, notify: bool = True) -> None:
        """Select a clip or gap by id ("" for none); a clicked clip becomes the current shot."""
        changed = item_id != self.selected_id
        self.selected_id = item_id
        clip = self.selected_clip()
        if notify and clip is not None:
            self.document.set_current_shot(clip.shot_id)
            self.clipSelected.emit(clip.shot_id)
        if changed:
            self.selectionChanged.emit(item_id)
        self.update()

    def set_playhead(self, frame: int) -> None:
        frame = min(max(0, int(frame)), self.layout_.duration)
        if frame != self.playhead:
            self.playhead = frame
            self.playheadChanged.emit(frame)
            self.update()

    def _user_playhead(self, frame: int, follow: bool = True) -> None:
        before = self.playhead
        self.set_playhead(frame)
        if follow:
            self.ensure_visible(self.playhead)
        if self.playhead != before:
            self.playheadMoved.emit(self.playhead)

    # -- edits ---------------------------------------------------------------------------
    def _apply(self, make, text: str, merge: bool = False) -> bool:
        """Push the timeline `make()` returns; an EditError shows its reason instead."""
        try:
            new = make()
        except EditError as exc:
            self.message.emit(str(exc))
            return False
        current = self.document.project.timeline
        if new is current or new == current:
            return True
        key = ("timeline-gesture", id(self), self._gesture) if merge else None
        self.document.push(set_timeline(self.document.project, new, text, key))
        return True

    def _fresh_id(self, base: str) -> str:
        return fresh_id(base, set(self.layout_.index) | self.timeline.ids(), start=2)

    # -- keys ----------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        key, mods = event.key(), event.modifiers()
        if key == Qt.Key_Escape and self._drag is not None:
            origin, self._drag = self._drag.origin, None
            self.drop_x = None
            self._apply(lambda: origin, "Cancel drag", merge=True)  # merges away to nothing
            event.accept()
            return
        rate = nominal_rate(self.timeline.fps)
        step = rate if mods & Qt.ShiftModifier else 1
        if key == Qt.Key_Left:
            self._user_playhead(self.playhead - step)
        elif key == Qt.Key_Right:
            self._user_playhead(self.playhead + step)
        elif key == Qt.Key_Home:
            self._user_playhead(0)
        elif key == Qt.Key_End:
            self._user_playhead(self.layout_.duration)
        elif key in (Qt.Key_Up, Qt.Key_Down):
            edits = np.unique(np.concatenate([self.layout_.starts, [self.layout_.duration]]))
            if key == Qt.Key_Up:
                j = int(np.searchsorted(edits, self.playhead, side="left")) - 1
            else:
                j = int(np.searchsorted(edits, self.playhead, side="right"))
            if 0 <= j < len(edits):
                self._user_playhead(int(edits[j]))
        elif key == Qt.Key_S and not mods & Qt.ControlModifier:
            self.split_at_playhead()
        elif key == Qt.Key_M and not mods & (Qt.ShiftModifier | Qt.ControlModifier):
            self.add_marker()
        elif key == Qt.Key_M and mods & Qt.ShiftModifier:
            self.jump_to_marker(forward=not mods & Qt.ControlModifier)
        elif key == Qt.Key_I and not mods & (Qt.ControlModifier | Qt.AltModifier):
            self.set_mark_in()
        elif key == Qt.Key_O and not mods & (Qt.ControlModifier | Qt.AltModifier):
            self.set_mark_out()
        elif key == Qt.Key_X and mods & Qt.AltModifier:
            self.clear_marks()
        elif key in (Qt.Key_Delete, Qt.Key_Backspace):
            self._remove(lift=bool(mods & Qt.ShiftModifier))
        elif key in (Qt.Key_Plus, Qt.Key_Equal):
            self.zoom_in()
        elif key == Qt.Key_Minus:
            self.zoom_out()
        elif key == Qt.Key_Backslash:
            self.fit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()


class TimelinePanel(QWidget):
    """The timeline dock: a toolbar over the `TimelineView`, and a status line."""

    clipSelected = Signal(str)  # noqa: N815
    playheadMoved = Signal(int)  # noqa: N815
    audioClipSelected = Signal(str, str)  # noqa: N815
    shotOpened = Signal(str)  # noqa: N815 - a clip's "Open shot"
    takeRevealed = Signal(str, str)  # noqa: N815 - a clip's "Reveal take": shot, take

    def __init__(
        self,
        document: Document,
        thumbnails: ThumbnailCache | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.document = document
        self.thumbnails = thumbnails if thumbnails is not None else ThumbnailCache(parent=self)
        self.view = TimelineView(document, self.thumbnails, self)
        self.view.clipSelected.connect(self.clipSelected)
        self.view.playheadMoved.connect(self.playheadMoved)
        self.view.audioClipSelected.connect(self.audioClipSelected)
        self.view.shotOpened.connect(self.shotOpened)
        self.view.takeRevealed.connect(self.takeRevealed)

        bar = QToolBar("Timeline", self)
        self.zoom_in_action = bar.addAction("Zoom in", self.view.zoom_in)
        self.zoom_in_action.setToolTip("Zoom in around the playhead (+, Ctrl+wheel)")
        self.zoom_out_action = bar.addAction("Zoom out", self.view.zoom_out)
        self.zoom_out_action.setToolTip("Zoom out (-, Ctrl+wheel)")
        self.fit_action = bar.addAction("Fit", self.view.fit)
        self.fit_action.setToolTip("Show the whole edit (\\)")
        self.snap_action = QAction("Snap", self, checkable=True, checked=True)
        self.snap_action.setToolTip("Snap edges and the playhead to edits and the playhead")
        self.snap_action.toggled.connect(self._set_snapping)
        bar.addAction(self.snap_action)
        bar.addSeparator()
        self.split_action = bar.addAction("Split", self.view.split_at_playhead)
        self.split_action.setToolTip("Split the clip under the playhead (S)")
        self.delete_action = bar.addAction("Ripple delete", self.view.ripple_delete)
        self.delete_action.setToolTip("Remove the selected clip and close the space (Delete)")
        self.lift_action = bar.addAction("Lift", self.view.lift)
        self.lift_action.setToolTip("Remove the selected clip, leaving a gap (Shift+Delete)")
        bar.addSeparator()
        self.transition = QComboBox()
        for label, kind in TRANSITION_KINDS:
            self.transition.addItem(label, kind)
        self.transition.setToolTip("The transition into the selected clip")
        self.transition.activated.connect(self._transition_chosen)
        self.transition_frames = QSpinBox(minimum=1, maximum=9999, suffix=" f")
        self.transition_frames.setToolTip("Transition length in frames")
        self.transition_frames.setValue(max(1, nominal_rate(document.project.timeline.fps) // 2))
        self.transition_frames.editingFinished.connect(self._transition_chosen)
        bar.addWidget(QLabel(" Into clip: "))
        bar.addWidget(self.transition)
        bar.addWidget(self.transition_frames)
        self.match_action = QAction("Match colour", self, checkable=True)
        self.match_action.setToolTip(
            "Match the colour and exposure of the selected clip's first frames to the end of "
            "the clip before it (eases back over a third of a second)"
        )
        self.match_action.toggled.connect(self._match_toggled)
        bar.addAction(self.match_action)
        show_toolbar_overflow(bar)

        self.position = QLabel()
        self.position.setToolTip("Playhead / duration (HH:MM:SS:FF)")
        self.status = QLabel()
        self.status.setObjectName("timelineStatus")
        self._clear = QTimer(self, singleShot=True, interval=6000, timeout=self.status.clear)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(bar)
        top.addStretch(1)
        top.addWidget(self.position)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)

        self.view.message.connect(self.show_message)
        self.view.selectionChanged.connect(self._sync_controls)
        self.view.playheadChanged.connect(self._show_position)
        document.timelineChanged.connect(self._sync_controls)
        document.timelineChanged.connect(self._show_position)
        self._sync_controls()
        self._show_position()

    def set_playhead(self, frame: int) -> None:
        self.view.set_playhead(frame)
        self.view.ensure_visible(self.view.playhead)

    def show_message(self, text: str) -> None:
        self.status.setText(text)
        self._clear.start()

    def _set_snapping(self, on: bool) -> None:
        self.view.snapping = on

    def _show_position(self, *_args) -> None:
        fps = self.view.timeline.fps
        self.position.setText(
            f"{timecode(self.view.playhead, fps)} / {timecode(self.view.layout_.duration, fps)}"
        )

    def _sync_controls(self, *_args) -> None:
        clip = self.view.selected_clip()
        has_item = bool(self.view.selected_id)
        for action in (self.delete_action, self.lift_action):
            action.setEnabled(has_item)
        self.lift_action.setEnabled(clip is not None)
        self.transition.setEnabled(clip is not None)
        self.transition_frames.setEnabled(clip is not None)
        self.match_action.setEnabled(clip is not None)
        self.match_action.blockSignals(True)
        self.match_action.setChecked(clip is not None and clip.match_colour)
        self.match_action.blockSignals(False)
        if clip is None:
            return
        t = clip.transition
        self.transition.blockSignals(True)
        self.transition.setCurrentIndex(self.transition.findData(t.kind))
        self.transition.blockSignals(False)
        if t.kind is not TransitionKind.CUT:
            self.transition_frames.blockSignals(True)
            self.transition_frames.setValue(t.frames)
            self.transition_frames.blockSignals(False)

    def _transition_chosen(self, *_args) -> None:
        clip = self.view.selected_clip()
        if clip is None or self.transition.currentIndex() < 0:
            return
        kind = TransitionKind(self.transition.currentData())  # Qt hands back the plain str
        frames = self.transition_frames.value()
        if clip.transition == (
            Transition() if kind is TransitionKind.CUT else Transition(kind, frames)
        ):
            return
        if not self.view.set_transition(kind, frames):
            self._sync_controls()

    def _match_toggled(self, on: bool) -> None:
        if not self.view.set_match_colour(on):
            self._sync_controls()
