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


def test_the_window_interpreter_switches_threads_often_and_reads_no_module_files(tmp_path):
    import linecache

    from shibokensupport import feature

    from ui.system.qt_runtime import SWITCH_INTERVAL, prepare_interpreter

    prepare_interpreter()
    assert sys.getswitchinterval() <= SWITCH_INTERVAL
    (tmp_path / "plain_numbers.py").write_text("import math\nTAU = 2 * math.pi\n")
    (tmp_path / "uses_qt.py").write_text("from PySide6.QtCore import QObject\n")
    sys.path.insert(0, str(tmp_path))
    try:
        __import__("plain_numbers")  # an import statement: what PySide6 hooks
        __import__("uses_qt")
    finally:
        sys.path.remove(str(tmp_path))
    # PySide6 still tells the modules apart, without reading their source files.
    assert feature.pyside_feature_dict["plain_numbers"] == -1
    assert feature.pyside_feature_dict["uses_qt"] == 0
    assert not any(str(tmp_path) in name for name in linecache.cache)


def test_objects_are_frozen_while_a_window_lives_and_given_back_when_it_closes(qtbot, tmp_path):
    import gc

    from PySide6.QtCore import QSettings

    from tests.projects import small_project
    from ui.app import open_window

    gc.unfreeze()
    try:
        folder = small_project(tmp_path / "Small.gallop")
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
        window = open_window(folder, settings=settings)
        assert gc.get_freeze_count() > 0  # the project read is out of the collector's sight
        qtbot.addWidget(window)
        window._closing_confirmed = True
        window.close()
        assert gc.get_freeze_count() == 0  # what the closed project leaves is collected
    finally:
        gc.unfreeze()
