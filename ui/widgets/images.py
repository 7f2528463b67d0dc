"""Numpy frames to Qt images, and Qt images back (tests and screenshots)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def to_qimage(frame: np.ndarray) -> QImage:
    """An (H, W, 3) uint8 RGB frame as a QImage that owns its pixels."""
    frame = np.ascontiguousarray(frame, dtype=np.uint8)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB frame, got shape {frame.shape}")
    h, w, _ = frame.shape
    return QImage(frame.data, w, h, 3 * w, QImage.Format_RGB888).copy()


def to_pixmap(frame: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(to_qimage(frame))


def from_qimage(image: QImage) -> np.ndarray:
    """A QImage (any format) as an (H, W, 3) uint8 RGB array."""
    image = image.convertToFormat(QImage.Format_RGB888)
    h, w = image.height(), image.width()
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.bytesPerLine() * h)
    return buffer.reshape(h, image.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()
