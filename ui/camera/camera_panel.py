"""The camera panel: the rig of the current shot on sliders, presets and keyframe curves,
with a live previz and a top-down sketch of the camera path.

Every change is a command on the document's undo stack; a slider drag, a spin-box editing
burst or a curve drag is one undo step.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.camera.easing import Easing
from studio.camera.rig import (
    AXES,
    NEUTRAL,
    PRESETS,
    CameraRig,
    Shake,
    describe,
    preset,
    with_axis,
    with_move,
)
from studio.commands import SetAttribute, set_shot_duration
from studio.errors import StudioError
from studio.render_plan import end_picture
from ui.camera.camera_previz import PREVIEW_WIDTH, PathSketch, PrevizViewport
from ui.camera.camera_widgets import AXIS_SPECS, AxisRow, CurveEditor, rig_value
from ui.camera.previz_source import Source, SourceAsk, read_source
from ui.widgets.background import Background
from ui.widgets.elided_label import ElidedLabel

PREVIZ_START_DELAY_MS = 120
PRESET_COLUMNS = 3  # fifteen presets: five rows, narrow enough for a small window
DEFAULT_SHAKE_HZ = 1.2  # the handheld preset's rate, used when only the amount is set
# A shot's fields the panel shows: the rig over the shot's length, and the pictures the
# previz moves over (keyframe, picked take, or a title card of the prompt; the end picture
# and keyframes inside the shot).
CAMERA_FIELDS = frozenset(
    "camera duration fps width height title keyframe takes selected_take prompt seed "
    "end_keyframe end_on_next keyframes".split()
)


def _preset_label(name: str) -> str:
    return name.replace("_", " ").capitalize()


class CameraPanel(QWidget):
    """Edits `document.current_shot.camera`; follows the current shot and every edit."""

    def __init__(
        self, document, parent: QWidget | None = None, *, defer_previz: bool = False
    ) -> None:
        super().__init__(parent)
        self.document = document
        # With `defer_previz` (the studio window at start-up) the first previz source is
        # prepared just after the panel is first shown, so the window appears sooner.
        self._previz_ready = not defer_previz
        # A new source (a take's first frame) is asked for on a pass of the event loop of
        # its own, after the edit's other listeners (`Later`), and read off the GUI thread.
        self._source_work = ("previz source", id(self))
        self._reader = Background(self)
        self._asked_key: tuple | None = None
        self._gestures = itertools.count(1)
        self._shot = None
        self._source_key: tuple | None = None
        self._focus_t: float | None = None  # the moment our own edit wants on screen
        self._duration_gesture: int | None = None
        self._build()
        self._groups = self.findChildren(QGroupBox)  # enabled with a current shot
        document.shotChanged.connect(self._fields_changed)
        document.currentShotChanged.connect(self._shot_changed)
        self._shot_changed()

    def _load_pending_source(self) -> None:
        shot = self.document.current_shot
        if shot is None:
            return
        key, width, height = self._source_key_of(shot)
        if key == self._source_key:
            self._reader.cancel()  # back to the picture shown: an older ask must not land
            self._asked_key = None
            return
        if key == self._asked_key and self._reader.busy:
            return
        self._asked_key = key
        ask = SourceAsk(
            folder=self.document.folder,
            keyframe=shot.keyframe,
            take=None if shot.keyframe else self.document.take_path(shot),
            card_text=shot.prompt or shot.title or "Untitled shot",
            seed=shot.seed,
            keys=self._key_pictures(shot),
            width=width,
            height=height,
        )
        self._reader.submit(lambda: read_source(ask), lambda got: self._source_read(key, got))

    def _source_read(self, key: tuple, got: Source | Exception) -> None:
        self._asked_key = None
        shot = self.document.current_shot
        if shot is None:
            return
        if self._source_key_of(shot)[0] != key:  # another shot, or its picture changed
            self.document.later.call(self._source_work, self._load_pending_source, owner=self)
            return
        if isinstance(got, Exception):
            self.source_note.setText(f"The previz picture could not be made: {got}")
            return
        self._source_key = key
        self.source_note.setText(got.note)
        self.viewport.set_shot(got.picture, shot.camera, shot.frames, float(shot.fps), got.keys)

    @property
    def source_pending(self) -> bool:
        """A new picture for the previz is about to be read, or being read."""
        return self.document.later.pending(self._source_work) or self._reader.busy

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._previz_ready:
            # The panel is the timer's context: a panel destroyed first takes the timer along.
            QTimer.singleShot(PREVIZ_START_DELAY_MS, self, self._start_previz)

    def _start_previz(self) -> None:
        if not self._previz_ready:
            self._previz_ready = True
            self._refresh()

    def next_gesture(self) -> int:
        return next(self._gestures)

    # -- layout -----------------------------------------------------------------------
    def _build(self) -> None:
        # The previz and its read-outs stay in view; the axes, keyframes and presets under
        # them scroll, so that a short or narrow dock still shows the move being edited.
        self.previz_area = QWidget()
        head = QVBoxLayout(self.previz_area)
        head.setContentsMargins(9, 9, 9, 4)
        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(9, 4, 9, 9)
        self.title = ElidedLabel()
        self.title.setStyleSheet("font-weight: bold")
        head.addWidget(self.title)

        self.viewport = PrevizViewport()
        self.play = QToolButton(text="Pause", checkable=True, checked=True)
        self.play.setToolTip("Play or pause the previz loop (Space on the previz)")
        self.play.toggled.connect(self._play_toggled)
        self.viewport.playingChanged.connect(self.play.setChecked)
        self.source_note = QLabel(wordWrap=True)
        self.source_note.setForegroundRole(QPalette.PlaceholderText)
        self.path_sketch = PathSketch()
        previz = QVBoxLayout()
        previz.addWidget(self.viewport)
        controls = QHBoxLayout()
        controls.addWidget(self.play)
        controls.addWidget(self.source_note, 1)
        previz.addLayout(controls)
        top = QHBoxLayout()
        top.addLayout(previz)  # the previz keeps its size first; the sketch gives way
        top.addWidget(self.path_sketch, 1)
        head.addLayout(top)

        self.description = QLabel(wordWrap=True)
        self.description.setToolTip("The move in words, as prompt-driven models receive it")
        self.description.setTextInteractionFlags(Qt.TextSelectableByMouse)
        head.addWidget(self.description)
        self.error = QLabel(wordWrap=True)
        self.error.setStyleSheet("color: #e0704a")  # reads on dark and light palettes
        self.error.hide()
        head.addWidget(self.error)

        axes_box = QGroupBox("Axes")
        grid = QGridLayout(axes_box)
        grid.setColumnStretch(1, 1)
        axes_note = QLabel("Each axis moves from neutral to its value over the shot.")
        axes_note.setWordWrap(True)  # a title this long would set the panel's width
        axes_note.setForegroundRole(QPalette.PlaceholderText)
        grid.addWidget(axes_note, 0, 0, 1, 4)
        self.rows: dict[str, AxisRow] = {}
        for r, spec in enumerate(AXIS_SPECS, start=1):
            row = AxisRow(spec, self.next_gesture, axes_box)
            for c, widget in enumerate(row.widgets()):
                grid.addWidget(widget, r, c)
            row.valueEdited.connect(self._value_edited)
            row.easingChosen.connect(self._easing_chosen)
            row.focused.connect(self._row_focused)
            self.rows[spec.key] = row
        self.duration = QDoubleSpinBox(decimals=2, minimum=0.1, maximum=600.0, suffix=" s")
        self.duration.setKeyboardTracking(False)
        self.duration.setSingleStep(0.5)
        self.duration.setToolTip(
            "The move spans the whole shot: a longer shot makes the same move slower."
        )
        self.duration.valueChanged.connect(self._duration_edited)
        self.duration.editingFinished.connect(self._duration_burst_ended)
        timing = QLabel("Shot length")
        timing.setBuddy(self.duration)
        grid.addWidget(timing, len(AXIS_SPECS) + 1, 0)
        grid.addWidget(self.duration, len(AXIS_SPECS) + 1, 2)
        column.addWidget(axes_box)

        curve_box = QGroupBox("Keyframes")
        curve_layout = QVBoxLayout(curve_box)
        self.curve_axis = QComboBox()
        for axis in AXES:
            self.curve_axis.addItem(axis.capitalize(), axis)
        self.curve_axis.setToolTip("The axis whose keyframes the curve shows")
        self.curve_axis.currentIndexChanged.connect(lambda _i: self._refresh())
        self.curve_editor = CurveEditor(self.next_gesture)
        self.curve_editor.keyframesEdited.connect(self._keyframes_edited)
        self.curve_editor.timeTouched.connect(lambda t: self.viewport.show_time(t))
        self.viewport.timeShown.connect(self.curve_editor.set_playhead)
        self.viewport.timeShown.connect(self._held_time)
        self.viewport.playingChanged.connect(self._held_time)
        form = QFormLayout()
        form.addRow("Axis", self.curve_axis)
        curve_layout.addLayout(form)
        curve_layout.addWidget(self.curve_editor)
        column.addWidget(curve_box)

        preset_box = QGroupBox("Presets")
        presets = QGridLayout(preset_box)
        self.preset_buttons: dict[str, QPushButton] = {}
        names = [name for name in PRESETS if name != "static"]
        for i, name in enumerate(names):
            button = QPushButton(_preset_label(name))
            button.setToolTip(f"{describe(preset(name))} (scaled by the amount)")
            button.clicked.connect(lambda _=False, n=name: self._apply_preset(n))
            presets.addWidget(button, i // PRESET_COLUMNS, i % PRESET_COLUMNS)
            self.preset_buttons[name] = button
        self.amount = QDoubleSpinBox(decimals=2, minimum=0.1, maximum=3.0, value=1.0)
        self.amount.setSingleStep(0.1)
        self.amount.setPrefix("×")
        self.amount.setToolTip("How strong a preset move is: 1 is the usual film move")
        self.reset = QPushButton("Reset (static)")
        self.reset.setToolTip("A locked-off camera: no move on any axis, no shake")
        self.reset.clicked.connect(lambda: self._apply_preset("static"))
        self.preset_buttons["static"] = self.reset
        footer = QHBoxLayout()
        amount_label = QLabel("Amount")
        amount_label.setBuddy(self.amount)
        footer.addWidget(amount_label)
        footer.addWidget(self.amount)
        footer.addStretch(1)
        footer.addWidget(self.reset)
        rows = (len(names) + PRESET_COLUMNS - 1) // PRESET_COLUMNS
        presets.addLayout(footer, rows, 0, 1, PRESET_COLUMNS)
        column.addWidget(preset_box)
        column.addStretch(1)

        scroll = self.axes_scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setWidget(content)
        # As narrow as the rows allow and no narrower: no column is ever cut off.
        scroll.setMinimumWidth(
            content.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
        )
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.previz_area)
        outer.addWidget(scroll, 1)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Expanding)

    # -- following the document -------------------------------------------------------
    @property
    def curve_axis_name(self) -> str:
        return self.curve_axis.currentData()

    def _shot_changed(self, _shot_id: str = "") -> None:
        self._shot = self.document.current_shot
        self._source_key = None
        self._focus_t = None
        self._show_error("")
        self._refresh()

    def _fields_changed(self, shot_id: str, fields: frozenset[str]) -> None:
        if shot_id == self.document.current_shot_id and fields & CAMERA_FIELDS:
            self._refresh()

    def _refresh(self) -> None:
        shot = self.document.current_shot
        if shot is not self._shot:
            self._shot_changed()
            return
        enabled = shot is not None
        for child in self._groups:
            child.setEnabled(enabled)
        if shot is None:
            self.title.setText("No shot selected")
            self.description.clear()
            return
        rig = shot.camera
        self.title.setText(f"Camera — {shot.title or shot.id}")
        for key, row in self.rows.items():
            row.set_value(rig_value(rig, key))
            keys = getattr(rig, key, ())
            if keys:
                row.set_easing(keys[0].easing)
        self.curve_editor.set_axis(self.curve_axis_name, getattr(rig, self.curve_axis_name))
        if not math.isclose(self.duration.value(), shot.duration):
            self.duration.blockSignals(True)
            self.duration.setValue(shot.duration)
            self.duration.blockSignals(False)
        try:
            self.description.setText(f"Move: {describe(rig, shot.duration)}")
        except ValueError:
            self.description.setText(f"Move: {describe(rig)}")
        frames, fps = shot.frames, float(shot.fps)
        key, width, height = self._source_key_of(shot)
        if key != self._source_key and not self._previz_ready:
            self.source_note.setText("Preparing the previz…")
        elif key != self._source_key:
            # A new picture (a take landed, a keyframe dropped) loads on the next turn of the
            # event loop, apart from the other panels' work for the same edit.
            self.document.later.call(self._source_work, self._load_pending_source, owner=self)
        else:
            self.viewport.set_rig(rig, frames, fps, 1.0 if self._focus_t is None else self._focus_t)
        self._focus_t = None
        self.path_sketch.set_rig(rig, frames, fps)

    def _held_time(self, *_args) -> None:
        """A moment the previz stays on is where the shot panel puts a new keyframe."""
        if self.viewport.still:
            self.document.previzTimeChanged.emit(self.viewport.t)

    # -- the previz source ------------------------------------------------------------
    def _key_pictures(self, shot) -> tuple[tuple[float, str], ...]:
        """The pictures the shot passes through after its start: (fraction, path)."""
        keys = [(k.time / shot.duration, k.image) for k in shot.keyframes]
        end = end_picture(self.document.project, shot)
        keys = [(t, image) for t, image in keys if 0.0 < t < 1.0]
        return (*keys, (1.0, end)) if end else tuple(keys)

    def _source_key_of(self, shot) -> tuple[tuple, int, int]:
        width = PREVIEW_WIDTH
        height = max(2, round(width * shot.height / max(shot.width, 1)))
        keys = tuple((t, image, self._stamp(image)) for t, image in self._key_pictures(shot))
        key, width, height = self._own_source_key(shot, width, height)
        return (*key, keys), width, height

    def _stamp(self, relative: str) -> int | None:
        try:
            return (self.document.folder / relative).stat().st_mtime_ns
        except OSError:
            return None

    def _own_source_key(self, shot, width: int, height: int) -> tuple[tuple, int, int]:
        if shot.keyframe:
            path = self.document.folder / shot.keyframe
            try:
                stamp = path.stat().st_mtime_ns
            except OSError:
                stamp = None
            return ("keyframe", str(path), stamp, width, height), width, height
        take = self.document.take_path(shot)
        if take is not None:
            return ("take", str(take), width, height), width, height
        return ("title", shot.prompt or shot.title, shot.seed, width, height), width, height

    # -- edits ------------------------------------------------------------------------
    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def _push_rig(self, rig: CameraRig, text: str, merge_key=None, focus_t: float = 1.0) -> None:
        shot = self.document.current_shot
        if shot is None or rig == shot.camera:
            return
        self._show_error("")
        self._focus_t = focus_t
        self.document.push(SetAttribute(shot, "camera", rig, text=text, merge_key=merge_key))

    def _value_edited(self, key: str, value: float, gesture: int) -> None:
        shot = self.document.current_shot
        if shot is None:
            return
        rig = shot.camera
        try:
            if key.startswith("shake_"):
                shake = rig.shake
                if key == "shake_amplitude":
                    rate = shake.frequency or (DEFAULT_SHAKE_HZ if value > 0 else 0.0)
                    shake = replace(shake, amplitude=value, frequency=rate)
                else:
                    shake = replace(shake, frequency=value)
                new = replace(rig, shake=Shake(shake.amplitude, shake.frequency, shake.seed))
            else:
                new = with_move(rig, key, NEUTRAL[key], value, self.rows[key].chosen_easing)
        except (StudioError, ValueError) as error:
            self._show_error(str(error))
            return
        label = key.replace("_", " ")
        self._push_rig(new, f"Camera {label}", ("camera", id(shot), key, gesture))

    def _easing_chosen(self, axis: str, easing: str) -> None:
        shot = self.document.current_shot
        if shot is None:
            return
        keys = getattr(shot.camera, axis)
        if not keys:
            return  # the row keeps the choice for the next move
        eased = tuple(replace(k, easing=Easing(easing)) for k in keys)
        self._push_rig(with_axis(shot.camera, axis, eased), f"Camera {axis} easing")

    def _keyframes_edited(self, axis: str, keys: tuple, gesture: int) -> None:
        shot = self.document.current_shot
        if shot is None:
            return
        try:
            rig = with_axis(shot.camera, axis, keys)
        except StudioError as error:
            self._show_error(str(error))
            self._refresh()
            return
        chosen = self.curve_editor.selected
        focus = keys[chosen].t if chosen is not None and chosen < len(keys) else 1.0
        self._push_rig(rig, f"Camera {axis}", ("camera", id(shot), axis, gesture), focus)

    def _apply_preset(self, name: str) -> None:
        amount = 1.0 if name == "static" else self.amount.value()
        try:
            rig = preset(name, amount)
        except ValueError as error:
            self._show_error(f"{_preset_label(name)} does not work at this amount: {error}")
            return
        self._push_rig(rig, f"Camera preset: {_preset_label(name).lower()}")

    def _duration_edited(self, seconds: float) -> None:
        shot = self.document.current_shot
        if shot is None or math.isclose(seconds, shot.duration):
            return
        if self._duration_gesture is None:
            self._duration_gesture = self.next_gesture()
        key = ("field", id(shot), "duration", self._duration_gesture)
        # The shot's untrimmed clips follow its new length, in the same undo step.
        self.document.push(set_shot_duration(self.document.project, shot, seconds, merge_key=key))

    def _duration_burst_ended(self) -> None:
        self._duration_gesture = None

    def _row_focused(self, key: str) -> None:
        index = self.curve_axis.findData(key)
        if index >= 0:
            self.curve_axis.setCurrentIndex(index)

    def _play_toggled(self, playing: bool) -> None:
        self.play.setText("Pause" if playing else "Play")
        self.viewport.set_playing(playing)
