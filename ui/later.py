"""Work the panels put off until the event loop is free: `Later`, one piece at a time.

An edit (a take landing, an undo) makes several panels reread something heavy: the player
reopens its take, the camera panel reads the take's first frame. Done at once, or each on
a timer of its own, those pieces land in the same pass of the event loop, with the
repaints the edit already caused, and the window answers nothing until all are done.
`Later` runs the pieces in the order they were asked for, one at a time with `SPACING_MS`
between them, so that input, timers and the repaints each piece caused get their turn in
between. (With no spacing, a zero timer, the next piece ran in the same stretch as the
repaints of the one before.) A piece asked for again before it ran runs once, with the
latest callback, in its first place.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

from PySide6.QtCore import QObject, Qt, QTimer

SPACING_MS = 10  # between two pieces, and before the first


class Later(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work: OrderedDict[Hashable, Callable[[], object]] = OrderedDict()
        self._timer = QTimer(self, interval=SPACING_MS)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.timeout.connect(self._run_one)

    def call(self, key: Hashable, work: Callable[[], object]) -> None:
        """Run `work` on a later pass; `key` names it, so asking again replaces it."""
        self._work[key] = work
        if not self._timer.isActive():
            self._timer.start()

    def pending(self, key: Hashable) -> bool:
        return key in self._work

    def cancel(self, key: Hashable) -> None:
        self._work.pop(key, None)

    def flush(self) -> None:
        """Run everything that waits now (closing, tests)."""
        while self._work:
            self._run_one()

    def _run_one(self) -> None:
        if not self._work:
            self._timer.stop()
            return
        _key, work = self._work.popitem(last=False)
        if not self._work:
            self._timer.stop()
        work()
