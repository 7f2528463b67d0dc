"""The files a project writes: atomic replacement, locks that follow no link, temporary
names that say which process made them, and a full disk as an error a person reads.

Everything here is plain POSIX (with a Windows fallback) and knows nothing of projects;
`studio.project.io` and `studio.project.takes` build on it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import re
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from studio.errors import StudioError

try:  # POSIX advisory locks; Windows locks a byte of the file instead
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

# A lock or a temporary file must never be reached through a link: a link planted in a
# project would otherwise have us truncate or overwrite whatever file it points to.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# A FIFO planted under a lock's name must not block the open; it is refused right after.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)
# FreeBSD says EMLINK where Linux says ELOOP for O_NOFOLLOW on a link.
_LINK_ERRNOS = {errno.ELOOP, errno.EMLINK}
_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


# --- a full disk -----------------------------------------------------------------------


class DiskFullError(StudioError, OSError):
    """No space left where a file had to be written. An `OSError` too (errno ENOSPC), so
    callers that handle file errors handle this one as well."""

    def __init__(self, path: str | os.PathLike[str], action: str = "write") -> None:
        self.action = action
        self.message = f"the disk is full: could not {action} {path}"
        super().__init__(errno.ENOSPC, self.message, str(path))

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # the engine process and the farm pickle errors
        return (type(self), (self.filename, self.action))


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether `exc`, or an error it was raised from, is a full disk (or quota)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@contextlib.contextmanager
def disk_full_as_error(path: str | os.PathLike[str], action: str = "write") -> Iterator[None]:
    """Turn a full disk inside the block into `DiskFullError` naming `path`."""
    try:
        yield
    except DiskFullError:
        raise
    except OSError as exc:
        if exc.errno in _FULL_ERRNOS:
            raise DiskFullError(path, action) from exc
        raise


# --- temporary files ---------------------------------------------------------------------

_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
# Temporary files of a process that started later than this are never taken for leftovers.
PROCESS_START = time.time()
# `p<pid>h<host>` inside a temporary file's name: whoever finds it can tell whether the
# process that writes it still runs. A take store shared over the network sees other
# hosts' files, whose processes cannot be asked: those count as left over after a day.
TAG_PATTERN = r"p(?P<pid>\d+)h(?P<host>[0-9a-f]{8})"
_TAG = re.compile(rf"[.-]{TAG_PATTERN}[.-]")
FOREIGN_LEFTOVER_AGE = 24 * 3600.0


def temp_tag() -> str:
    """The part of a temporary file's name that names this process (and host)."""
    return f"p{os.getpid()}h{_HOST}"


def pid_alive(pid: int) -> bool:
    """Whether a process of this host runs with `pid`. On Windows `os.kill` would end the
    process rather than ask about it, so there every process counts as running."""
    if os.name != "posix":  # pragma: no cover - Windows
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # OverflowError: past any pid
        return False
    except PermissionError:  # another user's process
        return True
    return True


def is_leftover(name: str, mtime: float, now: float | None = None) -> bool:
    """Whether a temporary file is a leftover of a process that died (killed, crashed)
    rather than one that is still writing it. A name that carries no process is a
    leftover when it is older than this process."""
    match = _TAG.search(name)
    if match is None:
        return mtime < PROCESS_START
    pid, host = int(match.group(1)), match.group(2)
    if host != _HOST:
        return mtime < (time.time() if now is None else now) - FOREIGN_LEFTOVER_AGE
    if pid == os.getpid():
        return False
    if os.name != "posix":  # pragma: no cover - no safe way to ask about a pid
        return mtime < PROCESS_START
    return not pid_alive(pid)


def remove_leftovers(
    folder: Path, temporary: Callable[[str], bool], *, folders: bool = False
) -> list[str]:
    """Delete the temporary files in `folder` (hidden names that `temporary` accepts) that
    dead processes left, and such folders with all they hold when `folders`. Links are
    removed, never followed. Returns the names removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(".") or not temporary(name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        is_dir = stat.S_ISDIR(info.st_mode)
        if (is_dir and not folders) or not is_leftover(name, info.st_mtime):
            continue
        with contextlib.suppress(FileNotFoundError):
            if is_dir:
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(name)
    return removed


# --- atomic replacement ---------------------------------------------------------------


def fsync_dir(folder: Path) -> None:
    if os.name != "posix":  # pragma: no cover - directories cannot be opened elsewhere
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to `fd` (a write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def temporary_file(folder: Path, name: str, suffix: str = ".tmp") -> tuple[int, Path]:
    """A new private file beside `name` in `folder`, hidden and tagged with this process:
    (an open descriptor, its path)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.{temp_tag()}.", suffix=suffix, dir=folder)
    return fd, Path(tmp)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` by `data` so that readers see the old or the new file, never a mix.
    A full disk raises `DiskFullError` and leaves the old file as it was."""
    path = Path(path)
    with disk_full_as_error(path, "save"):
        fd, tmp = temporary_file(path.parent, path.name)
        try:
            # mkstemp makes the file private; keep the mode of the file being replaced
            # (the link's own mode means nothing: the link itself is replaced).
            try:
                old = path.stat(follow_symlinks=False)
                mode = stat.S_IMODE(old.st_mode) if stat.S_ISREG(old.st_mode) else 0o644
            except FileNotFoundError:
                mode = 0o644
            os.chmod(tmp, mode)
            write_all(fd, data)
            os.fsync(fd)
            os.close(fd)
            fd = -1
            os.replace(tmp, path)
        except BaseException:
            if fd >= 0:
                os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        fsync_dir(path.parent)


def open_no_follow(path: Path) -> int:
    """A read-only descriptor of the regular file at `path`; a link or anything else but a
    regular file raises `UnsafeFileError` (FileNotFoundError when there is nothing)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | _NONBLOCK | _BINARY)
    except OSError as exc:
        if exc.errno in _LINK_ERRNOS:
            raise UnsafeFileError(path, "is a symbolic link") from None
        raise
    try:
        _check_regular(fd, path, single_name=False)
    except BaseException:
        os.close(fd)
        raise
    return fd


class UnsafeFileError(StudioError):
    """A file the project writes or reads is a link or not a regular file."""

    def __init__(self, path: str | os.PathLike[str], what: str) -> None:
        self.path = str(path)
        super().__init__(
            f"{path}: {what}; Gallop Studio only uses real files inside the project "
            "folder. Remove it and try again."
        )


def _check_regular(fd: int, path: Path, *, single_name: bool = True) -> os.stat_result:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeFileError(path, "is not a regular file")
    if single_name and info.st_nlink > 1:
        # A file written in place (a lock) must have no other name (a hard link), which
        # could be anywhere on the disk. Files replaced whole may: the link is left alone.
        raise UnsafeFileError(path, "has other names (a hard link)")
    return info


def real_folder(folder: Path, *, create: bool = True) -> bool:
    """Refuse a folder of the project that is a link (or not a folder); create it when
    missing and `create`. Returns whether the folder exists."""
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        if not create:
            return False
        with contextlib.suppress(FileExistsError), disk_full_as_error(folder, "create"):
            os.mkdir(folder)
        info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeFileError(folder, "is a symbolic link")
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeFileError(folder, "is not a folder")
    return True


# --- locks -----------------------------------------------------------------------------


class LockBusyError(StudioError):
    """Someone else holds the lock."""


class FileLock:
    """An advisory lock on `path`, shared or exclusive, held as long as it is open.

    The file is opened without following links and must be a regular file with one name,
    so a planted link can neither be written through nor make two holders of "the" lock.
    Only an exclusive holder removes the file, and only while it holds it; whoever locks
    checks afterwards that the file it locked is still the one at `path` (it may have been
    removed while it waited) and starts again otherwise. So at most one exclusive holder,
    or any number of shared ones, hold the file at `path` at any moment.
    """

    def __init__(self, path: Path | str, *, shared: bool = False) -> None:
        self.path = Path(path)
        self.shared = shared
        # The open file holds the lock: closing it, even by a process that dies, releases it.
        self.handle: io.FileIO | None = None

    @property
    def held(self) -> bool:
        return self.handle is not None and not self.handle.closed

    def acquire(self, *, wait: bool = False) -> FileLock:
        """Lock, waiting for other holders when `wait`; `LockBusyError` otherwise."""
        while self.handle is None:
            fd = self._open()
            try:
                info = _check_regular(fd, self.path)
                if not _lock(fd, self.shared, wait):
                    raise LockBusyError(f"{self.path} is locked by another process")
                try:
                    now = os.stat(self.path, follow_symlinks=False)
                except FileNotFoundError:
                    now = None
            except BaseException:
                os.close(fd)
                raise
            if now is not None and (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino):
                self.handle = io.FileIO(fd, "r+", closefd=True)
            else:  # the holder before us removed it: lock the file at the path now
                os.close(fd)
        return self

    def _open(self) -> int:
        if fcntl is None:  # pragma: no cover - Windows: no O_NOFOLLOW, look first
            with contextlib.suppress(FileNotFoundError):
                if stat.S_ISLNK(os.lstat(self.path).st_mode):
                    raise UnsafeFileError(self.path, "is a symbolic link, not a lock file")
        flags = os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC | _NONBLOCK | _BINARY
        try:
            with disk_full_as_error(self.path, "create the lock file"):
                return os.open(self.path, flags, 0o644)
        except OSError as exc:
            if exc.errno in _LINK_ERRNOS:
                raise UnsafeFileError(self.path, "is a symbolic link, not a lock file") from None
            if exc.errno == errno.EISDIR:
                raise UnsafeFileError(self.path, "is a folder, not a lock file") from None
            raise

    def write_owner(self) -> None:
        """Note this process in the file (for messages); only an exclusive holder may."""
        assert self.handle is not None and not self.shared
        fd = self.handle.fileno()
        line = f"{os.getpid()} {socket.gethostname()} {time.time():.0f}\n".encode()
        with disk_full_as_error(self.path, "write the lock file"):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            if os.write(fd, line) != len(line):
                raise OSError(errno.ENOSPC, "short write", str(self.path))

    def release(self) -> None:
        handle, self.handle = self.handle, None
        if handle is None or handle.closed:
            return
        if fcntl is None:  # pragma: no cover - Windows cannot remove an open file
            handle.close()
            if not self.shared:
                with contextlib.suppress(OSError):
                    os.unlink(self.path)
            return
        try:
            # The last shared holder may remove it too, once it holds it alone: taking it
            # exclusively fails while others share it.
            if not self.shared or _lock(handle.fileno(), False, False):
                # Remove it while still holding it: whoever waits on this file finds it
                # gone once it gets it, and locks the one at the path instead.
                with contextlib.suppress(OSError):
                    now = os.stat(self.path, follow_symlinks=False)
                    mine = os.fstat(handle.fileno())
                    if (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino):
                        os.unlink(self.path)
        finally:
            handle.close()

    def __enter__(self) -> FileLock:
        return self.acquire(wait=True) if self.handle is None else self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _lock(fd: int, shared: bool, wait: bool) -> bool:
    if fcntl is None:  # pragma: no cover - Windows: one holder at a time
        mode = msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK
        try:
            msvcrt.locking(fd, mode, 1)
        except OSError:
            return False
        return True
    op = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    try:
        fcntl.flock(fd, op if wait else op | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def probe_lock(path: Path) -> str | None:
    """Who holds the lock at `path` without taking it: "exclusive", "shared" or None.
    A link or a non-regular file there raises `UnsafeFileError`."""
    try:
        fd = open_no_follow(path)
    except FileNotFoundError:
        return None
    try:
        if fcntl is None:  # pragma: no cover - Windows
            return None if _lock(fd, False, False) else "exclusive"
        if _lock(fd, False, False):
            return None
        if _lock(fd, True, False):
            return "shared"
        return "exclusive"
    finally:
        os.close(fd)


def lock_owner(path: Path) -> str:
    """The process an exclusive holder noted in the lock file ("pid 123 on host"), or ""."""
    try:
        fd = open_no_follow(path)
    except (OSError, StudioError):
        return ""
    try:
        words = os.read(fd, 256).decode("utf-8", "replace").split()
    except OSError:
        return ""
    finally:
        os.close(fd)
    if len(words) >= 2 and words[0].isdigit():
        return f"pid {words[0]} on {words[1]}"
    return ""
