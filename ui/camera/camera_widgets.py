"""The camera panel's editing parts: one slider row per rig axis and the keyframe curve
editor.

They show values and report edits as signals; the panel turns edits into undoable commands.
Every edit carries a gesture number from the panel, so that one drag is one undo step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFontMetrics, QPainter, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QSizePolicy, QSlider, QWidget

from studio.camera.easing import Easing, Keyframe, axis_values
from studio.camera.rig import AXES, AXIS_UNITS, NEUTRAL, CameraRig

GestureSource = Callable[[], int]


@dataclass(frozen=True)
class AxisSpec:
    """How one slider row shows a rig value: range, precision, unit and slider scale."""

    key: str  # a rig axis, or "shake_amplitude" / "shake_frequency"
    label: str
    minimum: float
    maximum: float
    decimals: int
    suffix: str
    tooltip: str
    scale: float  # slider ticks per unit (per doubling for a log axis)
    log: bool = False

    def to_slider(self, value: float) -> int:
        if self.log:
            return round(math.log2(max(value, 1e-9)) * self.scale)
        return round(value * self.scale)

    def from_slider(self, tick: int) -> float:
        value = 2.0 ** (tick / self.scale) if self.log else tick / self.scale
        return round(value, self.decimals)

    @property
    def is_shake(self) -> bool:
        return self.key.startswith("shake_")


def _suffix(axis: str) -> str:
    unit = AXIS_UNITS[axis]
    return unit if unit in ("°", "×") else f" {unit}"


_SIGNS = {
    "pan": "+ turns the view right, − left",
    "tilt": "+ tilts up, − down",
    "roll": "+ rolls clockwise (the picture turns counterclockwise)",
    "truck": "+ moves the camera right, − left (scene units; the subject is 4 away)",
    "pedestal": "+ cranes up, − down (scene units)",
    "dolly": "+ moves in towards the subject, − out (scene units)",
    "zoom": "focal length ratio: above 1 is tighter, below 1 wider",
    "orbit": "+ circles right around the subject, − left",
}
_RANGES = {
    "pan": (-180.0, 180.0),
    "tilt": (-90.0, 90.0),
    "roll": (-180.0, 180.0),
    "truck": (-4.0, 4.0),
    "pedestal": (-4.0, 4.0),
    "dolly": (-4.0, 3.5),
    "zoom": (0.25, 4.0),
    "orbit": (-180.0, 180.0),
}


def _axis_spec(axis: str) -> AxisSpec:
    low, high = _RANGES[axis]
    unit = AXIS_UNITS[axis]
    tip = f"{axis.capitalize()}: {_SIGNS[axis]}. Sets a move from neutral to this value."
    if unit == "°":
        return AxisSpec(axis, axis.capitalize(), low, high, 1, _suffix(axis), tip, 10.0)
    if unit == "×":
        return AxisSpec(axis, "Zoom", low, high, 2, _suffix(axis), tip, 100.0, log=True)
    return AxisSpec(axis, axis.capitalize(), low, high, 2, _suffix(axis), tip, 100.0)


AXIS_SPECS: tuple[AxisSpec, ...] = (
    *(_axis_spec(axis) for axis in AXES),
    AxisSpec(
        "shake_amplitude", "Shake", 0.0, 10.0, 2, "°",
        "Handheld shake: the largest jitter in degrees (0 is a locked-off camera).", 100.0,
    ),
    AxisSpec(
        "shake_frequency", "Shake rate", 0.0, 10.0, 2, " Hz",
        "Handheld shake: how fast the jitter wanders, in hertz.", 100.0,
    ),
)  # fmt: skip

EASING_NAMES = {
    Easing.LINEAR: "Linear",
    Easing.EASE_IN: "Ease in",
    Easing.EASE_OUT: "Ease out",
    Easing.EASE_IN_OUT: "Ease in-out",
    Easing.HOLD: "Hold",
}


def rig_value(rig: CameraRig, key: str) -> float:
    """What a row shows: the end value of the axis (its last keyframe), or the shake."""
    if key == "shake_amplitude":
        return float(rig.shake.amplitude)
    if key == "shake_frequency":
        return float(rig.shake.frequency)
    keys = getattr(rig, key)
    return float(keys[-1].value) if keys else NEUTRAL[key]


class AxisRow(QObject):
    """Label, slider, spin box and easing choice of one axis, laid out by the panel's grid.

    `valueEdited(key, value, gesture)`: a whole slider drag shares one gesture; so does a
    spin-box editing burst (until Enter or leaving the box); each keyboard step on the
    slider is a gesture of its own. `easingChosen(key, easing)`; `focused(key)` when one
    of the row's controls takes the keyboard focus or is pressed.
    """

    valueEdited = Signal(str, float, int)  # noqa: N815
    easingChosen = Signal(str, str)  # noqa: N815
    focused = Signal(str)

    def __init__(self, spec: AxisSpec, next_gesture: GestureSource, parent: QWidget) -> None:
        super().__init__(parent)
        self.spec = spec
        self._next_gesture = next_gesture
        self._drag_gesture: int | None = None
        self._spin_gesture: int | None = None
        self.label = QLabel(spec.label, parent)
        self.label.setToolTip(spec.tooltip)
        self.slider = QSlider(Qt.Horizontal, parent)
        self.slider.setRange(spec.to_slider(spec.minimum), spec.to_slider(spec.maximum))
        # Arrow keys step 1° or 0.05 units (about 3.5 % of focal length on the log zoom).
        step = 1.0 if spec.decimals == 1 else 0.05
        ticks = 5 if spec.log else max(1, round(step * spec.scale))
        self.slider.setSingleStep(ticks)
        self.slider.setPageStep(10 * ticks)
        self.slider.setMinimumWidth(60)  # room for the value and easing first
        self.slider.setToolTip(spec.tooltip)
        self.slider.setAccessibleName(f"{spec.label} slider")
        self.spin = QDoubleSpinBox(parent)
        self.spin.setDecimals(spec.decimals)
        self.spin.setRange(spec.minimum, spec.maximum)
        self.spin.setSingleStep(step)
        self.spin.setSuffix(spec.suffix)
        self.spin.setKeyboardTracking(False)  # a typed number counts once Enter is pressed
        self.spin.setToolTip(spec.tooltip)
        self.spin.setAccessibleName(spec.label)
        self.spin.setMinimumWidth(92)
        self.label.setBuddy(self.spin)
        self.easing = QComboBox(parent)
        for kind, name in EASING_NAMES.items():
            self.easing.addItem(name, kind.value)
        self.easing.setCurrentIndex(self.easing.findData(Easing.EASE_IN_OUT.value))
        self.easing.setToolTip(f"How the {spec.label.lower()} move speeds up and slows down")
        self.easing.setVisible(not spec.is_shake)
        self.set_value(NEUTRAL.get(spec.key, 0.0))

        self.slider.sliderPressed.connect(self._drag_started)
        self.slider.sliderReleased.connect(self._drag_ended)
        self.slider.valueChanged.connect(self._slider_moved)
        self.spin.valueChanged.connect(self._spin_changed)
        self.spin.editingFinished.connect(self._spin_burst_ended)
        self.easing.activated.connect(self._easing_activated)
        for widget in (self.slider, self.spin, self.easing):
            widget.installEventFilter(self)

    def widgets(self) -> tuple[QWidget, ...]:
        return (self.label, self.slider, self.spin, self.easing)

    @property
    def value(self) -> float:
        return float(self.spin.value())

    @property
    def dragging(self) -> bool:
        return self._drag_gesture is not None

    def set_value(self, value: float) -> None:
        """Show `value` without reporting an edit (a value past the range widens the box)."""
        spin_low = min(self.spec.minimum, value)
        spin_high = max(self.spec.maximum, value)
        tick = self.spec.to_slider(value)
        spin = self.spin
        if (
            spin.minimum() == spin_low
            and spin.maximum() == spin_high
            and spin.value() == round(value, spin.decimals())
            and (self.dragging or self.slider.value() == tick)
        ):
            return  # shown already: setting it again would repaint the row for nothing
        for widget in (self.slider, self.spin):
            widget.blockSignals(True)
        try:
            self.spin.setRange(spin_low, spin_high)
            self.spin.setValue(value)
            if not self.dragging:  # never pull the handle from under the mouse
                self.slider.setValue(tick)
        finally:
            for widget in (self.slider, self.spin):
                widget.blockSignals(False)

    def set_easing(self, easing: Easing | str) -> None:
        index = self.easing.findData(Easing(easing).value)
        if index >= 0 and index != self.easing.currentIndex():
            self.easing.setCurrentIndex(index)

    @property
    def chosen_easing(self) -> Easing:
        return Easing(self.easing.currentData())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in (QEvent.FocusIn, QEvent.MouseButtonPress):
            self.focused.emit(self.spec.key)
        return False

    # -- gestures ----------------------------------------------------------------------
    def _drag_started(self) -> None:
        self._drag_gesture = self._next_gesture()
        self.focused.emit(self.spec.key)

    def _drag_ended(self) -> None:
        self._drag_gesture = None

    def _slider_moved(self, tick: int) -> None:
        value = self.spec.from_slider(tick)
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)
        gesture = self._drag_gesture if self._drag_gesture is not None else self._next_gesture()
        self.valueEdited.emit(self.spec.key, value, gesture)

    def _spin_changed(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(self.spec.to_slider(value))
        self.slider.blockSignals(False)
        if self._spin_gesture is None:
            self._spin_gesture = self._next_gesture()
        self.valueEdited.emit(self.spec.key, float(value), self._spin_gesture)

    def _spin_burst_ended(self) -> None:
        self._spin_gesture = None

    def _easing_activated(self, _index: int) -> None:
        self.easingChosen.emit(self.spec.key, self.easing.currentData())


# --- the keyframe curve editor ----------------------------------------------------------

_DOT, _HIT = 4.0, 8.0
_LEFT, _RIGHT, _TOP, _BOTTOM = 42.0, 8.0, 16.0, 6.0
_MIN_GAP = 0.005  # keyframe times stay strictly increasing
# The rig's own bounds (studio.camera.rig validates keyframes against them).
_VALUE_LIMITS = {
    axis: (1e-3, 1e3) if unit == "×" else (-3600.0, 3600.0) if unit == "°" else (-1e4, 1e4)
    for axis, unit in AXIS_UNITS.items()
}
_FLOOR = {"°": 10.0, "×": math.log2(1.25)}  # smallest half-range shown, display units


class CurveEditor(QWidget):
    """Value over the shot for one axis, keyframes as dots.

    Drag a dot (Shift keeps its time), double-click to add a keyframe, right-click or Delete
    to remove the selected one; arrow keys pick (Left/Right) and nudge (Up/Down) it.
    `keyframesEdited(axis, keyframes, gesture)`: one drag shares one gesture.
    `timeTouched(t)`: a keyframe was picked (pressed, or chosen with the arrows) at `t`.
    """

    keyframesEdited = Signal(str, object, int)  # noqa: N815
    timeTouched = Signal(float)  # noqa: N815

    def __init__(self, next_gesture: GestureSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._next_gesture = next_gesture
        self.axis = "pan"
        self.keys: tuple[Keyframe, ...] = ()
        self.selected: int | None = None
        self.playhead: float | None = None
        self._drag: tuple[int, int] | None = None  # (keyframe index, gesture)
        self._nudge_gesture: int | None = None
        self._frozen_range: tuple[float, float] | None = None
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMinimumSize(240, 110)
        self.setFixedHeight(120)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setToolTip(
            "Keyframes of the selected axis over the shot. Drag a dot to change its value and "
            "time (Shift: value only), double-click to add one, right-click or Delete to remove."
        )

    def set_axis(self, axis: str, keys: tuple[Keyframe, ...]) -> None:
        if axis != self.axis:
            self.selected = None
            self._drag = None
        self.axis = axis
        self.set_keyframes(keys)

    def set_keyframes(self, keys: tuple[Keyframe, ...]) -> None:
        self.keys = tuple(keys)
        if self.selected is not None and self.selected >= len(self.keys):
            self.selected = len(self.keys) - 1 if self.keys else None
        self.update()

    def set_playhead(self, t: float | None) -> None:
        if t != self.playhead:
            self.playhead = t
            self.update()

    # -- coordinates ------------------------------------------------------------------
    @property
    def _log(self) -> bool:
        return self.axis == "zoom"

    def _shown(self, value: float) -> float:
        return math.log2(max(value, 1e-9)) if self._log else value

    def _value_range(self) -> tuple[float, float]:
        """The values shown, centred on neutral, wide enough for every keyframe."""
        if self._frozen_range is not None:
            return self._frozen_range
        centre = self._shown(NEUTRAL[self.axis])
        floor = _FLOOR.get(AXIS_UNITS[self.axis], 0.5)
        reach = max([floor, *(abs(self._shown(k.value) - centre) * 1.2 for k in self.keys)])
        return centre - reach, centre + reach

    def _plot(self) -> QRectF:
        return QRectF(_LEFT, _TOP, self.width() - _LEFT - _RIGHT, self.height() - _TOP - _BOTTOM)

    def _point(self, t: float, value: float) -> QPointF:
        plot, (low, high) = self._plot(), self._value_range()
        y = plot.bottom() - (self._shown(value) - low) / (high - low) * plot.height()
        return QPointF(plot.left() + t * plot.width(), y)

    def _at(self, pos: QPointF) -> tuple[float, float]:
        """(t, value) under a widget position, clamped to the shot and the axis limits."""
        plot, (low, high) = self._plot(), self._value_range()
        t = min(1.0, max(0.0, (pos.x() - plot.left()) / max(plot.width(), 1.0)))
        shown = low + (plot.bottom() - pos.y()) / max(plot.height(), 1.0) * (high - low)
        value = 2.0**shown if self._log else shown
        lo, hi = _VALUE_LIMITS[self.axis]
        decimals = 1 if AXIS_UNITS[self.axis] == "°" else 3
        return round(t, 3), round(min(hi, max(lo, value)), decimals)

    def _hit(self, pos: QPointF) -> int | None:
        best, index = _HIT, None
        for i, key in enumerate(self.keys):
            point = self._point(key.t, key.value)
            distance = math.hypot(point.x() - pos.x(), point.y() - pos.y())
            if distance <= best:
                best, index = distance, i
        return index

    # -- edits ------------------------------------------------------------------------
    def _emit(self, keys: tuple[Keyframe, ...], gesture: int) -> None:
        self.keys = keys
        self.update()
        self.keyframesEdited.emit(self.axis, keys, gesture)

    def _moved(self, index: int, t: float, value: float, keep_time: bool) -> tuple[Keyframe, ...]:
        keys = list(self.keys)
        low = keys[index - 1].t + _MIN_GAP if index > 0 else 0.0
        high = keys[index + 1].t - _MIN_GAP if index + 1 < len(keys) else 1.0
        t = keys[index].t if keep_time else min(high, max(low, t))
        keys[index] = Keyframe(t, value, keys[index].easing)
        return tuple(keys)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        index = self._hit(event.position())
        if event.button() == Qt.RightButton and index is not None:
            self.selected = index
            self._remove_selected()
        elif event.button() == Qt.LeftButton and index is not None:
            self.selected = index
            self._drag = (index, self._next_gesture())
            self._frozen_range = self._value_range()  # the scale holds still while dragging
            self.timeTouched.emit(self.keys[index].t)
            self.update()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._drag is None:
            return super().mouseMoveEvent(event)
        index, gesture = self._drag
        t, value = self._at(event.position())
        keys = self._moved(index, t, value, bool(event.modifiers() & Qt.ShiftModifier))
        if keys != self.keys:
            self._emit(keys, gesture)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._drag is not None and event.button() == Qt.LeftButton:
            self._drag = None
            self._frozen_range = None
            self.update()
        else:
            super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.button() != Qt.LeftButton or self._hit(event.position()) is not None:
            return
        t, value = self._at(event.position())
        if any(abs(k.t - t) < _MIN_GAP for k in self.keys):
            return
        before = [k for k in self.keys if k.t < t]
        easing = before[-1].easing if before else Easing.EASE_IN_OUT
        added = Keyframe(t, value, easing)
        keys = sorted([*self.keys, added], key=lambda k: k.t)
        if not self.keys and t > 0.0:
            # A first keyframe alone would be a constant offset; start the move from neutral.
            keys.insert(0, Keyframe(0.0, NEUTRAL[self.axis], easing))
        self.selected = keys.index(added)
        self._emit(tuple(keys), self._next_gesture())

    def _remove_selected(self) -> None:
        if self.selected is None or not self.keys:
            return
        keys = self.keys[: self.selected] + self.keys[self.selected + 1 :]
        self.selected = min(self.selected, len(keys) - 1) if keys else None
        self._emit(keys, self._next_gesture())

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        key = event.key()
        if key in (Qt.Key_Delete, Qt.Key_Backspace):
            self._remove_selected()
        elif key in (Qt.Key_Left, Qt.Key_Right) and self.keys:
            step = -1 if key == Qt.Key_Left else 1
            current = self.selected if self.selected is not None else (-1 if step > 0 else 0)
            self.selected = (current + step) % len(self.keys)
            self.timeTouched.emit(self.keys[self.selected].t)
            self.update()
        elif key in (Qt.Key_Up, Qt.Key_Down) and self.selected is not None:
            if self._nudge_gesture is None or not event.isAutoRepeat():
                self._nudge_gesture = self._next_gesture()
            sign = 1.0 if key == Qt.Key_Up else -1.0
            current = self.keys[self.selected]
            if self._log:
                value = round(current.value * 1.05**sign, 3)
            else:
                value = round(
                    current.value + sign * (1.0 if AXIS_UNITS[self.axis] == "°" else 0.05), 3
                )
            keys = self._moved(self.selected, current.t, value, keep_time=True)
            self._emit(keys, self._nudge_gesture)
        else:
            super().keyPressEvent(event)

    # -- painting ---------------------------------------------------------------------
    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt override
        pal = self.palette()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        plot = self._plot()
        painter.fillRect(self.rect(), pal.color(QPalette.Base))
        mid = pal.color(QPalette.Mid)
        text = pal.color(QPalette.Text)
        painter.setPen(QPen(mid, 1))
        painter.drawRect(plot)
        neutral_y = self._point(0.0, NEUTRAL[self.axis]).y()
        painter.setPen(QPen(mid, 1, Qt.DashLine))
        painter.drawLine(QPointF(plot.left(), neutral_y), QPointF(plot.right(), neutral_y))
        # Value labels at the top and bottom of the scale, in the axis' own units.
        low, high = self._value_range()
        unit = AXIS_UNITS[self.axis]
        shown = [2.0**v if self._log else v for v in (high, low)]
        painter.setPen(text)
        metrics = QFontMetrics(self.font())
        for value, y in zip(shown, (plot.top(), plot.bottom()), strict=True):
            label = (
                f"{value:.2f}{unit}" if unit == "×" else f"{value:.3g}{'°' if unit == '°' else ''}"
            )
            width = metrics.horizontalAdvance(label)
            painter.drawText(QPointF(_LEFT - 4 - width, y + metrics.ascent() / 2), label)
        painter.drawText(QPointF(_LEFT, _TOP - 4), f"{self.axis} ({unit}) over the shot")
        if self.playhead is not None:
            x = plot.left() + self.playhead * plot.width()
            painter.setPen(QPen(pal.color(QPalette.Highlight).darker(130), 1))
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        # The curve as the rig samples it, mapped to pixels in one go.
        ts = np.linspace(0.0, 1.0, max(2, int(plot.width()) // 2))
        values = axis_values(self.keys, ts, log=self._log)
        heights = np.log2(np.maximum(values, 1e-9)) if self._log else values
        xs = plot.left() + ts * plot.width()
        ys = plot.bottom() - (heights - low) / (high - low) * plot.height()
        curve = QPolygonF([QPointF(x, y) for x, y in zip(xs.tolist(), ys.tolist(), strict=True)])
        painter.setPen(QPen(text, 1.5))
        painter.drawPolyline(curve)
        for i, key in enumerate(self.keys):
            chosen = i == self.selected
            painter.setPen(QPen(text, 1))
            painter.setBrush(
                pal.color(QPalette.Highlight) if chosen else pal.color(QPalette.Button)
            )
            radius = _DOT + (1.5 if chosen else 0.0)
            painter.drawEllipse(self._point(key.t, key.value), radius, radius)
        if not self.keys:
            painter.setPen(pal.color(QPalette.PlaceholderText))
            painter.drawText(plot, Qt.AlignCenter, "No keyframes: double-click to add one")
        if self.hasFocus():
            painter.setPen(QPen(pal.color(QPalette.Highlight), 1))
            painter.setBrush(Qt.NoBrush)
            painter.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        painter.end()
