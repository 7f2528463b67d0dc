"""The Models window by keyboard on an X11 desktop: Render > Models… opens it, Enter
downloads the selected model, Delete asks before deleting it (Escape keeps it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from engine.models.catalog import Catalog
from engine.models.installed import State, model_status
from studio.project.io import ProjectSession, copy_project, load_project
from tests.engine.models.hub_server import MODEL, serve
from ui.app import StudioWindow

EXAMPLE = Path(__file__).resolve().parents[3] / "assets" / "examples" / "Lighthouse.gallop"


@pytest.fixture
def studio(qtbot, tmp_path, monkeypatch):
    hub = serve(monkeypatch, tmp_path)
    monkeypatch.setenv("GALLOP_SHOW_TEST_MODELS", "1")
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = StudioWindow(load_project(folder), ProjectSession(folder), settings=settings)
    win.show()
    qtbot.waitExposed(win)
    yield win
    if win.model_manager is not None:
        win.model_tasks.stop_all()
    win._closing_confirmed = True
    win.close()
    hub.stop()


def test_models_by_keyboard(qtbot, studio):
    studio.act_models.trigger()
    manager = studio.model_manager
    qtbot.waitExposed(manager)
    manager.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is manager)
    table = manager.table
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)
    manager.select(MODEL)

    with qtbot.waitSignal(manager.tasks.finished, timeout=60_000) as ended:
        QTest.keyClick(table, Qt.Key_Return)
    assert ended.args[:2] == [MODEL, "done"]
    assert manager.status_text(MODEL) == "Installed"

    seen = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(10, answer)
            return
        seen.append(box.windowTitle())
        QTest.keyClick(box, Qt.Key_Escape)

    QTimer.singleShot(0, answer)
    QTest.keyClick(table, Qt.Key_Delete)
    assert seen == ["Delete model"]
    assert model_status(Catalog().get(MODEL)).state is State.INSTALLED
