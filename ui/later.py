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

The queue belongs to the document, which outlives the panels and dialogs that ask; each
piece therefore has an owner, the QObject whose work it is (a bound method's object unless
another is named). When the owner is destroyed its pieces are dropped, so that closing a
panel never leaves work behind that would reach its deleted widgets.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import NamedTuple

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer

SPACING_MS = 10  # between two pieces, and before the first


class _Piece(NamedTuple):
    work: Callable[[], object]
    owner: QObject | None
    address: int | None  # the owner's C++ object: its wrapper is dead once `destroyed` fires


def _owner_of(work: Callable[[], object]) -> QObject | None:
    """The QObject a callback belongs to: the object of a bound method, else none."""
    owner = getattr(work, "__self__", None)
    return owner if isinstance(owner, QObject) else None


def _alive(owner: QObject | None) -> bool:
    """Whether work owned by `owner` may still run (work without an owner always may)."""
    return owner is None or shiboken6.isValid(owner)


class Later(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work: OrderedDict[Hashable, _Piece] = OrderedDict()
        self._watched: set[int] = set()  # owners whose `destroyed` reaches us
        self._timer = QTimer(self, interval=SPACING_MS)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.timeout.connect(self._run_one)

    def call(self, key: Hashable, work: Callable[[], object], owner: QObject | None = None) -> None:
        """Run `work` on a later pass; `key` names it, so asking again replaces it.

        `owner` (by default the object of a bound method) is the QObject the work is for:
        the piece is dropped when the owner is destroyed."""
        if owner is None:
            owner = _owner_of(work)
        if not _alive(owner):
            self._work.pop(key, None)
            return
        address = None
        if owner is not None:
            address = shiboken6.getCppPointer(owner)[0]
            if address not in self._watched:
                self._watched.add(address)
                owner.destroyed.connect(self._owner_destroyed)
        self._work[key] = _Piece(work, owner, address)
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

    def _owner_destroyed(self, gone: QObject | None) -> None:
        address = shiboken6.getCppPointer(gone)[0] if gone is not None else None
        self._watched.discard(address)  # another object may be made at the same address
        for key in [
            k
            for k, p in self._work.items()
            if p.owner is not None and (p.address == address or not _alive(p.owner))
        ]:
            del self._work[key]

    def _run_one(self) -> None:
        if not self._work:
            self._timer.stop()
            return
        _key, piece = self._work.popitem(last=False)
        if not self._work:
            self._timer.stop()
        if _alive(piece.owner):  # `destroyed` dropped it already, unless it never came
            piece.work()
