"""Waiting for the window to settle: painted, the panels' put-off rereads done and the
thumbnails idle, for a while, within a limit. `gallop --screenshot` grabs the window then,
and the screenshot test waits the same way.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

if TYPE_CHECKING:
    from ui.app import StudioWindow

SCREENSHOT_LIMIT_S = 5.0  # `--screenshot`: the longest wait for the window to settle
SCREENSHOT_QUIET_MS = 200  # painted, with nothing left to load, for this long
SCREENSHOT_TICK_MS = 50


class _FirstPaint(QObject):
    """Notes when a widget of `window` is first painted."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.seen = False

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if (
            not self.seen
            and event.type() == QEvent.Paint
            and isinstance(watched, QWidget)
            and watched.window() is self.window
        ):
            self.seen = True
        return False


def screenshot_when_settled(
    app: QApplication, window: StudioWindow, png: Path, limit_s: float = SCREENSHOT_LIMIT_S
) -> int:
    """Let the window settle (`run_until_settled`), then save a grab of it to `png`, close
    it and return 0 (1 when the picture could not be written)."""
    run_until_settled(app, window, limit_s)
    code = _save_grab(window, png)
    window._closing_confirmed = True
    window.close()
    return code


def run_until_settled(
    app: QApplication, window: StudioWindow, limit_s: float = SCREENSHOT_LIMIT_S
) -> bool:
    """Run the event loop until the window has painted and its loads are done (the
    panels' waiting rereads, the thumbnails' decodes) for SCREENSHOT_QUIET_MS, at most
    `limit_s`. True when it settled, False when the limit came first."""
    painted = _FirstPaint(window)
    app.installEventFilter(painted)
    deadline = time.monotonic() + limit_s
    quiet_since: list[float | None] = [None]

    def tick() -> None:
        now = time.monotonic()
        if painted.seen:
            window.document.later.flush()  # the rereads that wait: done now
            if not window.thumbnails.idle() or window.camera_panel.source_pending:
                quiet_since[0] = None
            elif quiet_since[0] is None:
                quiet_since[0] = now
        settled = quiet_since[0] is not None and now - quiet_since[0] >= SCREENSHOT_QUIET_MS / 1000
        if settled or now >= deadline:
            timer.stop()
            loop.exit(1 if settled else 0)

    loop = QEventLoop()
    timer = QTimer(window, interval=SCREENSHOT_TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    settled = loop.exec() == 1
    app.removeEventFilter(painted)
    return settled


def _save_grab(window: QWidget, png: Path) -> int:
    png = Path(png)
    try:
        png.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"gallop: cannot write {png}: {exc}", file=sys.stderr)
        return 1
    if not window.grab().save(str(png), "PNG"):
        print(f"gallop: cannot write {png}", file=sys.stderr)
        return 1
    return 0
