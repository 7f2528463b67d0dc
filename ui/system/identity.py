"""Who the studio is to the desktop, and where the window writes down what happened.

`set_up_application` names the application for the desktop: its icon in every size (the
title bar, the task switcher and the dock each pick the size they draw), and
`gallop-studio` as its application name and desktop file name, which the window system
sees (WM_CLASS on X11, the app id on Wayland) and task bars match against
`gallop-studio.desktop` (see `ui.system.desktop`) to show the right icon and name.

`start_logging` sends the window's log to `window.log` in the log folder, together with
Qt's own messages and the exceptions raised in slots and threads, which would otherwise
go only to a terminal that a studio started from a desktop menu does not have.
"""

from __future__ import annotations

import logging
import platform
import sys
import threading
from importlib import metadata
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QSize, QtMsgType, QUrl, qInstallMessageHandler
from PySide6.QtGui import QDesktopServices, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from engine.logs import configure_logging, log_dir
from ui.system.desktop import APP_ID, DISPLAY_NAME, ICON_SIZES, icons_folder

log = logging.getLogger("gallop.window")
qt_log = logging.getLogger("gallop.qt")

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def version() -> str:
    try:
        return metadata.version(APP_ID)
    except metadata.PackageNotFoundError:  # run from a source tree that was not installed
        import studio

        return studio.__version__


def app_icon() -> QIcon:
    """The studio's icon with a picture drawn for each size, so that none is a blurred
    scale of another (the 16 px one is the one a title bar shows)."""
    icon = QIcon()
    for size in ICON_SIZES:
        path = icons_folder() / f"gallop-{size}.png"
        if path.exists():
            icon.addFile(str(path), QSize(size, size))
    return icon


def set_up_application(app: QApplication) -> None:
    app.setApplicationName(APP_ID)
    app.setApplicationDisplayName(DISPLAY_NAME)
    app.setOrganizationName(DISPLAY_NAME)
    app.setApplicationVersion(version())
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())


# -- logging ----------------------------------------------------------------------------


def start_logging(verbosity: int = 0) -> Path | None:
    """Log the window to `window.log` (and, at `verbosity`'s level, to standard error
    when there is one); route Qt's messages and uncaught exceptions there too. Returns the
    log file, or None when none could be opened."""
    path = configure_logging("window", verbosity=verbosity, stream=sys.stderr)
    qInstallMessageHandler(_qt_message)
    _chain_excepthooks()
    log.info(
        "Gallop Studio %s starting: Python %s, PySide6 %s, %s",
        version(),
        platform.python_version(),
        pyside_version,
        platform.platform(),
    )
    return path


def _qt_message(kind, context, message: str) -> None:
    # Called by Qt on any thread, even while the application shuts down: never raise.
    try:
        category = getattr(context, "category", None)
        prefix = f"[{category}] " if category and category != "default" else ""
        qt_log.log(_QT_LEVELS.get(kind, logging.WARNING), "%s%s", prefix, message)
    except Exception:  # noqa: BLE001 - a logging failure must not reach Qt
        pass


def _chain_excepthooks() -> None:
    """Log exceptions nobody caught (a slot that raised, a thread that died) before the
    hooks already installed see them. The interpreter's own hooks are not chained: they
    only print the traceback to standard error, which the log's stream already does."""
    previous = sys.excepthook
    if not getattr(previous, "_gallop_logs", False):

        def excepthook(kind, value, traceback) -> None:
            if not issubclass(kind, KeyboardInterrupt):
                log.error("uncaught exception", exc_info=(kind, value, traceback))
            if previous is not sys.__excepthook__ or issubclass(kind, KeyboardInterrupt):
                previous(kind, value, traceback)

        excepthook._gallop_logs = True
        sys.excepthook = excepthook

    previous_thread_hook = threading.excepthook
    if not getattr(previous_thread_hook, "_gallop_logs", False):

        def thread_excepthook(args) -> None:
            if args.exc_type is not SystemExit:
                name = args.thread.name if args.thread is not None else "?"
                log.error(
                    "uncaught exception in thread %s",
                    name,
                    exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
                )
            if previous_thread_hook is not threading.__excepthook__:
                previous_thread_hook(args)

        thread_excepthook._gallop_logs = True
        threading.excepthook = thread_excepthook


def open_log_folder(parent: QWidget | None = None) -> bool:
    """Show the log folder in the file manager (made first: it may hold nothing yet), or
    say where it is when no file manager answers."""
    folder = log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("cannot create the log folder %s: %s", folder, exc)
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        return True
    QMessageBox.information(parent, "Log folder", f"The logs are in\n{folder}")
    return False
