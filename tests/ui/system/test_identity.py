"""The window's log (its own lines, Qt's messages, uncaught exceptions), Help > Open log
folder, and the application's name and icon for the desktop."""

from __future__ import annotations

import logging
import sys
import threading
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QSettings, QSize, QUrl, qInstallMessageHandler, qWarning
from PySide6.QtGui import QDesktopServices

from engine.logs import configure_logging
from studio.project.io import copy_project
from tests.ui.conftest import EXAMPLE
from ui.app import open_window
from ui.system import identity


@pytest.fixture
def logs(tmp_path, monkeypatch):
    """A log folder of the test's own; the logging, Qt message handler and exception
    hooks the test installs are undone after it."""
    folder = tmp_path / "logs"
    monkeypatch.setenv("GALLOP_LOG_DIR", str(folder))
    seen: list = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: seen.append(args))
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args))
    handler = qInstallMessageHandler(None)
    qInstallMessageHandler(handler)
    level = logging.getLogger().level
    yield SimpleNamespace(folder=folder, seen=seen)
    qInstallMessageHandler(handler)
    configure_logging(None)
    logging.getLogger().setLevel(level)


def flushed_text(path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text()


def test_the_window_writes_window_log_with_qts_messages(logs):
    path = identity.start_logging()
    assert path == logs.folder / "window.log"
    qWarning("a warning from Qt")
    logging.getLogger("gallop.window").info("a line of the window")
    text = flushed_text(path)
    assert "INFO gallop.window: Gallop Studio" in text and "starting" in text
    assert "WARNING gallop.qt: a warning from Qt" in text
    assert "a line of the window" in text


def test_uncaught_exceptions_are_logged_and_reach_the_hooks_before(logs):
    path = identity.start_logging()
    identity.start_logging()  # again: the hooks are not chained twice
    try:
        raise RuntimeError("a slot went wrong")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    thread = threading.Thread(target=lambda: 1 / 0, name="gallop-test-thread")
    thread.start()
    thread.join()
    text = flushed_text(path)
    assert "ERROR gallop.window: uncaught exception" in text
    assert "RuntimeError: a slot went wrong" in text
    assert "uncaught exception in thread gallop-test-thread" in text
    assert "ZeroDivisionError" in text
    assert len(logs.seen) == 2  # each reached the hook installed before, once


def test_help_open_log_folder_opens_the_log_folder(qtbot, logs, tmp_path, monkeypatch):
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    window = open_window(folder, settings=settings)
    try:
        help_menu = next(
            a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Help"
        )
        assert window.act_open_logs in help_menu.actions()
        assert not logs.folder.exists()
        window.act_open_logs.trigger()
        assert opened == [QUrl.fromLocalFile(str(logs.folder))]
        assert logs.folder.is_dir()  # made first, so that the file manager has a folder to show
    finally:
        window._closing_confirmed = True
        window.close()


def test_opening_saving_and_rendering_are_logged(qtbot, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    window = open_window(folder, settings=settings)
    try:
        shot = window.project.shots[0]
        shot.duration = 0.5
        with qtbot.waitSignal(window.bridge.jobFinished, timeout=60_000) as blocker:
            (job,) = window.bridge.render_shot(shot.id, backend="previz")
        assert window.save()
    finally:
        window._closing_confirmed = True
        window.close()
    lines = [(r.name, r.getMessage()) for r in caplog.records]
    assert ("gallop.project", f"opened {folder}") in lines
    assert ("gallop.project", f"saved {folder}") in lines
    submitted = [m for n, m in lines if m.startswith(f"render {job} submitted: shot {shot.id}")]
    assert submitted and "previz" in submitted[0]
    finished = f"render {job} finished: take {blocker.args[1]} of shot {shot.id}"
    assert ("gallop.render", finished) in lines
    assert any(n == "gallop.engine" and " started " in m for n, m in lines)


def test_the_application_names_itself_for_the_desktop(qapp):
    names = qapp.applicationName(), qapp.applicationDisplayName(), qapp.desktopFileName()
    icon = qapp.windowIcon()
    try:
        identity.set_up_application(qapp)
        assert qapp.applicationName() == "gallop-studio"
        # The .desktop file ui.system.desktop writes.
        assert qapp.desktopFileName() == "gallop-studio"
        assert qapp.applicationDisplayName() == "Gallop Studio"
        assert qapp.applicationVersion() == identity.version()
        sizes = qapp.windowIcon().availableSizes()
        assert [QSize(n, n) in sizes for n in identity.ICON_SIZES] == [True] * 6
    finally:
        qapp.setApplicationName(names[0])
        qapp.setApplicationDisplayName(names[1])
        qapp.setDesktopFileName(names[2])
        qapp.setWindowIcon(icon)
