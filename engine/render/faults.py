"""What goes wrong in the engine, said so the user can act on it: a job's failure as its
Failed event (`failure`, `user_message`: out of memory, a full disk, the studio's own
errors), and the tracebacks of native crashes in the engine process.

Native crashes, kept where they can be found.

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
import traceback
from pathlib import Path
from typing import TextIO

from engine.logs import log_dir
from engine.protocol import OutOfMemory
from studio.errors import StudioError
from studio.jobs import Failed
from studio.project.files import DiskFullError, is_disk_full

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


def is_out_of_memory(exc: BaseException) -> bool:
    """torch's CUDA/MPS out-of-memory errors, recognised without importing torch."""
    name = type(exc).__name__
    return (
        isinstance(exc, MemoryError | OutOfMemory)
        or name == "OutOfMemoryError"
        or "out of memory" in str(exc).lower()
    )


def looks_out_of_memory(exc: BaseException) -> bool:
    try:
        return is_out_of_memory(exc)
    except BaseException:  # noqa: BLE001 - an exception whose message cannot be read
        return False


def failure(job_id: str, exc: BaseException, work: str = "Render") -> Failed:
    """The Failed event of a job that raised `exc`, whatever `exc` is: even one whose
    message cannot be made (its `__str__` raising) still gives an event. `work` names the
    job's kind in a message about an unexpected error ("Render", "Export")."""
    try:
        message = user_message(exc, work)
        return Failed(job_id, message, "".join(traceback.format_exception(exc)))
    except BaseException:  # noqa: BLE001 - the failure itself must not fail
        return Failed(job_id, f"{work} failed: {type(exc).__name__}", "")


def user_message(exc: BaseException, work: str = "Render") -> str:
    if isinstance(exc, OutOfMemory):
        return str(exc)
    if is_out_of_memory(exc):
        return (
            "Out of memory while rendering. Try the 'lowvram' profile, a smaller size or "
            "fewer frames."
        )
    if isinstance(exc, DiskFullError):
        return str(exc)
    if is_disk_full(exc):  # the video writer's own error, raised from the disk's
        where = getattr(exc, "path", None) or getattr(exc, "filename", None)
        if where is None:
            return str(DiskFullError("the take", "write"))
        # A render writes under a hidden temporary name: the folder is what the user knows.
        where = Path(where)
        if where.name.startswith("."):
            return str(DiskFullError(where.parent, "write the take in"))
        return str(DiskFullError(where, "write"))
    if isinstance(exc, StudioError):
        return str(exc)
    return f"{work} failed: {type(exc).__name__}: {exc}"
