"""Project folders on disk: load with validation and migrations, atomic save, autosave.

A project is a folder `Name.gallop/` holding `project.json`, `takes/`, `media/` and
`autosave/`. Saves write a temporary file, fsync it, `os.replace` it over the old one and
fsync the folder, so a crash at any moment leaves either the old or the new project.
A lock file held while the project is open tells a crash (stale lock, autosave left
behind) from a second running instance (lock held).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import studio
from studio import _validate as v
from studio.errors import ProjectError
from studio.migrations import MIGRATIONS, SCHEMA_VERSION, MigrationRegistry
from studio.model import Project, project_from_dict, project_to_dict

log = logging.getLogger("gallop.project")

FORMAT = "gallop-project"
PROJECT_FILE = "project.json"
AUTOSAVE_FILE = "project.autosave.json"
LOCK_FILE = "instance.lock"
SUBFOLDERS = ("takes", "media", "autosave")
SUFFIX = ".gallop"
MAX_PROJECT_BYTES = 64 * 1024 * 1024

try:  # POSIX advisory locks; elsewhere the pid in the lock file is checked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


# --- encoding ------------------------------------------------------------------------


def project_document(project: Project) -> dict[str, Any]:
    """The whole JSON document: a header first, then the project body."""
    return {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "app_version": studio.__version__,
        **project_to_dict(project),
    }


def encode_project(project: Project) -> bytes:
    text = json.dumps(project_document(project), indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


# int() refuses more digits than this (CPython's guard against quadratic conversion).
_MAX_INT_DIGITS = 4000


def _read_int(text: str) -> int | float:
    if len(text) > _MAX_INT_DIGITS:
        # Left for the field's reader to refuse at its own JSON path.
        return v.HugeNumber("-inf" if text.startswith("-") else "inf")
    return int(text)


class _DuplicateKeys(dict):
    """An object in which a key appeared twice; `check_document` reports it."""

    duplicate: str = ""


def _read_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of repeated keys without a word; a hand-edited file with
    # two "fps" would silently lose one of them, so a repeat is refused instead.
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    marked = _DuplicateKeys(obj)
    for key, _ in pairs:
        if key in seen:
            marked.duplicate = key
            break
        seen.add(key)
    return marked


def check_document(document: Any) -> None:
    """Refuse what json.loads accepts but a project cannot hold: repeated keys and strings
    (keys too) with an unpaired surrogate, which could be read but never saved or printed.
    Walks without recursion and builds a JSON path only for the value at fault."""
    # Each entry: (value, parent entry, key or index within the parent).
    stack: list[tuple[Any, Any, Any]] = [(document, None, None)]
    while stack:
        entry = stack.pop()
        node = entry[0]
        if isinstance(node, str):
            if v.has_surrogate(node):
                raise ProjectError(_json_path(entry), "contains an unpaired surrogate")
        elif isinstance(node, dict):
            if isinstance(node, _DuplicateKeys):
                raise ProjectError(
                    _json_path(entry), f"the key {v.quote(node.duplicate)} appears twice"
                )
            for key in node:
                if v.has_surrogate(key):
                    raise ProjectError(
                        _json_path((key, entry, key)), "a key contains an unpaired surrogate"
                    )
            # Reversed, so that the first problem in the file is the one reported.
            stack.extend((node[key], entry, key) for key in reversed(node))
        elif isinstance(node, list):
            stack.extend((node[i], entry, i) for i in range(len(node) - 1, -1, -1))


def _json_path(entry: tuple[Any, Any, Any]) -> str:
    steps: list[Any] = []
    while entry[1] is not None:
        steps.append(entry[2])
        entry = entry[1]
    path = "$"
    for step in reversed(steps):
        path = f"{path}[{step}]" if isinstance(step, int) else v.key_path(path, step)
    return path


def decode_project(
    raw: bytes, source: str = PROJECT_FILE, registry: MigrationRegistry = MIGRATIONS
) -> tuple[Project, int]:
    """Parse and validate a document; returns the project and the schema it was written in."""
    try:
        text = raw.decode("utf-8")
        document = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_int=_read_int,
            object_pairs_hook=_read_object,
        )
    except UnicodeDecodeError as exc:
        raise ProjectError(source, f"not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ProjectError(
            source, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise ProjectError(source, f"not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ProjectError("$", "expected a JSON object at the top level")
    check_document(document)
    if document.get("format") != FORMAT:
        raise ProjectError("$.format", f"not a Gallop Studio project (expected {FORMAT!r})")
    version = document.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProjectError("$.schema_version", "expected an integer")
    if version > SCHEMA_VERSION:
        raise ProjectError(
            "$.schema_version",
            f"made by a newer Gallop Studio (schema {version}); "
            f"this version reads schema {SCHEMA_VERSION} and older",
        )
    if version < 1:
        raise ProjectError("$.schema_version", f"invalid schema version {version}")
    app_version = document.get("app_version")
    if not isinstance(app_version, str):
        raise ProjectError("$.app_version", "expected a string")
    document = registry.migrate(document, SCHEMA_VERSION)
    body = {k: val for k, val in document.items() if k not in _HEADER}
    try:
        project = project_from_dict(body)
    except RecursionError:
        raise ProjectError("$", "nested too deeply") from None
    return project, version


_HEADER = ("format", "schema_version", "app_version")


# --- files ---------------------------------------------------------------------------


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":  # pragma: no cover - directories cannot be opened elsewhere
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` by `data` so that readers see the old or the new file, never a mix."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private; keep the mode of the file being replaced.
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _read_bytes(path: Path) -> bytes:
    """The whole of a regular file of at most MAX_PROJECT_BYTES.

    A symlink is followed only to a regular file. Anything else is refused before it is
    read: a FIFO would block the open or the read forever, a device such as /dev/zero
    never ends. The open does not block (O_NONBLOCK), in case the file was swapped for a
    FIFO after the check, and the read stops one byte past the limit whatever the size
    said.
    """
    where = str(path)
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise ProjectError(where, "is a folder, not a project file")
        if not stat.S_ISREG(info.st_mode):
            raise ProjectError(where, "is not a regular file")
        if info.st_size > MAX_PROJECT_BYTES:
            raise ProjectError(where, f"file too large ({info.st_size} bytes)")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ProjectError(where, "is not a regular file")
            # read(n) sets aside n bytes first, so ask for the size the file has (and one
            # more, to see it grow), and go on to the limit only if it did grow.
            wanted = min(info.st_size, MAX_PROJECT_BYTES) + 1
            raw = handle.read(wanted)
            if len(raw) == wanted:
                raw += handle.read(MAX_PROJECT_BYTES + 1 - len(raw))
    except FileNotFoundError:
        raise ProjectError(where, "no such project file") from None
    except PermissionError:
        raise ProjectError(where, "permission denied") from None
    except (OSError, ValueError) as exc:
        # ELOOP (a symlink loop), ENAMETOOLONG, ENOTDIR, EIO, a NUL in the path...
        raise ProjectError(where, f"cannot be read ({_os_reason(exc)})") from None
    if len(raw) > MAX_PROJECT_BYTES:
        raise ProjectError(where, f"file too large (more than {MAX_PROJECT_BYTES} bytes)")
    return raw


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def project_file(folder: Path) -> Path:
    return Path(folder) / PROJECT_FILE


def check_inside(folder: Path, relative: str) -> Path:
    """The absolute path of a project-relative path; refuses one that escapes (symlinks too)."""
    try:
        root = Path(folder).resolve()
        full = (root / relative).resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        # resolve() raises RuntimeError on a symlink loop, ValueError on a NUL.
        raise ProjectError(relative, f"cannot be resolved ({_os_reason(exc)})") from None
    if full != root and root not in full.parents:
        raise ProjectError(relative, "points outside the project folder")
    return full


def _check_paths(project: Project, folder: Path) -> None:
    for relative in sorted(project.media_paths()):
        check_inside(folder, relative)


def load_project(folder: Path | str, registry: MigrationRegistry = MIGRATIONS) -> Project:
    """Read and validate a project folder. An older schema is upgraded in memory after the
    original file is backed up beside it as `project.schemaN.json`; the file itself changes
    only at the next save."""
    folder = Path(folder)
    try:
        is_folder = folder.is_dir()
    except (OSError, ValueError) as exc:  # ENAMETOOLONG, a NUL in the name...
        raise ProjectError(str(folder), f"cannot be read ({_os_reason(exc)})") from None
    if not is_folder:
        raise ProjectError(str(folder), "no such project folder")
    path = project_file(folder)
    raw = _read_bytes(path)
    project, version = decode_project(raw, str(path), registry)
    _check_paths(project, folder)
    if version < SCHEMA_VERSION:
        backup = folder / f"project.schema{version}.json"
        if not backup.exists():
            atomic_write(backup, raw)
    return project


def save_project(project: Project, folder: Path | str) -> Path:
    """Write the project atomically, creating the folder layout when missing."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for sub in SUBFOLDERS:
        (folder / sub).mkdir(exist_ok=True)
    path = project_file(folder)
    atomic_write(path, encode_project(project))
    return path


def create_project(folder: Path | str, project: Project | None = None) -> Project:
    folder = Path(folder)
    if project_file(folder).exists():
        raise ProjectError(str(folder), "a project already exists here")
    project = project or Project(title=folder.name.removesuffix(SUFFIX) or "Untitled")
    save_project(project, folder)
    return project


def copy_project(source: Path | str, dest: Path | str) -> Path:
    """Copy a project folder (for example the bundled example) without its autosaves."""
    dest = Path(dest)
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(LOCK_FILE, AUTOSAVE_FILE, "*.tmp"))
    return dest


# --- autosave and crash discovery -----------------------------------------------------


@dataclass(frozen=True)
class Recovery:
    """An autosave left behind by a session that did not close cleanly."""

    path: Path
    saved_at: float  # seconds since the epoch
    project_saved_at: float | None


class ProjectLockedError(ProjectError):
    """The project is open in another running instance."""


class ProjectSession:
    """An open project: holds the instance lock, writes autosaves, cleans up on close.

    Use as a context manager or call `close()`; after a crash the lock is stale and the
    autosave stays for `find_recovery` to offer.
    """

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self._autosave_dir = self.folder / "autosave"
        self._autosave_dir.mkdir(parents=True, exist_ok=True)
        self._lock_path = self._autosave_dir / LOCK_FILE
        self._lock_handle: Any = None
        self._acquire()

    def _acquire(self) -> None:
        handle = open(self._lock_path, "a+")  # noqa: SIM115 - held open while the project is
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise ProjectLockedError(
                    str(self.folder), "this project is already open in another Gallop Studio"
                ) from None
        else:  # pragma: no cover
            owner = _lock_owner(self._lock_path)
            if owner and owner != os.getpid() and _pid_alive(owner):
                handle.close()
                raise ProjectLockedError(str(self.folder), "already open in another instance")
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {socket.gethostname()} {time.time():.0f}\n")
        handle.flush()
        self._lock_handle = handle

    @property
    def autosave_path(self) -> Path:
        return self._autosave_dir / AUTOSAVE_FILE

    def autosave(self, project: Project) -> Path:
        atomic_write(self.autosave_path, encode_project(project))
        return self.autosave_path

    def discard_autosave(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.autosave_path.unlink()

    def save(self, project: Project) -> Path:
        path = save_project(project, self.folder)
        self.discard_autosave()
        log.info("saved %s", self.folder)
        return path

    def close(self) -> None:
        """A clean close: no autosave and no lock remain."""
        if self._lock_handle is None:
            return
        self.discard_autosave()
        with contextlib.suppress(FileNotFoundError):
            self._lock_path.unlink()
        self._lock_handle.close()
        self._lock_handle = None

    def __enter__(self) -> ProjectSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lock_owner(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_locked(folder: Path | str) -> bool:
    """True when another live instance holds the project open."""
    lock = Path(folder) / "autosave" / LOCK_FILE
    if not lock.exists():
        return False
    if fcntl is None:  # pragma: no cover
        owner = _lock_owner(lock)
        return owner is not None and _pid_alive(owner)
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False


def find_recovery(folder: Path | str) -> Recovery | None:
    """An autosave to offer after a crash, or None.

    Nothing is offered while another instance holds the project (its autosave is live),
    nor when the autosave is older than the saved project.
    """
    folder = Path(folder)
    autosave = folder / "autosave" / AUTOSAVE_FILE
    if not autosave.exists() or is_locked(folder):
        return None
    saved_at = autosave.stat().st_mtime
    main = project_file(folder)
    project_saved_at = main.stat().st_mtime if main.exists() else None
    if project_saved_at is not None and project_saved_at > saved_at:
        return None
    return Recovery(autosave, saved_at, project_saved_at)


def load_recovery(recovery: Recovery) -> Project:
    """The autosave's project, checked as `load_project` checks `project.json`: an autosave
    outside the project (autosave/ a symlink elsewhere) or pointing at media outside it
    is refused."""
    path = Path(recovery.path)
    folder = path.parent.parent
    check_inside(folder, f"{path.parent.name}/{path.name}")
    project, _ = decode_project(_read_bytes(path), str(path))
    _check_paths(project, folder)
    return project
