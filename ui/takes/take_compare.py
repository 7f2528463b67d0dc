"""Two takes of a shot compared frame by frame: side by side, or one over the other with a
wipe line the director drags, with a frame slider and playback at the take's rate.

Each take keeps one frame-accurate VideoReader open for the life of the view; playing reads
forward, which the reader decodes without seeking. Readers close when the view closes, or
when it is destroyed with the window around it.
"""

from __future__ import annotations

from fractions import Fraction
from functools import partial
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.media.video import MediaError, VideoReader
from studio.timeline.timecode import timecode
from ui.widgets.images import to_qimage
from ui.widgets.readouts import FRAME_TIP, NO_TIMECODE, TIMECODE_TIP, frame_readout

SIDE, WIPE = "side", "wipe"
MODES = {SIDE: "Side by side", WIPE: "A/B wipe"}


def _close_all(readers: list[VideoReader], *_destroyed) -> None:
    """Close the readers and empty the list in place (the view and its `destroyed` share it)."""
    while readers:
        readers.pop().close()


class _Canvas(QWidget):
    """Paints the composed frame scaled to fit, with the wipe line or the seam and the
    take labels; drags in wipe mode move the line."""

    def __init__(self, view: TakeCompareView) -> None:
        super().__init__(view)
        self.view = view
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMouseTracking(False)

    def picture_rect(self) -> QRect:
        image = self.view.frame_image()
        if image.isNull():
            return QRect()
        size = image.size().scaled(self.size(), Qt.KeepAspectRatio)
        x = (self.width() - size.width()) // 2
        y = (self.height() - size.height()) // 2
        return QRect(QPoint(x, y), size)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0))
        image = self.view.frame_image()
        if image.isNull():
            painter.setPen(self.palette().color(self.foregroundRole()))
            painter.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap, self.view.error)
            return
        rect = self.picture_rect()
        painter.setRenderHint(QPainter.SmoothPixmapTransform)
        painter.drawImage(rect, image)
        line = QPen(QColor(255, 255, 255, 220), 2)
        painter.setPen(line)
        if self.view.mode == WIPE:
            x = rect.left() + round(self.view.wipe * rect.width())
            painter.drawLine(x, rect.top(), x, rect.bottom())
            painter.setBrush(QColor(255, 255, 255, 220))
            painter.drawEllipse(QPoint(x, rect.center().y()), 6, 6)
        else:
            x = rect.left() + round(self.view.seam_fraction() * rect.width())
            painter.drawLine(x, rect.top(), x, rect.bottom())
        label_a, label_b = self.view.labels
        self._label(painter, rect, label_a, Qt.AlignLeft)
        self._label(painter, rect, label_b, Qt.AlignRight)

    def _label(self, painter: QPainter, rect: QRect, text: str, side) -> None:
        metrics = painter.fontMetrics()
        box = QRectF(metrics.boundingRect(text)).adjusted(-6, -3, 6, 3)
        margin = 8
        x = rect.left() + margin if side == Qt.AlignLeft else rect.right() - margin - box.width()
        box.moveTo(x, rect.top() + margin)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(0, 0, 0, 160))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignCenter, text)

    def _drag(self, event: QMouseEvent) -> None:
        rect = self.picture_rect()
        if self.view.mode != WIPE or rect.width() <= 0:
            return
        self.view.set_wipe((event.position().x() - rect.left()) / rect.width())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.LeftButton:
            self._drag(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.buttons() & Qt.LeftButton:
            self._drag(event)


class TakeCompareView(QWidget):
    """Take A and take B at the same frame. `set_frame`, `set_mode`, `set_wipe`, and
    `frame_image()` for the composed picture (without the on-screen line and labels)."""

    frameChanged = Signal(int)  # noqa: N815 - Qt signal naming

    def __init__(
        self,
        path_a: str | Path,
        path_b: str | Path,
        parent: QWidget | None = None,
        *,
        labels: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = (Path(path_a), Path(path_b))
        self.labels = labels or (f"A: {self.paths[0].name}", f"B: {self.paths[1].name}")
        self.mode = SIDE
        self.wipe = 0.5
        self.frame = 0
        self.error = ""
        self._readers: list[VideoReader] = []
        # However the view goes, closed or destroyed with the window around it, its files
        # close: the callable holds the list, not the view, whose wrapper is dead by then.
        self.destroyed.connect(partial(_close_all, self._readers))
        self._images: tuple[QImage, QImage] | None = None
        self._composed: QImage | None = None
        self._open_readers()
        self.frame_count = min((len(r) for r in self._readers), default=0)
        self.fps = self._readers[0].info.fps if self._readers else Fraction(24)

        self.canvas = _Canvas(self)
        self.mode_box = QComboBox()
        for key, text in MODES.items():
            self.mode_box.addItem(text, key)
        self.mode_box.setToolTip("Show the takes side by side, or one over the other (W)")
        self.mode_box.currentIndexChanged.connect(
            lambda i: self.set_mode(self.mode_box.itemData(i))
        )
        self.play_button = QToolButton()
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play or pause both takes (Space)")
        self.play_button.toggled.connect(self._play_toggled)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, max(0, self.frame_count - 1))
        self.slider.setToolTip("The frame both takes show (Left/Right step one frame)")
        self.slider.valueChanged.connect(self.set_frame)
        # Read as the player reads a position: timecode, and frames counted from 0.
        self.timecode_label = QLabel(NO_TIMECODE, toolTip=TIMECODE_TIP)
        self.timecode_label.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.frame_label = QLabel(toolTip=FRAME_TIP)
        self.frame_label.setMinimumWidth(90)
        self.timer = QTimer(self)
        self.timer.setInterval(max(1, round(1000 / self.fps)))
        self.timer.timeout.connect(self._tick)

        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.timecode_label)
        controls.addWidget(self.frame_label)
        controls.addWidget(self.mode_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(controls)
        self.setFocusPolicy(Qt.StrongFocus)
        for widget in (self.play_button, self.slider, self.mode_box):
            widget.setEnabled(self.frame_count > 0)
        self._update_play_button(False)
        self.set_frame(0)

    def _open_readers(self) -> None:
        try:
            for path in self.paths:
                self._readers.append(VideoReader(path))
        except (MediaError, OSError) as exc:
            self.release()
            self.error = f"Cannot open the take: {exc}"

    # -- state -------------------------------------------------------------------------
    def set_frame(self, index: int) -> None:
        """Show frame `index` of both takes (clamped to the shorter one)."""
        if not self._readers or self.frame_count <= 0:
            return
        index = max(0, min(int(index), self.frame_count - 1))
        if self._images is not None and index == self.frame:
            return
        try:
            images = tuple(to_qimage(reader.read(index)) for reader in self._readers)
        except (MediaError, IndexError) as exc:
            self.error = f"Cannot read frame {index}: {exc}"
            self.timer.stop()
            self.canvas.update()
            return
        self.frame, self._images, self._composed = index, images, None
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self.timecode_label.setText(timecode(index, self.fps))
        self.frame_label.setText(frame_readout(index, self.frame_count))
        self.canvas.update()
        self.frameChanged.emit(index)

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown compare mode {mode!r} (expected 'side' or 'wipe')")
        if mode == self.mode:
            return
        self.mode, self._composed = mode, None
        self.mode_box.blockSignals(True)
        self.mode_box.setCurrentIndex(list(MODES).index(mode))
        self.mode_box.blockSignals(False)
        self.canvas.setCursor(Qt.SplitHCursor if mode == WIPE else Qt.ArrowCursor)
        self.canvas.update()

    def set_wipe(self, fraction: float) -> None:
        """Put the wipe line at `fraction` of the picture's width (A left, B right)."""
        fraction = max(0.0, min(1.0, float(fraction)))
        if fraction == self.wipe:
            return
        self.wipe = fraction
        if self.mode == WIPE:
            self._composed = None
        self.canvas.update()

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def play(self, on: bool = True) -> None:
        self.play_button.setChecked(on and self.frame_count > 1)

    # -- the picture -------------------------------------------------------------------
    def frame_image(self) -> QImage:
        """The composed picture at A's resolution: A | B side by side, or A left of the
        wipe line and B right of it (B scaled to A's size when they differ)."""
        if self._images is None:
            return QImage()
        if self._composed is None:
            self._composed = self._compose(*self._images)
        return self._composed

    def seam_fraction(self) -> float:
        if self._images is None:
            return 0.5
        width_a = self._images[0].width()
        return width_a / max(1, self.frame_image().width())

    def _compose(self, a: QImage, b: QImage) -> QImage:
        w, h = a.width(), a.height()
        if self.mode == SIDE:
            b_width = max(1, round(b.width() * h / max(1, b.height())))
            out = QImage(w + b_width, h, QImage.Format_RGB888)
            painter = QPainter(out)
            painter.setRenderHint(QPainter.SmoothPixmapTransform)
            painter.drawImage(QPoint(0, 0), a)
            painter.drawImage(QRect(w, 0, b_width, h), b)
        else:
            out = QImage(w, h, QImage.Format_RGB888)
            painter = QPainter(out)
            painter.setRenderHint(QPainter.SmoothPixmapTransform)
            painter.drawImage(QPoint(0, 0), a)
            split = round(self.wipe * w)
            painter.setClipRect(QRect(split, 0, w - split, h))
            painter.drawImage(QRect(0, 0, w, h), b)
        painter.end()
        return out

    # -- playback ----------------------------------------------------------------------
    def _play_toggled(self, on: bool) -> None:
        if on and self.frame_count > 1:
            self.timer.start()
        else:
            self.timer.stop()
        self._update_play_button(self.timer.isActive())

    def _update_play_button(self, playing: bool) -> None:
        icon = QStyle.SP_MediaPause if playing else QStyle.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play")

    def _tick(self) -> None:
        # Compare loops: both takes run again from the start.
        self.set_frame((self.frame + 1) % self.frame_count)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        key = event.key()
        if key == Qt.Key_Space:
            self.play(not self.playing)
        elif key in (Qt.Key_Left, Qt.Key_Right):
            self.set_frame(self.frame + (1 if key == Qt.Key_Right else -1))
        elif key == Qt.Key_Home:
            self.set_frame(0)
        elif key == Qt.Key_End:
            self.set_frame(self.frame_count - 1)
        elif key == Qt.Key_W:
            self.set_mode(SIDE if self.mode == WIPE else WIPE)
        else:
            super().keyPressEvent(event)

    # -- life --------------------------------------------------------------------------
    def release(self) -> None:
        """Stop playing and close both readers (also done when the view closes)."""
        if hasattr(self, "timer"):
            self.timer.stop()
        _close_all(self._readers)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.release()
        super().closeEvent(event)


class TakeCompareDialog(QDialog):
    """A window around the compare view of two takes' files (`labels` name the sides);
    closing it closes the takes' readers."""

    def __init__(
        self, paths: tuple[Path, Path], parent: QWidget | None = None, **labels: tuple[str, str]
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare takes")
        self.view = TakeCompareView(*paths, self, **labels)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.resize(960, 480 if self.view.mode == SIDE else 620)
        self.finished.connect(lambda _result: self.view.release())
        self.view.setFocus()
