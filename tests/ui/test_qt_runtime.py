"""The installed Qt binding keeps Python's reference counts right.

PySide6 6.12.0 on Python 3.11 released a reference to None on every Qt call returning
nothing (and to True on every signal emit); a window that repaints for a few minutes
then aborts ("deallocating None").
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QObject, QRectF, Signal
from PySide6.QtGui import QColor, QImage, QPainter


def test_void_qt_calls_do_not_release_none(qapp):
    image = QImage(64, 64, QImage.Format_RGB32)
    painter = QPainter(image)
    colour = QColor(10, 20, 30)
    before = sys.getrefcount(None)
    for _ in range(2000):
        QCoreApplication.processEvents()
        painter.fillRect(QRectF(0, 0, 8, 8), colour)
        painter.save()
        painter.restore()
    painter.end()
    # Other code may hold a few more references afterwards; thousands fewer is the bug.
    assert sys.getrefcount(None) - before > -100


class _Emitter(QObject):
    fired = Signal(bool)


def test_signal_emits_do_not_release_true(qapp):
    emitter = _Emitter()
    received = []
    emitter.fired.connect(received.append)
    before = sys.getrefcount(True)
    for _ in range(2000):
        emitter.fired.emit(True)
    assert len(received) == 2000
    received.clear()
    assert sys.getrefcount(True) - before > -100
