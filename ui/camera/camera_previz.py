"""What the camera move looks like: the live previz of the current shot and a top-down
sketch of the camera path.

Both redraw as the rig changes; neither edits anything.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QElapsedTimer, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from engine.backends.previz import PrevizRenderer
from engine.backends.previz_keys import KeyedPreviz
from studio.camera.easing import Easing, Keyframe
from studio.camera.rig import AXES, CameraRig, axis_value, poses
from studio.errors import StudioError
from ui.widgets.images import to_qimage

PREVIEW_WIDTH = 320
PREVIEW_MIN_WIDTH = 160  # a narrow dock shows the previz smaller, never cut off
TICK_MS = 42  # about 24 fps
HOLD_MS = 900  # after an edit the previz holds the edited moment, then loops again
MAX_LOOP_FRAMES = 480  # longer shots loop over evenly spaced samples


def probe_rig(rig: CameraRig, t: float) -> CameraRig:
    """A rig whose frame 1 of 2 is `rig` at fraction `t` of the shot and whose frame 0 is
    `rig`'s frame 0, so one frame of a long shot renders without posing all the others."""
    axes: dict[str, tuple[Keyframe, ...]] = {}
    for axis in AXES:
        keys = getattr(rig, axis)
        if keys:
            log = axis == "zoom"
            start, here = axis_value(keys, 0.0, log=log), axis_value(keys, t, log=log)
            axes[axis] = (Keyframe(0.0, start, Easing.LINEAR), Keyframe(1.0, here, Easing.LINEAR))
    return replace(rig, **axes)


class PrevizViewport(QWidget):
    """The rig seen through the previz, looping over the shot while visible.

    Keeps one PrevizRenderer for the (source, rig) pair, built when the loop needs it; an
    edit shows its moment at once through a two-frame probe, which costs a few
    milliseconds whatever the length of the shot. A shot with keyframes inside it or an
    end picture (`keys`) dissolves through them (`KeyedPreviz`), each moment shown from the
    loop's nearest sample. Space or a click plays and pauses.
    """

    framePainted = Signal()  # noqa: N815
    timeShown = Signal(float)  # noqa: N815 - fraction of the shot now on screen
    playingChanged = Signal(bool)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = np.zeros((180, PREVIEW_WIDTH, 3), np.uint8)
        self.rig = CameraRig()
        self.frames, self.fps = 1, 24.0
        self.keys: tuple[tuple[float, np.ndarray], ...] = ()  # (fraction, picture) after 0
        self.renderer: PrevizRenderer | None = None
        self.t = 0.0
        self.playing = True
        self.message = ""
        self._image = to_qimage(self.source)
        self._clock = QElapsedTimer()
        self._clock.start()
        self._loop_start = 0
        self._hold_until: int | None = None
        self._timer = QTimer(self, interval=TICK_MS, timeout=self._tick)
        self.setFocusPolicy(Qt.StrongFocus)
        # As wide as the picture where there is room, narrower (scaled, its aspect kept)
        # where there is not; never wider than the picture.
        policy = QSizePolicy(QSizePolicy.Maximum, QSizePolicy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setMaximumWidth(PREVIEW_WIDTH)
        self.setToolTip("Previz of the camera move over the shot. Space or click: play/pause.")

    # -- model ------------------------------------------------------------------------
    def set_shot(
        self, source: np.ndarray, rig: CameraRig, frames: int, fps: float, keys=()
    ) -> None:
        """A new picture (another shot, or its keyframe changed): loop from the start.
        `keys` are the pictures the shot passes through after it: (fraction of the shot,
        RGB picture of the source's size), the end picture at 1."""
        resized = source.shape[:2] != self.source.shape[:2]
        self.source = np.ascontiguousarray(source)
        self.keys = tuple(keys)
        self.rig, self.frames, self.fps = rig, max(1, frames), fps
        self.renderer = None
        if resized:  # else the panel's layout stands: no relayout, no repaint of it all
            self.setMaximumWidth(source.shape[1])
            self.updateGeometry()
        self._hold_until = None
        self._loop_start = self._clock.elapsed()
        self.show_time(0.0, hold=False)

    def set_rig(self, rig: CameraRig, frames: int, fps: float, show_t: float = 1.0) -> None:
        """The rig changed: show it at `show_t` now and hold there a moment."""
        if (rig, frames, fps) == (self.rig, self.frames, self.fps):
            return
        self.rig, self.frames, self.fps = rig, max(1, frames), fps
        self.renderer = None
        self.show_time(show_t, hold=True)

    def image(self) -> QImage:
        return self._image

    def set_playing(self, playing: bool) -> None:
        if playing == self.playing:
            return
        self.playing = playing
        self._update_timer()
        self.update()
        self.playingChanged.emit(playing)

    # -- frames -----------------------------------------------------------------------
    @property
    def still(self) -> bool:
        """Whether the previz stays on its moment: paused, or holding an edited one."""
        return not self.playing or self._hold_until is not None

    def _loop_renderer(self) -> PrevizRenderer | KeyedPreviz:
        if self.renderer is None:
            count = min(self.frames, MAX_LOOP_FRAMES)
            # Fewer samples than frames keep each sample's moment: the shake's time base
            # stretches with them.
            rate = self.fps * (count - 1) / (self.frames - 1) if count > 1 else self.fps
            placed = {round(t * (count - 1)): key for t, key in self.keys if count > 1}
            placed.pop(0, None)
            if placed:
                pictures = [(0, self.source), *sorted(placed.items(), key=lambda k: k[0])]
                self.renderer = KeyedPreviz(pictures, self.rig, count, rate)
            else:
                self.renderer = PrevizRenderer(self.source, self.rig, count, rate)
        return self.renderer

    def frame_at(self, t: float) -> np.ndarray:
        """The previz at fraction `t` of the shot (RGB uint8)."""
        if t <= 0.0 or self.frames < 2:
            return self.source  # frame 0 is the picture itself: the rig's world frame
        renderer = self.renderer
        if self.keys:  # the pictures' dissolves: from the loop's nearest sample
            renderer = self._loop_renderer()
            return renderer.render(round(t * (renderer.frames - 1)))
        if renderer is not None and renderer.frames > 1:
            index = t * (renderer.frames - 1)
            if abs(index - round(index)) < 1e-9:
                return renderer.render(round(index))
        seconds = t * (self.frames - 1) / self.fps
        probe = PrevizRenderer(self.source, probe_rig(self.rig, t), 2, 1.0 / seconds)
        return probe.render(1)

    def show_time(self, t: float, hold: bool = True) -> None:
        """Render fraction `t` of the shot now; with `hold`, pause the loop there a moment."""
        self.t = min(1.0, max(0.0, t))
        try:
            frame = self.frame_at(self.t)
            self.message = ""
        except (StudioError, ValueError, ArithmeticError) as error:
            frame, self.message = self.source, f"Cannot show this move: {error}"
        self._image = to_qimage(frame)
        if hold:
            self._hold_until = self._clock.elapsed() + HOLD_MS
        self.update()
        self.timeShown.emit(self.t)

    def _tick(self) -> None:
        now = self._clock.elapsed()
        if self._hold_until is not None:
            if now < self._hold_until:
                return
            self._hold_until = None
            self._loop_start = now
        if self.frames < 2:
            return
        span = (self.frames - 1) / self.fps
        seconds = ((now - self._loop_start) / 1000.0) % (self.frames / self.fps)
        count = min(self.frames, MAX_LOOP_FRAMES)
        sample = round(min(1.0, seconds / span) * (count - 1))
        t = sample / (count - 1)
        if t == self.t:
            return  # every edit repaints at once, so the frame on screen is current
        try:
            self._loop_renderer()
        except (StudioError, ValueError, ArithmeticError) as error:
            self.message = f"Cannot show this move: {error}"
            self.update()
            return
        self.show_time(t, hold=False)

    # -- Qt ---------------------------------------------------------------------------
    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self.source.shape[1], self.source.shape[0])

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(PREVIEW_MIN_WIDTH, self.heightForWidth(PREVIEW_MIN_WIDTH))

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        height, source_width = self.source.shape[:2]
        return max(1, round(min(width, source_width) * height / max(source_width, 1)))

    def picture_rect(self) -> QRect:
        """Where the picture is drawn: scaled to the widget, its aspect kept, centred."""
        height, width = self.source.shape[:2]
        scale = min(self.width() / max(width, 1), self.height() / max(height, 1))
        w, h = max(1, round(width * scale)), max(1, round(height * scale))
        return QRect((self.width() - w) // 2, (self.height() - h) // 2, w, h)

    def _update_timer(self) -> None:
        if self.playing and self.isVisible():
            if not self._timer.isActive():
                self._loop_start = self._clock.elapsed() - round(
                    self.t * 1000 * self.frames / self.fps
                )
                self._timer.start()
        else:
            self._timer.stop()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._update_timer()

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        self._update_timer()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key_Space:
            self.set_playing(not self.playing)
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.LeftButton:
            self.set_playing(not self.playing)
        super().mousePressEvent(event)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        picture = self.picture_rect()
        if picture.size() != self.size():
            painter.fillRect(self.rect(), Qt.black)
        painter.setRenderHint(QPainter.SmoothPixmapTransform)
        painter.drawImage(picture, self._image)
        painter.translate(picture.topLeft())
        w, h = picture.width(), picture.height()
        # Overlays sit on the picture, not on the window, so they carry their own shade.
        painter.fillRect(QRectF(0, h - 3, w, 3), QColor(0, 0, 0, 140))
        painter.fillRect(QRectF(0, h - 3, w * self.t, 3), self.palette().color(QPalette.Highlight))
        seconds = self.t * (self.frames - 1) / self.fps
        label = f"{seconds:4.1f} s" + ("" if self.playing else "  paused")
        painter.fillRect(
            QRectF(4, 4, 8 + painter.fontMetrics().horizontalAdvance(label), 18),
            QColor(0, 0, 0, 150),
        )
        painter.setPen(QColor(240, 240, 240))
        painter.drawText(QPointF(8, 17), label)
        if self.message:
            painter.fillRect(QRectF(0, h - 26, w, 22), QColor(0, 0, 0, 170))
            painter.drawText(QRectF(6, h - 26, w - 12, 22), Qt.AlignVCenter, self.message)
        painter.end()
        self.framePainted.emit()


# --- the top-down path sketch -----------------------------------------------------------

PATH_SAMPLES = 33  # positions are smooth; the shake only turns the camera


def path_points(
    rig: CameraRig, frames: int, fps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Camera centres (x, z), forward directions (x, z) and focal lengths, sampled over the
    shot; the shake keeps its own time base however few samples are taken."""
    count = max(2, min(frames, PATH_SAMPLES))
    # Sample i of `count` is at the same moment as frame i * (frames - 1) / (count - 1).
    rate = fps * (count - 1) / max(frames - 1, 1)
    track = poses(rig, count, rate)
    centres = np.array([[p.translation[0], p.translation[2]] for p in track])
    forward = np.array([[p.rotation[0][2], p.rotation[2][2]] for p in track])
    focal = np.array([p.focal for p in track])
    return centres, forward, focal


class PathSketch(QWidget):
    """The camera's path seen from above (x right, forward up), the subject as a dot and
    the field of view at the start and end of the shot."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rig = CameraRig()
        self._shown: tuple | None = None
        self._centres = np.zeros((2, 2))
        self._forward = np.array([[0.0, 1.0], [0.0, 1.0]])
        self._focal = np.ones(2)
        self.setMinimumSize(110, 110)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)
        self.setToolTip(
            "The camera path from above: the line is where the camera travels, the arrow "
            "its direction, the wedges its view at the start and end, the dot the subject."
        )

    def set_rig(self, rig: CameraRig, frames: int, fps: float) -> None:
        if (rig, frames, fps) == self._shown:
            return
        self._shown = (rig, frames, fps)
        self.rig = rig
        self._centres, self._forward, self._focal = path_points(rig, frames, fps)
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt override
        pal = self.palette()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.fillRect(self.rect(), pal.color(QPalette.Base))
        subject = np.array([0.0, float(self.rig.subject_distance)])
        points = np.vstack([self._centres, subject[None, :]])
        low, high = points.min(axis=0), points.max(axis=0)
        span = max(float((high - low).max()), 1e-6)
        margin = 18.0
        scale = min(self.width() - 2 * margin, self.height() - 2 * margin) / span
        middle = (low + high) / 2.0

        def screen(p: np.ndarray) -> QPointF:
            return QPointF(
                self.width() / 2.0 + (p[0] - middle[0]) * scale,
                self.height() / 2.0 - (p[1] - middle[1]) * scale,
            )

        text = pal.color(QPalette.Text)
        accent = pal.color(QPalette.Highlight)
        painter.setPen(QPen(pal.color(QPalette.Mid), 1, Qt.DotLine))
        painter.drawLine(screen(np.zeros(2)), screen(subject))
        self._frustum(painter, screen, 0, pal.color(QPalette.PlaceholderText))
        self._frustum(painter, screen, -1, accent)
        painter.setPen(QPen(text, 2))
        painter.setBrush(Qt.NoBrush)
        painter.drawPolyline(QPolygonF([screen(p) for p in self._centres]))
        self._arrow(painter, screen, text)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(accent).lighter(120))
        painter.drawEllipse(screen(subject), 5.0, 5.0)
        painter.setPen(text)
        painter.drawText(screen(subject) + QPointF(8, 4), "subject")
        painter.end()

    def _frustum(self, painter: QPainter, screen, index: int, colour: QColor) -> None:
        centre = self._centres[index]
        forward = self._forward[index]
        heading = math.atan2(forward[0], forward[1])
        half = math.atan(0.5 / max(float(self._focal[index]), 1e-6))
        reach = 0.35 * float(self.rig.subject_distance)
        painter.setPen(QPen(colour, 1.2))
        for side in (-half, half):
            tip = centre + reach * np.array([math.sin(heading + side), math.cos(heading + side)])
            painter.drawLine(screen(centre), screen(tip))

    def _arrow(self, painter: QPainter, screen, colour: QColor) -> None:
        """An arrowhead at the end of the path, along its last real step."""
        steps = np.diff(self._centres, axis=0)
        moving = np.flatnonzero(np.hypot(steps[:, 0], steps[:, 1]) > 1e-9)
        if len(moving) == 0:
            painter.setBrush(colour)
            painter.drawEllipse(screen(self._centres[0]), 3.0, 3.0)
            return
        end = screen(self._centres[moving[-1] + 1])
        start = screen(self._centres[moving[-1]])
        angle = math.atan2(end.y() - start.y(), end.x() - start.x())
        size = 8.0
        wings = [
            end + QPointF(math.cos(angle + a) * -size, math.sin(angle + a) * -size)
            for a in (0.45, -0.45)
        ]
        painter.setBrush(colour)
        painter.setPen(QPen(colour, 1))
        painter.drawPolygon(QPolygonF([end, *wings]))
