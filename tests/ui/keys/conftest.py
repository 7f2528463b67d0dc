"""Key presses as a user makes them, through Qt's shortcut map under a real X server.

The offscreen platform matches shortcuts by other key tables than a desktop does (redo is
Ctrl+Y there, Ctrl+Shift+Z on X11), so a key bound twice on a desktop can pass unseen. These
tests run only on the xcb platform, under Xvfb:

    xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb \\
        .venv/bin/python -m pytest -q -p no:cacheprovider tests/ui/keys

(`make test` runs them so); in the offscreen run of the suite they are skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from studio.project.io import ProjectSession, copy_project, load_project
from ui.app import StudioWindow

EXAMPLE = Path(__file__).resolve().parents[3] / "assets" / "examples" / "Lighthouse.gallop"


@pytest.fixture(autouse=True)
def _xcb_only(qapp):
    if QGuiApplication.platformName() != "xcb":
        pytest.skip("key presses are matched as on a desktop only under X (QT_QPA_PLATFORM=xcb)")


@pytest.fixture
def window(qtbot, tmp_path):
    """The studio on a copy of the example, shown, active and holding the keyboard."""
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = StudioWindow(load_project(folder), ProjectSession(folder), settings=settings)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    yield win
    win._closing_confirmed = True
    win.close()
