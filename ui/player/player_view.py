"""The player's widgets: the picture, the frame scrub bar with its in/out range, the transport.

They hold no playback state; `ui.player.player.PlayerPanel` drives them. Every readout of
a position (the player's, the compare view's, the timeline's) says it the same way:
timecode, and frame numbers counted from 0 (`frame_readout`).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontDatabase, QImage, QPainter
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.timeline.timecode import timecode
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.images import to_qimage
from ui.widgets.media_icons import media_icon
from ui.widgets.readouts import FRAME_TIP, NO_TIMECODE, TIMECODE_TIP, frame_readout


class FrameView(QWidget):
    """Paints the current frame scaled to fit, aspect kept, on black bars; or a message."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._message = ""
        self.setMinimumSize(160, 90)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setAttribute(Qt.WA_OpaquePaintEvent)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(640, 360)

    @property
    def message(self) -> str:
        return self._message

    def set_frame(self, frame: np.ndarray | None) -> None:
        self._image = None if frame is None else to_qimage(frame)
        self._message = ""
        self.update()

    def set_message(self, text: str) -> None:
        self._image, self._message = None, text
        self.update()

    def image_rect(self) -> QRect:
        """Where the frame is drawn: the largest rectangle of its aspect, centred."""
        if self._image is None:
            return QRect()
        w, h = self._image.width(), self._image.height()
        scale = min(self.width() / w, self.height() / h)
        tw, th = max(1, round(w * scale)), max(1, round(h * scale))
        return QRect((self.width() - tw) // 2, (self.height() - th) // 2, tw, th)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        # Video is framed in black whatever the theme, as in every player and monitor.
        painter.fillRect(self.rect(), Qt.black)
        if self._image is not None:
            painter.setRenderHint(QPainter.SmoothPixmapTransform)
            painter.drawImage(self.image_rect(), self._image)
        elif self._message:
            painter.setPen(QColor(200, 200, 200))
            area = self.rect().adjusted(24, 24, -24, -24)
            painter.drawText(area, Qt.AlignCenter | Qt.TextWordWrap, self._message)
        painter.end()


class ScrubBar(QSlider):
    """A slider over frames 0..count-1 that shows the in..out range under its groove."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Horizontal, parent)
        self.marks: tuple[int | None, int | None] = (None, None)
        self.setToolTip("Drag to any frame; I and O mark the range that loop plays")

    def set_marks(self, mark_in: int | None, mark_out: int | None) -> None:
        self.marks = (mark_in, mark_out)
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        lo, hi = self.marks
        if (lo is None and hi is None) or self.maximum() <= self.minimum():
            return
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        style = self.style()
        groove = style.subControlRect(QStyle.CC_Slider, opt, QStyle.SC_SliderGroove, self)
        handle = style.subControlRect(QStyle.CC_Slider, opt, QStyle.SC_SliderHandle, self)
        span = groove.width() - handle.width()

        def x_of(value: int) -> int:
            pos = QStyle.sliderPositionFromValue(self.minimum(), self.maximum(), value, span)
            return groove.x() + handle.width() // 2 + pos

        left = x_of(self.minimum() if lo is None else lo)
        right = x_of(self.maximum() if hi is None else hi)
        colour = QColor(self.palette().highlight().color())
        colour.setAlpha(190)
        painter = QPainter(self)
        painter.fillRect(QRect(left, self.height() - 5, max(2, right - left), 4), colour)
        painter.end()


class TransportBar(QWidget):
    """Buttons and read-outs under the picture; the panel connects the buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start_button = self._button("start", "Start", "Go to start (Home)")
        self.back_button = self._button("back", "Back", "Previous frame (, or Left)")
        self.play_button = self._button("play", "Play", "Play / pause (Space)")
        self.forward_button = self._button("forward", "Forward", "Next frame (. or Right)")
        self.end_button = self._button("end", "End", "Go to end (End)")
        self.loop_button = self._button(
            None, "Loop", "Loop playback, between the in and out marks when set"
        )
        self.loop_button.setCheckable(True)
        self.take_button = self._button(None, "Take", "Play the current shot's take")
        self.sequence_button = self._button(
            None, "Sequence", "Play the whole timeline with its sound"
        )
        self.modes = QButtonGroup(self)
        for button in (self.take_button, self.sequence_button):
            button.setCheckable(True)
            self.modes.addButton(button)
        self.take_button.setChecked(True)

        self.timecode_label = QLabel(NO_TIMECODE, self)
        self.timecode_label.setToolTip(TIMECODE_TIP)
        self.timecode_label.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.frame_label = QLabel("", self)
        self.frame_label.setToolTip(FRAME_TIP)
        self.rate_label = QLabel("", self)
        self.rate_label.setToolTip("Shuttle speed (J / K / L)")
        # Room kept for the longest usual text, so the bar (and the window's docks around
        # the player) keep their width as a take loads or the shuttle speeds up.
        metrics = self.fontMetrics()
        self.frame_label.setMinimumWidth(metrics.horizontalAdvance("0000 / 0000"))
        self.rate_label.setMinimumWidth(metrics.horizontalAdvance("-0×"))
        # A notice takes the room that is left and asks for none: a long one never widens
        # the bar, and so never the window (the status bar shows it whole).
        self.notice_label = ElidedLabel("", self)
        self.notice_label.MIN_CHARACTERS = 0
        self.notice_label.setEnabled(False)  # drawn in the palette's muted text colour
        self._lay_out()

    def _lay_out(self) -> None:
        """Buttons, then the read-outs, then the modes, on one row; on two when the bar is
        narrower than that row (the read-outs go under the buttons), so that nothing is
        squeezed over its neighbour in a small window."""
        self.readouts = QWidget(self)
        readouts = QHBoxLayout(self.readouts)
        readouts.setContentsMargins(0, 0, 0, 0)
        for label in (self.timecode_label, self.frame_label, self.rate_label):
            readouts.addWidget(label)
        readouts.addWidget(self.notice_label, 1)
        self._rows = QVBoxLayout(self)
        self._rows.setContentsMargins(4, 0, 4, 0)
        self._rows.setSpacing(2)
        self._top = QHBoxLayout()
        buttons = QHBoxLayout()
        buttons.setSpacing(0)
        for button in self.transport_buttons():
            buttons.addWidget(button)
        self._top.addLayout(buttons)
        self._top.addWidget(self.loop_button)
        self._top.addSpacing(8)
        self._top.addStretch(0)  # takes the spare room while the read-outs are below
        self._top.addWidget(self.take_button)
        self._top.addWidget(self.sequence_button)
        self._rows.addLayout(self._top)
        self._two_rows = True
        self._set_two_rows(False)
        self._one_row_width = self._rows.minimumSize().width()
        self._set_two_rows(True)
        self._narrowest = self._rows.minimumSize().width()
        self._set_two_rows(False)

    def _set_two_rows(self, two: bool) -> bool:
        """Move the read-outs; True when they moved."""
        if two == self._two_rows:
            return False
        self._two_rows = two
        stretch = 3  # the stretch's place in the top row, after the buttons and loop
        if two:
            self._top.removeWidget(self.readouts)
            self._top.setStretch(stretch, 1)
            self.readouts.layout().setContentsMargins(0, 0, 0, 0)
            self._rows.addWidget(self.readouts)
        else:
            self._rows.removeWidget(self.readouts)
            self._top.setStretch(stretch, 0)
            self.readouts.layout().setContentsMargins(0, 0, 8, 0)
            self._top.insertWidget(stretch, self.readouts, 1)
        return True

    @property
    def two_rows(self) -> bool:
        """Whether the read-outs sit under the buttons (a narrow bar)."""
        return self._two_rows

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self._narrowest, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._set_two_rows(event.size().width() < self._one_row_width):
            self._rows.activate()  # now, not on the next pass: nothing is drawn squeezed

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.PaletteChange:  # the icons follow the theme's text colour
            for button in self.transport_buttons():
                self._set_icon(button, button.property("mediaIcon"))

    def _set_icon(self, button: QToolButton, kind: str) -> None:
        button.setProperty("mediaIcon", kind)
        button.setIcon(media_icon(kind, self.palette()))

    def _button(self, icon, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        if icon is None:
            button.setText(text)
        else:
            self._set_icon(button, icon)
        button.setToolTip(tip)
        button.setAccessibleName(text)
        button.setAutoRaise(True)
        return button

    def transport_buttons(self) -> tuple[QToolButton, ...]:
        return (
            self.start_button,
            self.back_button,
            self.play_button,
            self.forward_button,
            self.end_button,
        )

    def set_playing(self, rate: int) -> None:
        self._set_icon(self.play_button, "pause" if rate else "play")
        self.play_button.setAccessibleName("Pause" if rate else "Play")
        self.rate_label.setText("" if rate in (0, 1) else f"{rate:+d}×")

    def set_time(self, index: int | None, count: int, fps) -> None:
        if index is None:
            self.timecode_label.setText(NO_TIMECODE)
            self.frame_label.setText("")
            return
        self.timecode_label.setText(timecode(index, fps))
        self.frame_label.setText(frame_readout(index, count))

    def show_notice(self, text: str) -> None:
        self.notice_label.setText(text)
        self.notice_label.setToolTip(text)
        self.notice_label.show()
