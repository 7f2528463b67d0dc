"""Tracebacks of native crashes in the engine process, kept where they can be found.

A segmentation fault inside torch, a codec or a driver kills the engine child before
Python can log anything. `faulthandler` still writes the Python stack of every thread at
that moment, but to a single file and without saying which process it was. So each child
points it at a file of its own in the log folder, `engine-faults-PID.log`, and removes it
when it ends normally; the parent, which sees the child die, reads it back
(`fault_report`) and reports it with the failed jobs, on its own standard error or in its
log. The traceback stays in the log folder even when the studio itself is gone.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
from pathlib import Path
from typing import TextIO

from engine.logs import log_dir

REPORTS_KEPT = 10  # crash reports kept in the log folder, the newest

# faulthandler keeps only the file descriptor: the file object must outlive the process.
_fault_file: TextIO | None = None


def faults_file(pid: int) -> Path:
    return log_dir() / f"engine-faults-{pid}.log"


def enable_fault_log(fallback: TextIO) -> TextIO:
    """Send faulthandler's tracebacks to this process's faults file, or to `fallback`
    (standard error) when it cannot be opened. Returns the stream it writes to."""
    global _fault_file
    path = faults_file(os.getpid())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _prune(path.parent)
        stream: TextIO = open(path, "w", encoding="utf-8")  # noqa: SIM115 - kept for life
    except OSError:
        stream = fallback
    _fault_file = stream
    faulthandler.enable(file=stream, all_threads=True)
    return stream


def disable_fault_log() -> None:
    """A normal end: nothing crashed, so this process's empty faults file goes."""
    global _fault_file
    faulthandler.disable()
    stream, _fault_file = _fault_file, None
    if stream is None or stream.name != str(faults_file(os.getpid())):
        return
    stream.close()
    _remove_if_empty(Path(stream.name))


def fault_report(pid: int, limit: int = 200) -> list[str]:
    """The traceback that process `pid` left when it crashed, at most `limit` lines from
    its start; empty when it left none (its empty file is removed then)."""
    path = faults_file(pid)
    try:
        with open(path, "rb") as stream:
            text = stream.read(200_000).decode("utf-8", "replace")
    except OSError:
        return []
    if not text.strip():
        _remove_if_empty(path)
        return []
    return text.splitlines()[:limit]


def _remove_if_empty(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.stat().st_size == 0:
            path.unlink()


def _prune(folder: Path) -> None:
    """Keep the newest crash reports only. Empty files belong to children still running
    (or ended by SIGKILL with their parent) and are left alone."""
    reports = []
    for path in folder.glob("engine-faults-*.log"):
        with contextlib.suppress(OSError):
            stat = path.stat()
            if stat.st_size:
                reports.append((stat.st_mtime, path))
    for _, path in sorted(reports, reverse=True)[REPORTS_KEPT:]:
        with contextlib.suppress(OSError):
            path.unlink()
