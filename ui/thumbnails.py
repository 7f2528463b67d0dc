"""Take thumbnails decoded off the GUI thread and cached: storyboard cards, take lists and
timeline strips ask `get`, paint what is there, and repaint when `ready` names their key.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from engine.engine import lower_thread_priority
from engine.media import VideoReader, scaled_to_width
from ui.images import to_qimage

Key = tuple[str, int, int, float]  # path, frame, width, mtime


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


class ThumbnailCache(QObject):
    """`get(path, frame, width)` returns a cached QImage or None and decodes in the
    background; `ready(path)` fires when a decode lands."""

    ready = Signal(str)

    def __init__(self, capacity: int = 512, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._images: OrderedDict[Key, QImage | None] = OrderedDict()
        self._pending: set[Key] = set()
        self._capacity = capacity
        self._signals = _Signals()
        self._signals.done.connect(self._done)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)  # one reader per take decodes in order

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

    def _done(self, key: Key, image: QImage | None) -> None:
        self._pending.discard(key)
        self._images[key] = image
        while len(self._images) > self._capacity:
            self._images.popitem(last=False)
        self.ready.emit(key[0])

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until queued decodes finish (tests, shutdown)."""
        return self.pool.waitForDone(msecs)
