"""Tells the user that a long render or export ended while the window was in the background:
a message from the system tray where there is one, else the taskbar entry flashes.

Only jobs that ran at least `LONG_JOB_S` are told of (a quick previz needs no message), and
only while no window of this studio window's family (it, or a dialog of it) is active: a
user looking at the window sees the job end there. The clock is injectable, so that tests
move time by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from ui.bridge import RUNNING

if TYPE_CHECKING:
    from ui.bridge import EngineBridge
    from ui.dialogs.export_dialog import ExportDialog

LONG_JOB_S = 10.0
MESSAGE_MS = 10_000
APP_NAME = "Gallop Studio"


def elapsed_text(seconds: float) -> str:
    """ "45 s", "1 min 12 s", "2 h 5 min": how long a job took."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


class JobNotifier(QObject):
    """Watches the bridge's renders (`watch_bridge`) and export dialogs (`watch_export`)
    and tells the user of each long one that ends unseen.

    `notified(title, message)` is emitted for every notice given, whichever way."""

    notified = Signal(str, str)

    def __init__(
        self,
        window: QWidget,
        *,
        clock: Callable[[], float] = time.monotonic,
        threshold_s: float = LONG_JOB_S,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.clock = clock
        self.threshold_s = threshold_s
        self._started: dict[str, float] = {}  # job key -> clock when it began
        self._tray: QSystemTrayIcon | None = None

    # -- renders -----------------------------------------------------------------------
    def watch_bridge(self, bridge: EngineBridge) -> None:
        def label(job_id: str) -> str:
            info = bridge.jobs.get(job_id)
            return info.label if info is not None else job_id

        def changed(job_id: str) -> None:
            info = bridge.jobs.get(job_id)
            # Timed from the start of rendering: a wait in the queue is not the render's.
            key = f"render:{job_id}:run"
            if info is not None and info.state == RUNNING and key not in self._started:
                self._started[key] = self.clock()

        def finished(job_id: str, _take_id: str) -> None:
            self._ended(f"render:{job_id}", f"Render of {label(job_id)}", None)

        def failed(job_id: str, message: str) -> None:
            self._ended(f"render:{job_id}", f"Render of {label(job_id)}", message)

        bridge.jobAdded.connect(lambda job_id: self.started(f"render:{job_id}"))
        bridge.jobChanged.connect(changed)
        bridge.jobFinished.connect(finished)
        bridge.jobFailed.connect(failed)
        bridge.jobRemoved.connect(lambda job_id: self._forget(f"render:{job_id}"))

    # -- exports -----------------------------------------------------------------------
    def watch_export(self, dialog: ExportDialog, title: str) -> None:
        key = f"export:{id(dialog)}"
        what = f"Export of {title}"
        dialog.exportStarted.connect(lambda: self.started(key))
        dialog.exportFinished.connect(lambda _path: self._ended(key, what, None))
        dialog.exportFailed.connect(lambda message: self._ended(key, what, message))
        dialog.exportCancelled.connect(lambda: self._forget(key))

    # -- the notice --------------------------------------------------------------------
    def started(self, key: str) -> None:
        self._started[key] = self.clock()

    def _forget(self, key: str) -> None:
        self._started.pop(key, None)
        self._started.pop(f"{key}:run", None)

    def _ended(self, key: str, what: str, failure: str | None) -> None:
        began = self._started.pop(f"{key}:run", None)
        queued = self._started.pop(key, None)
        began = began if began is not None else queued
        if began is None:
            return
        took = self.clock() - began
        if took < self.threshold_s or not self.in_background():
            return
        if failure is None:
            self.notify(f"{what} finished ({elapsed_text(took)})", failed=False)
        else:
            self.notify(f"{what} failed after {elapsed_text(took)}: {failure}", failed=True)

    def in_background(self) -> bool:
        """True when neither the window nor any window of its own (a dialog) is active."""
        active = QApplication.activeWindow()
        while active is not None and active is not self.window:
            active = active.parentWidget()
        return active is None

    def notify(self, message: str, *, failed: bool) -> None:
        """A tray message where the desktop has a tray, else the taskbar entry flashes."""
        if QSystemTrayIcon.isSystemTrayAvailable():
            tray = self._tray_icon()
            icon = QSystemTrayIcon.Warning if failed else QSystemTrayIcon.Information
            tray.show()
            tray.showMessage(APP_NAME, message, icon, MESSAGE_MS)
        else:
            QApplication.alert(self.window)
        self.notified.emit(APP_NAME, message)

    def _tray_icon(self) -> QSystemTrayIcon:
        if self._tray is None:
            self._tray = QSystemTrayIcon(self.window.windowIcon(), self)
            self._tray.setToolTip(APP_NAME)
            self._tray.messageClicked.connect(self._bring_back)
            self._tray.activated.connect(lambda _reason: self._bring_back())
            self.window.installEventFilter(self)  # back in the window: the icon goes
        return self._tray

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.WindowActivate and self._tray is not None:
            self._tray.hide()
        return super().eventFilter(watched, event)

    def _bring_back(self) -> None:
        """A click on the message or the tray icon shows the window again."""
        window = self.window
        if window.isMinimized():
            window.showNormal()
        window.raise_()
        window.activateWindow()
        if self._tray is not None:
            self._tray.hide()
