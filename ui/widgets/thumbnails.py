"""Take thumbnails decoded off the GUI thread and cached: storyboard cards, take lists and
timeline strips ask `get`, paint what is there, and repaint when `ready` names their take.

A take that lands asks for many pictures at once (its card, a strip of frames along its
clip, its entry in the takes list). Each repaint of the window costs a few milliseconds,
so `ready` names a take once the pictures queued have all landed, or every `HOLD_MS`
while more keep coming, rather than once per picture. The same holds across takes and
drawn pictures: a storyboard scrolled far asks for a dozen title cards at once, and the
cards that land together repaint together.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal
from PySide6.QtGui import QImage

from engine.media.video import VideoReader, scaled_to_width
from engine.render.worker import lower_thread_priority
from ui.widgets.images import to_qimage

Key = tuple[str, int, int, float]  # path, frame, width, mtime
HOLD_MS = 100  # the longest a landed picture waits for the pictures still to come
# Drawn pictures (title cards) start this long after they are asked for: a storyboard
# scrolled far asks for a dozen while the window repaints, and drawing them beside that
# repaint (Python holding the interpreter's lock in short bursts) made it a third slower.
DRAW_DELAY_MS = 50


class _Signals(QObject):
    done = Signal(object, object)  # key, QImage or None


# Takes kept open between decodes: a timeline strip asks for several frames of one take,
# and one reader decodes forward through them instead of opening and seeking anew. A
# reader is taken out while a thread uses it (readers are not thread-safe).
_OPEN_READERS = 4
_readers: OrderedDict[tuple[str, float], VideoReader] = OrderedDict()
_lowered: set[int] = set()  # decoding threads already yielding to the window's
_lock = threading.Lock()


def _checkout(path: str, mtime: float) -> VideoReader:
    tid = threading.get_native_id()
    with _lock:
        reader = _readers.pop((path, mtime), None)
        lower = tid not in _lowered
        _lowered.add(tid)
    if lower:
        lower_thread_priority()  # decoding yields the cores to the window, as the engine does
    return reader if reader is not None else VideoReader(path)


def _checkin(path: str, mtime: float, reader: VideoReader) -> None:
    with _lock:
        _readers[(path, mtime)] = reader
        old = [_readers.popitem(last=False)[1] for _ in range(len(_readers) - _OPEN_READERS)]
    for stale in old:
        stale.close()


class _Decode(QRunnable):
    def __init__(self, key: Key, signals: _Signals) -> None:
        super().__init__()
        self.key, self.signals = key, signals

    def run(self) -> None:
        path, index, width, mtime = self.key
        try:
            reader = _checkout(path, mtime)
            try:
                # Past the end of a take shorter than its clip, its last frame holds.
                frame = reader.read(min(index, len(reader) - 1))
            except BaseException:
                reader.close()  # a damaged file is not kept open
                raise
            _checkin(path, mtime, reader)
            image = to_qimage(scaled_to_width(frame, width))
        except Exception:  # a decode worker must never raise: show no picture
            image = None
        with contextlib.suppress(RuntimeError):  # the window closed while decoding
            self.signals.done.emit(self.key, image)


class _Make(QRunnable):
    """A picture drawn rather than decoded (a previz still): `make()` off the GUI thread."""

    def __init__(self, key: Key, make: Callable[[], np.ndarray], signals: _Signals) -> None:
        super().__init__()
        self.key, self.make, self.signals = key, make, signals

    def run(self) -> None:
        try:
            image = to_qimage(self.make())
        except Exception:  # a drawing worker must never raise: show no picture
            image = None
        with contextlib.suppress(RuntimeError):  # the window closed while drawing
            self.signals.done.emit(self.key, image)


class ThumbnailCache(QObject):
    """`get(path, frame, width)` returns a cached QImage or None and decodes in the
    background; `ready(path)` fires when pictures of that take have landed (see above)."""

    ready = Signal(str)

    def __init__(self, capacity: int = 512, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._images: OrderedDict[Key, QImage | None] = OrderedDict()
        self._pending: set[Key] = set()
        self._held: dict[str, float] = {}  # path -> when its oldest unannounced picture landed
        self._capacity = capacity
        self._hold_timer = QTimer(self, singleShot=True, interval=HOLD_MS)
        self._hold_timer.timeout.connect(self._announce_held)
        self._to_draw: list[_Make] = []  # asked for, to start after the repaint
        self._draw_timer = QTimer(self, singleShot=True, interval=DRAW_DELAY_MS)
        self._draw_timer.timeout.connect(self._start_drawing)
        self._signals = _Signals()
        self._signals.done.connect(self._done)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)  # one reader per take decodes in order
        # Its thread stays: starting a new one after an idle spell costs a millisecond or
        # more on the GUI thread, each time a card or a strip asks for a picture.
        self.pool.setExpiryTimeout(-1)

    def get(self, path: str | Path | None, frame: int = 0, width: int = 160) -> QImage | None:
        if path is None:
            return None
        path = Path(path)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        key = (str(path), int(frame), int(width), mtime)
        if key in self._images:
            self._images.move_to_end(key)
            return self._images[key]
        if key not in self._pending:
            self._pending.add(key)
            self.pool.start(_Decode(key, self._signals))
        return None

    def drawn(self, name: str, make: Callable[[], np.ndarray]) -> QImage | None:
        """The picture named `name` (a string no take path can be), drawn by `make` in the
        background the first time, from `DRAW_DELAY_MS` on; None until then. `ready(name)`
        says it landed."""
        key = (name, 0, 0, 0.0)
        if key in self._images:
            self._images.move_to_end(key)
            return self._images[key]
        if key not in self._pending:
            self._pending.add(key)
            self._to_draw.append(_Make(key, make, self._signals))
            if not self._draw_timer.isActive():
                self._draw_timer.start()
        return None

    def _start_drawing(self) -> None:
        jobs, self._to_draw = self._to_draw, []
        for job in jobs:
            self.pool.start(job)

    def _done(self, key: Key, image: QImage | None) -> None:
        path = key[0]
        self._pending.discard(key)
        more = bool(self._pending)  # pictures to come: announced together with them
        self._images[key] = image
        while len(self._images) > self._capacity:
            self._images.popitem(last=False)
        now = time.monotonic()
        first = self._held.setdefault(path, now)
        if not more or now - first >= HOLD_MS / 1000:
            del self._held[path]
            self.ready.emit(path)
        elif not self._hold_timer.isActive():
            self._hold_timer.start()  # the rest of the take may be slow to come

    def _announce_held(self) -> None:
        held, self._held = self._held, {}
        for path in held:
            self.ready.emit(path)

    def idle(self) -> bool:
        """Whether no decode waits or runs and every landed picture was announced."""
        return not self._pending and not self._held

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until queued decodes and drawings finish (tests, shutdown)."""
        self._draw_timer.stop()
        self._start_drawing()
        return self.pool.waitForDone(msecs)
