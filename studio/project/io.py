"""Project folders on disk: load with validation and migrations, atomic save, autosave.

A project is a folder `Name.gallop/` holding `project.json`, `takes/`, `media/` and
`autosave/`. Saves write a temporary file, fsync it, `os.replace` it over the old one and
fsync the folder, so a crash at any moment leaves either the old or the new project.
A lock file held while the project is open tells a crash (stale lock, autosave left
behind) from a second running instance (lock held): the window holds it alone, renders
share it. Whoever changes a project that others may change too goes through
`update_project`, which rereads it and writes it back while no other writer can.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import logging
import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import studio
from studio.errors import ProjectError, StudioError
from studio.project import validate as v
from studio.project.files import (
    FileLock,
    LockBusyError,
    atomic_write,
    disk_full_as_error,
    lock_owner,
    probe_lock,
    real_folder,
    remove_leftovers,
)
from studio.project.migrations import MIGRATIONS, SCHEMA_VERSION, MigrationRegistry
from studio.project.model import Project, project_from_dict, project_to_dict

log = logging.getLogger("gallop.project")

FORMAT = "gallop-project"
PROJECT_FILE = "project.json"
AUTOSAVE_FILE = "project.autosave.json"
LOCK_FILE = "instance.lock"
SAVE_LOCK_FILE = "save.lock"
CLOSING_WAIT = 2.0  # seconds a closing render may hold the lock file to remove it
SUBFOLDERS = ("takes", "media", "autosave")
SUFFIX = ".gallop"
MAX_PROJECT_BYTES = 64 * 1024 * 1024

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


def _read_object(marked_ones: list[dict], pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of repeated keys without a word; a hand-edited file with
    # two "fps" would silently lose one of them, so a repeat is refused instead.
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    marked = _DuplicateKeys(obj)
    marked_ones.append(marked)
    for key, _ in pairs:
        if key in seen:
            marked.duplicate = key
            break
        seen.add(key)
    return marked


# A surrogate can reach a string only through a \\uD800-\\uDFFF escape: UTF-8 text cannot
# spell one. (A doubled backslash before "ud8.." matches too, and only costs the walk.)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


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


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector while a project is read: the reading makes
    hundreds of thousands of objects that all live on, and each full collection it would
    set off meanwhile (a tenth of a second at 10,000 shots) finds nothing to free."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def decode_project(
    raw: bytes, source: str = PROJECT_FILE, registry: MigrationRegistry = MIGRATIONS
) -> tuple[Project, int]:
    """Parse and validate a document; returns the project and the schema it was written in."""
    with collector_paused():
        return _decode(raw, source, registry)


def _decode(raw: bytes, source: str, registry: MigrationRegistry) -> tuple[Project, int]:
    marked: list[dict] = []  # objects with a repeated key
    try:
        text = raw.decode("utf-8")
        document = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_int=_read_int,
            object_pairs_hook=functools.partial(_read_object, marked),
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
    # The walk finds a repeated key (an object `_read_object` marked) or a surrogate, which
    # only an escape can spell: without either in the text it is skipped (on a long
    # storyboard it takes a tenth of a second).
    if marked or _SURROGATE_ESCAPE.search(text):
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


# atomic_write (temporary file, fsync, rename, fsync of the folder) lives in studio.project.files,
# with the locks; it is imported above for the callers that know it from here.


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
    """Write the project atomically, creating the folder layout when missing. Writers
    take turns (`project_lock`); a full disk raises `DiskFullError` and keeps the old file."""
    folder = Path(folder)
    with disk_full_as_error(folder, "create the project folder"):
        folder.mkdir(parents=True, exist_ok=True)
        for sub in SUBFOLDERS:
            (folder / sub).mkdir(exist_ok=True)
    with project_lock(folder):
        return _write_project(project, folder)


def _write_project(project: Project, folder: Path) -> Path:
    path = project_file(folder)
    atomic_write(path, encode_project(project))
    return path


@contextlib.contextmanager
def project_lock(folder: Path | str) -> Iterator[None]:
    """Held while `project.json` is read to be changed and written back: one writer at a
    time (the lock file goes when its holder is done, so it never lingers)."""
    autosave = Path(folder) / "autosave"
    real_folder(autosave)
    with FileLock(autosave / SAVE_LOCK_FILE):
        yield


def update_project(
    folder: Path | str,
    change: Callable[[Project], bool | None],
    *,
    session: ProjectSession | None = None,
) -> Project:
    """Change the project as it is on disk now and save it, with no other writer in
    between: how a process changes a project that others may be changing too (a render
    recording a take, a script). `change` edits the project in place and returns False
    when it changed nothing (then nothing is written). Without a `session` of its own the
    call opens a shared one, so a project open in the window is refused
    (`ProjectLockedError`) rather than changed under it. Returns the project as saved."""
    folder = Path(folder)
    if session is None:
        with ProjectSession(folder, shared=True) as own:
            return update_project(folder, change, session=own)
    with project_lock(folder):
        project = load_project(folder)
        if change(project) is not False:
            _write_project(project, folder)
    return project


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
    shutil.copytree(
        source,
        dest,
        # Locks (held now or not) and temporary files belong to the original's processes.
        ignore=shutil.ignore_patterns("*.lock", AUTOSAVE_FILE, "*.tmp"),
    )
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

    The window opens a project exclusively: no other window and no `gallop render` may
    have it at the same time, so nothing it holds in memory changes under it on disk (a
    render started while it is open is refused, and the window cannot open a project that
    a render has). `gallop render` opens it `shared`: renders run side by side, and each
    records its takes into the project as it is on disk at that moment
    (`update_project`), so none loses what another wrote.

    Use as a context manager or call `close()`; after a crash the lock is stale and the
    autosave stays for `find_recovery` to offer. Opening removes the temporary files that
    killed processes left in the project.
    """

    def __init__(self, folder: Path | str, *, shared: bool = False) -> None:
        self.folder = Path(folder)
        self.shared = shared
        with disk_full_as_error(self.folder, "create the project folder"):
            self.folder.mkdir(parents=True, exist_ok=True)
        self._autosave_dir = self.folder / "autosave"
        # The lock and the autosave must not land outside the project through a link.
        real_folder(self._autosave_dir)
        self._lock_path = self._autosave_dir / LOCK_FILE
        self._lock = FileLock(self._lock_path, shared=shared)
        self._acquire()
        self._remove_leftovers()

    @property
    def _lock_handle(self) -> Any:
        """The open lock file: closing it is what a process that dies does."""
        return self._lock.handle

    def _acquire(self) -> None:
        deadline = time.monotonic() + CLOSING_WAIT
        while True:
            try:
                self._lock.acquire()
                break
            except LockBusyError:
                # A render that is closing holds the file alone for a moment to remove it;
                # a window notes its pid in it. Only a window (or another render) is news.
                if time.monotonic() < deadline and self._held_by_closing_render():
                    time.sleep(0.01)
                    continue
                raise ProjectLockedError(str(self.folder), self._busy_message()) from None
        if not self.shared:
            try:
                self._lock.write_owner()
            except BaseException:
                self._lock.release()
                raise

    def _held_by_closing_render(self) -> bool:
        try:
            return probe_lock(self._lock_path) == "exclusive" and not lock_owner(self._lock_path)
        except (OSError, StudioError):
            return False

    def _busy_message(self) -> str:
        try:
            holder = probe_lock(self._lock_path)
        except (OSError, StudioError):
            holder = None
        owner = lock_owner(self._lock_path)
        by = f" ({owner})" if owner else ""
        if self.shared:
            return (
                f"the project is open in Gallop Studio{by}; render it from the window, or "
                "close it there and run again"
            )
        if holder == "shared":
            return "gallop render is rendering this project; open it when the render has finished"
        return f"this project is already open in another Gallop Studio{by}"

    def _remove_leftovers(self) -> None:
        from studio.project.takes import TakeStore

        try:
            for folder in (self.folder, self._autosave_dir):
                remove_leftovers(folder, temporary=lambda name: name.endswith(".tmp"))
            TakeStore(self.folder / "takes").remove_leftovers()
        except (OSError, StudioError) as exc:
            # Cleaning up is a courtesy: a folder it cannot clean is reported where it is used.
            log.warning("could not remove leftover temporary files in %s: %s", self.folder, exc)

    @property
    def autosave_path(self) -> Path:
        return self._autosave_dir / AUTOSAVE_FILE

    def _exclusive(self, what: str) -> None:
        if self.shared:
            raise StudioError(f"a render's session cannot {what}; it records takes only")

    def autosave(self, project: Project) -> Path:
        self._exclusive("autosave")
        atomic_write(self.autosave_path, encode_project(project))
        return self.autosave_path

    def discard_autosave(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.autosave_path.unlink()

    def save(self, project: Project) -> Path:
        self._exclusive("save the whole project")
        path = save_project(project, self.folder)
        self.discard_autosave()
        log.info("saved %s", self.folder)
        return path

    def close(self) -> None:
        """A clean close: no autosave and no lock remain (the lock file stays while another
        render shares it; the last one removes it)."""
        if not self._lock.held:
            return
        if not self.shared:
            self.discard_autosave()
        self._lock.release()

    def __enter__(self) -> ProjectSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_locked(folder: Path | str) -> bool:
    """True when another live instance (a window or a render) holds the project open. A
    lock file that is a link or not a regular file raises `UnsafeFileError`."""
    return probe_lock(Path(folder) / "autosave" / LOCK_FILE) is not None


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
