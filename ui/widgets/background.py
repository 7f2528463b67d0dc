"""`Background`: a panel's reading or drawing done off the GUI thread, the latest ask wins.

A panel that must read a picture (a keyframe, a take's first frame) or draw one (a title
card) for what it shows asks `submit(work, deliver)`: `work()` runs on a worker thread and
`deliver(result)` on the GUI thread once it is done, unless a newer ask came in between
(its result is the one that counts) or the owner was destroyed. One worker runs the asks
in order, so a slider dragged across shots never piles up work on several threads.

`work` must not touch the document: the panel takes what it needs (paths, words, sizes)
as values when it asks, since the GUI thread may edit the project meanwhile. An exception
in `work` is delivered as the result (the panel says what went wrong).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Landed(QObject):
    landed = Signal(int, object)  # ticket, result (or the exception `work` raised)


class _Job(QRunnable):
    def __init__(self, ticket: int, work: Callable[[], Any], signals: _Landed) -> None:
        super().__init__()
        self.ticket, self.work, self.signals = ticket, work, signals

    def run(self) -> None:
        try:
            result = self.work()
        except Exception as error:  # noqa: BLE001 - handed to the GUI thread to show
            result = error
        with contextlib.suppress(RuntimeError):  # the owner went while this ran
            self.signals.landed.emit(self.ticket, result)


class Background(QObject):
    """Work for one owner, one piece at a time off the GUI thread; see the module."""

    def __init__(self, owner: QObject) -> None:
        super().__init__(owner)
        # The pool is made (and so destroyed) before the signals: destroying it waits for
        # a piece still running, which may then still emit.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(-1)  # no thread start on the GUI thread per ask
        self._signals = _Landed(self)
        self._signals.landed.connect(self._landed)
        self._ticket = 0
        self._in_flight = 0
        self._deliver: Callable[[Any], None] | None = None

    @property
    def busy(self) -> bool:
        """Whether an ask has not been delivered (or dropped) yet."""
        return self._in_flight > 0

    def submit(self, work: Callable[[], Any], deliver: Callable[[Any], None]) -> None:
        """Run `work()` off the GUI thread and hand its result to `deliver` (see above)."""
        self._ticket += 1
        self._in_flight += 1
        self._deliver = deliver
        self._pool.start(_Job(self._ticket, work, self._signals))

    def cancel(self) -> None:
        """Drop whatever is asked now: nothing is delivered until the next ask."""
        self._ticket += 1

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the worker is idle (tests, shutdown); results land on the next pass."""
        return self._pool.waitForDone(msecs)

    def _landed(self, ticket: int, result: Any) -> None:
        self._in_flight -= 1
        if ticket == self._ticket and self._deliver is not None:
            deliver, self._deliver = self._deliver, None
            deliver(result)
