"""A long render or export that ends while the studio window is in the background says so:
a tray message where the desktop has a tray, else the taskbar entry flashes. Quick jobs and
jobs the user watches end without one. Time is a clock the test moves by hand."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from studio.project.io import ProjectSession, copy_project, load_project
from studio.timeline.timeline import Clip
from ui.app import StudioWindow
from ui.dialogs.export_dialog import DONE, ExportDialog
from ui.widgets.job_notice import elapsed_text

EXAMPLE = Path(__file__).resolve().parents[3] / "assets" / "examples" / "Lighthouse.gallop"
WAIT = 120_000


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def window(qtbot, tmp_path, clock):
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = StudioWindow(load_project(folder), ProjectSession(folder), settings=settings)
    win.job_notice.clock = clock
    win.show()
    qtbot.waitExposed(win)
    yield win
    win._closing_confirmed = True
    win.close()


@pytest.fixture
def elsewhere(qtbot):
    """Another application's window, which the user switches to."""
    other = QWidget()
    qtbot.addWidget(other)
    other.setWindowTitle("Another application")

    def switch() -> None:
        other.show()
        other.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is other)

    return switch


@pytest.fixture
def alerts(monkeypatch):
    seen: list = []
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))
    monkeypatch.setattr(QApplication, "alert", staticmethod(lambda w, ms=0: seen.append(w)))
    return seen


def quick_previz(window: StudioWindow, index: int):
    shot = window.project.shots[index]
    shot.duration, shot.continue_from_previous, shot.model_id = 0.5, False, "previz"
    window.document.set_current_shot(shot.id)
    return shot


def render_taking(qtbot, window: StudioWindow, clock: Clock, seconds: float) -> list:
    """Click Render shot; the render, once it starts, takes `seconds` of the clock. The
    notices given, once the render is done."""
    notices: list = []
    window.job_notice.notified.connect(lambda *args: notices.append(args))

    def moved(job_id: str) -> None:
        info = window.bridge.jobs[job_id]
        if info.state == "rendering" and job_id not in advanced:
            advanced.add(job_id)
            clock.now += seconds

    advanced: set[str] = set()
    window.bridge.jobChanged.connect(moved)
    with qtbot.waitSignal(window.bridge.jobFinished, timeout=WAIT):
        qtbot.mouseClick(window.prompt_panel.render_button, Qt.LeftButton)
    window.bridge.jobChanged.disconnect(moved)
    QApplication.processEvents()
    return notices


def test_a_long_render_ending_in_the_background_flashes_the_taskbar(
    qtbot, window, clock, elsewhere, alerts
):
    shot = quick_previz(window, 2)
    elsewhere()
    notices = render_taking(qtbot, window, clock, 72)
    assert notices == [("Gallop Studio", f"Render of {shot.title} finished (1 min 12 s)")]
    assert alerts == [window]

    # A quick render says nothing, nor does a long one the user watches.
    quick_previz(window, 3)
    assert render_taking(qtbot, window, clock, 4) == []
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    quick_previz(window, 4)
    assert render_taking(qtbot, window, clock, 300) == []
    assert alerts == [window]


def test_a_long_export_ending_in_the_background_shows_a_tray_message(
    qtbot, window, clock, elsewhere, monkeypatch, tmp_path
):
    shown: list = []
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    monkeypatch.setattr(QSystemTrayIcon, "showMessage", lambda self, *a: shown.append(a[:2]))
    shot = quick_previz(window, 0)
    render_taking(qtbot, window, clock, 1)  # watched, and quick: no notice
    project = window.project
    clip = next(i for i in project.timeline.items if isinstance(i, Clip) and i.shot_id == shot.id)
    clip = replace(clip, source_out=clip.source_in + 12)
    project.timeline = replace(project.timeline, items=(clip,), audio_tracks=())

    window.act_export.trigger()
    dialog = window.findChild(ExportDialog)
    dialog.set_output(tmp_path / "film.mp4")
    dialog.set_size(320, 192)
    elsewhere()  # the user leaves the export running and works in another window
    notices: list = []
    window.job_notice.notified.connect(lambda *args: notices.append(args))
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    assert dialog.exporting
    clock.now += 135
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=WAIT)
    assert dialog.state == DONE, dialog.problem.text()
    QApplication.processEvents()
    message = f"Export of {project.title} finished (2 min 15 s)"
    assert notices == [("Gallop Studio", message)]
    assert shown == [("Gallop Studio", message)]
    tray = window.job_notice._tray
    assert tray is not None and tray.isVisible()
    window.activateWindow()  # back in the studio: the tray icon goes
    qtbot.waitUntil(lambda: not tray.isVisible())
    dialog.close()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(4.4, "4 s"), (60, "1 min"), (72, "1 min 12 s"), (3600, "1 h"), (7500, "2 h 5 min")],
)
def test_elapsed_text(seconds, text):
    assert elapsed_text(seconds) == text
