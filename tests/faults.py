"""A full disk on demand: every call that writes to the disk (creating a file, writing,
syncing, renaming) counts as one write point, and from the Nth on each raises ENOSPC, as a
disk that filled up stays full. Counting a run first, then failing it at every N in turn,
reaches every write point of that run on any machine; what the tests check is what is
left afterwards."""

from __future__ import annotations

import errno
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

_CREATING = os.O_CREAT | os.O_WRONLY | os.O_RDWR | os.O_TRUNC | os.O_APPEND


class FullDisk:
    """Counts write points; raises ENOSPC at every one from `fail_from` on (never when
    None). `points` names each one counted, for a failure's message."""

    def __init__(self, fail_from: int | None = None) -> None:
        self.fail_from = fail_from
        self.count = 0
        self.points: list[str] = []
        self.failed: list[str] = []
        self._lock = threading.Lock()

    def hit(self, what: str) -> None:
        with self._lock:
            self.count += 1
            self.points.append(what)
            if self.fail_from is None or self.count < self.fail_from:
                return
            self.failed.append(what)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _wrap(disk: FullDisk, name: str, real: Callable, counts: Callable[..., bool]):
    def wrapper(*args, **kwargs):
        if counts(*args, **kwargs):
            disk.hit(f"{name}{args[:1]!r}")
        return real(*args, **kwargs)

    return wrapper


def _open_counts(path, flags, *args, **kwargs) -> bool:
    return bool(flags & _CREATING) and not isinstance(path, int)


def _always(*args, **kwargs) -> bool:
    return True


def _new_folder(path, *args, **kwargs) -> bool:
    return not os.path.lexists(path)  # an existing one fails with EEXIST first


@contextmanager
def full_disk(monkeypatch: pytest.MonkeyPatch, fail_from: int | None) -> Iterator[FullDisk]:
    """Patch the os functions that write (those shutil and tempfile use too)."""
    disk = FullDisk(fail_from)
    with monkeypatch.context() as patch:
        patch.setattr(os, "open", _wrap(disk, "open", os.open, _open_counts))
        patch.setattr(os, "mkdir", _wrap(disk, "mkdir", os.mkdir, _new_folder))
        for name in ("write", "pwrite", "fsync", "replace", "rename", "ftruncate", "sendfile"):
            if hasattr(os, name):
                patch.setattr(os, name, _wrap(disk, name, getattr(os, name), _always))
        # shutil's copy without sendfile reads and writes through file objects: make it go
        # through the patched sendfile or fall back to os.write (see _copy below).
        patch.setattr(shutil, "copyfileobj", _copyfileobj)
        yield disk


def _copyfileobj(source, dest, length: int = 0) -> None:
    dest.flush()
    fd = dest.fileno()
    while chunk := source.read(1024 * 1024):
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view) :]


def every_write_point(
    monkeypatch: pytest.MonkeyPatch, run: Callable[[], object], limit: int = 400
) -> int:
    """How many write points `run` reaches with room to spare (checked to be some)."""
    with full_disk(monkeypatch, None) as disk:
        run()
    assert 0 < disk.count < limit, disk.points
    return disk.count


def hidden_files(folder: Path) -> list[str]:
    """Temporary (hidden) files anywhere under `folder`, locks aside."""
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob(".*")
        if p.is_file() and not p.name.endswith(".lock")
    )
