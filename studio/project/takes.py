"""The content-addressed take store: `takes/<request hash>.<ext>` plus its manifest.

A take's manifest (`<id>.json`) holds the generation request and the size and SHA-256 of
the take's file, checked whenever the take is used (`verify`): a truncated or swapped file
is damaged, and a render treats a damaged take as missing and replaces it. A take from
before the hash was recorded gets it at its first check, once its file passes a look at
its structure (an MP4's boxes must add up to the file). Once a take is stored, the engine
adds what it measured on its frames (`record_measures`: the camera's adherence to its rig,
the colour jump at a chained take's start).

Inserts are atomic (temporary file, fsync, rename), the manifest first and the media file
last, under the store's lock; a whole take already there is kept. `gc` removes takes no
shot refers to.

The store is a real folder: a `takes/` that is a symbolic link, or an entry that is one,
is refused with a `TakeStoreError` naming it and never followed, so nothing is read from
or written to outside the project. Temporary files carry the pid of the process writing
them, so `remove_leftovers` deletes those of processes that died, never a running one's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.errors import StudioError
from studio.project.files import (
    DiskFullError,
    FileLock,
    UnsafeFileError,
    atomic_write,
    disk_full_as_error,
    fsync_dir,
    open_no_follow,
    real_folder,
    remove_leftovers,
    temporary_file,
    write_all,
)

log = logging.getLogger("gallop.takes")

_TAKE_ID = re.compile(r"^[0-9a-f]{64}$")
_EXT = re.compile(r"^[a-z0-9]{1,8}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MANIFEST_FORMAT = "gallop-take"
INSERT_LOCK = ".insert.lock"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
# What the engine measures on a take's frames and adds to its manifest, why it could not
# (`unmeasured`: the take is not measured again each time it is found), and the draft take
# a final was rendered from (`studio.finalize`).
MEASURE_KEYS = ("adherence", "colour_jump", "draft", "unmeasured")
_CHUNK = 1024 * 1024
# ISO base media files (MP4 and kin): a file of boxes, each with its size in front.
_BOX_SUFFIXES = {".mp4", ".mov", ".m4v", ".m4a", ".3gp"}
# Beside a take's manifest: its camera matrices and ray maps (`studio.camera.rays`).
CAMERA_SUFFIX = ".camera.npz"
# Added to a take's manifest besides its measures: the guide video a guided render followed.
RECORDED_KEYS = ("guide",)


class TakeStoreError(StudioError):
    pass


class TakeMissingError(TakeStoreError):
    """The store has no file for the take."""


class TakeDamagedError(TakeStoreError):
    """The take's file is not the one that was rendered (truncated, swapped, unreadable)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class TakeManifest:
    """What the store knows of a take: its request (JSON data) and, unless the take is
    older than that, its file's size and SHA-256."""

    request: Any
    size: int | None = None
    sha256: str | None = None
    # The weights that rendered it: model id, repository, revision and commit (or the
    # bundled folder), when the engine said so.
    model: Any = None


def manifest_bytes(
    request_json: str, name: str, size: int, sha256: str, model: Any = None
) -> bytes:
    """A manifest: the request as given (its canonical JSON), the file's identity and,
    when known, the weights that rendered it (not part of the request: the take's id
    stays the request's hash)."""
    document = {
        "format": MANIFEST_FORMAT,
        "file": {"name": name, "size": size, "sha256": sha256},
        "request": json.loads(request_json),
    }
    if model is not None:
        document["model"] = model
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def _digest_fd(fd: int) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    while chunk := _read_at(fd, _CHUNK, size):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def structure_problem(path: Path, fd: int) -> str | None:
    """Why the file cannot be a whole take, or None when it looks whole: an MP4 (or kin)
    whose boxes run past its end or that has no index is cut short; any file that is
    empty is broken. Other formats are not looked into."""
    size = os.fstat(fd).st_size
    if size == 0:
        return "the file is empty"
    if path.suffix.lower() not in _BOX_SUFFIXES:
        return None
    seen: set[bytes] = set()
    position = 0
    while position < size:
        header = _read_at(fd, 16, position)
        if len(header) < 8:
            return "the file is cut short (it ends inside a box header)"
        box = int.from_bytes(header[:4], "big")
        kind = header[4:8]
        if box == 1:
            if len(header) < 16:
                return "the file is cut short (it ends inside a box header)"
            box = int.from_bytes(header[8:16], "big")
        elif box == 0:
            box = size - position  # the last box runs to the end of the file
        if box < 8:
            return "the file is not a valid MP4 (a box has no size)"
        if position + box > size:
            return f"the file is cut short ({size} bytes; its boxes need {position + box})"
        seen.add(kind)
        position += box
    if b"moov" not in seen:
        return "the file has no index (no moov box): it was never finished"
    return None


def _read_at(fd: int, count: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, count, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # pragma: no cover - Windows
    return os.read(fd, count)  # pragma: no cover


def _is_temporary(name: str) -> bool:
    # An insert's `.<id>.<tag>.*.tmp`, a manifest's `.<id>.json.<tag>.*.tmp`, a render's
    # `.render-<tag>.*` and the `..render-*.part.mp4` the video writer makes beside it.
    return name.endswith(".tmp") or name.lstrip(".").startswith("render-")


class TakeStore:
    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        # SHA-256 of files already read, by identity and change time: a take used again
        # and again is read once, while any change to its file is read again.
        self._digests: dict[tuple[int, int, int, int, int], str] = {}

    @staticmethod
    def _check(take_id: str, ext: str = "mp4") -> None:
        if not _TAKE_ID.match(take_id):
            raise TakeStoreError(f"invalid take id {take_id!r}")
        if not _EXT.match(ext):
            raise TakeStoreError(f"invalid media extension {ext!r}")

    # -- the folder and its entries, never through a link --------------------------------

    def _real(self, *, create: bool = False) -> bool:
        """Whether the store's folder exists (created when `create`); a link or a file in
        its place raises `TakeStoreError`."""
        try:
            return real_folder(self.folder, create=create)
        except UnsafeFileError as exc:
            raise TakeStoreError(
                f"{self.folder}: the take store is a symbolic link or not a folder; takes "
                "are only kept in a real folder inside the project. Replace it with a "
                "folder (move the takes into it) and try again."
            ) from exc

    @staticmethod
    def _entry(path: Path) -> os.stat_result | None:
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(info.st_mode):
            raise TakeStoreError(
                f"{path}: is a symbolic link; a take is only ever a real file in the take "
                "store. Remove it and render the shot again."
            )
        if not stat.S_ISREG(info.st_mode):
            raise TakeStoreError(f"{path}: is not a file; remove it and render the shot again")
        return info

    def _open(self, path: Path) -> int:
        try:
            return open_no_follow(path)
        except UnsafeFileError as exc:
            raise TakeStoreError(str(exc)) from None

    def _insert_lock(self) -> FileLock:
        return FileLock(self.folder / INSERT_LOCK)

    # -- names ---------------------------------------------------------------------------

    def media_path(self, take_id: str, ext: str = "mp4") -> Path:
        self._check(take_id, ext)
        return self.folder / f"{take_id}.{ext}"

    def manifest_path(self, take_id: str) -> Path:
        self._check(take_id)
        return self.folder / f"{take_id}.json"

    def camera_path(self, take_id: str) -> Path:
        self._check(take_id)
        return self.folder / f"{take_id}{CAMERA_SUFFIX}"

    def relative_media(self, take_id: str, ext: str = "mp4") -> str:
        """The path as stored in `project.json` (relative to the project folder)."""
        self._check(take_id, ext)
        return f"{self.folder.name}/{take_id}.{ext}"

    def render_file(self, name: str, suffix: str = ".mp4") -> Path:
        """A new empty temporary file in the store for a render to write (`name` says
        whose); it carries this process's pid, so a leftover is told from a live one."""
        self._real(create=True)
        with disk_full_as_error(self.folder, "write a take in"):
            fd, path = temporary_file(self.folder, f"render-{name}", suffix)
        os.close(fd)
        return path

    # -- lookups ---------------------------------------------------------------------------

    def find(self, take_id: str) -> Path | None:
        """The media file of a take, whatever its extension, or None (not checked: see
        `verify`). A link or a folder under the take's name raises `TakeStoreError`."""
        self._check(take_id)
        if not self._real():
            return None
        for path in sorted(self.folder.glob(f"{take_id}.*")):
            if path.suffix in (".json", ".tmp") or path.name.endswith(CAMERA_SUFFIX):
                continue
            if not path.name.startswith("."):
                self._entry(path)
                return path
        return None

    def has(self, take_id: str) -> bool:
        return self.find(take_id) is not None

    def manifest(self, take_id: str) -> TakeManifest | None:
        """The take's manifest, or None when it has none; an unreadable one raises
        `TakeDamagedError`. A manifest from before file hashes is the bare request."""
        path = self.manifest_path(take_id)
        data = self._manifest_document(path)
        if data is None:
            return None
        if not (isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT):
            return TakeManifest(request=data)
        file = data.get("file")
        size = file.get("size") if isinstance(file, dict) else None
        sha256 = file.get("sha256") if isinstance(file, dict) else None
        if (
            isinstance(size, bool)
            or not isinstance(size, int)
            or not isinstance(sha256, str)
            or not _SHA256.match(sha256)
        ):
            raise TakeDamagedError(path, "the take's manifest has no valid file hash")
        return TakeManifest(data.get("request"), size, sha256, data.get("model"))

    def _manifest_document(self, path: Path) -> Any:
        """The manifest's JSON data, or None when there is none (`TakeDamagedError` when
        it cannot be read)."""
        try:
            fd = self._open(path)
        except FileNotFoundError:
            return None
        try:
            raw = os.read(fd, MAX_MANIFEST_BYTES + 1)
        finally:
            os.close(fd)
        try:
            if len(raw) > MAX_MANIFEST_BYTES:
                raise ValueError("too large")
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise TakeDamagedError(path, "the take's manifest cannot be read") from None

    def _digest(self, fd: int) -> tuple[int, str]:
        info = os.fstat(fd)
        key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        digest = self._digests.get(key)
        if digest is None:
            size, digest = _digest_fd(fd)
            if size != info.st_size:  # written to while read: the next check reads it again
                return size, digest
            self._digests[key] = digest
        return info.st_size, digest

    def verify(self, take_id: str, *, adopt: bool = True) -> Path:
        """The media file of the take, once its size and SHA-256 match its manifest.

        `TakeMissingError` when there is no file, `TakeDamagedError` when it is not the
        file that was rendered (cut short, swapped, or its manifest unreadable). A take
        from before hashes were recorded passes when its structure looks whole, and then
        (with `adopt`) gets its hash recorded, so later changes to it are seen."""
        media = self.find(take_id)
        if media is None:
            raise TakeMissingError(f"no take {take_id[:12]} in {self.folder}")
        manifest = self.manifest(take_id)
        fd = self._open(media)
        try:
            if manifest is not None and manifest.sha256 is not None:
                size = os.fstat(fd).st_size
                if size != manifest.size:
                    raise TakeDamagedError(
                        media,
                        f"the file is {size} bytes where {manifest.size} were rendered "
                        "(cut short, or not this take's file)",
                    )
                if self._digest(fd)[1] != manifest.sha256:
                    raise TakeDamagedError(
                        media, "the file is not the one rendered for this take (SHA-256 differs)"
                    )
                return media
            problem = structure_problem(media, fd)
            if problem is not None:
                raise TakeDamagedError(media, problem)
            size, digest = self._digest(fd)
        finally:
            os.close(fd)
        if adopt:
            self._adopt(take_id, media, manifest, size, digest)
        return media

    def intact(self, take_id: str) -> Path | None:
        """The media file when the take is there and whole, None when it is missing or
        damaged (a render then makes it again). A link in the store still raises."""
        try:
            return self.verify(take_id)
        except TakeMissingError:
            return None
        except TakeDamagedError as exc:
            log.warning("take %s is damaged: %s", take_id[:12], exc)
            return None

    def _adopt(
        self, take_id: str, media: Path, old: TakeManifest | None, size: int, digest: str
    ) -> None:
        """Record the hash of an older take that passed its check; a failure to write it
        (a read-only or full disk) leaves the take as it was."""
        request = json.dumps(old.request if old is not None else None)
        model = old.model if old is not None else None
        try:
            with self._insert_lock():
                if self.manifest(take_id) != old:
                    return  # rewritten meanwhile: that one is newer
                manifest = manifest_bytes(request, media.name, size, digest, model)
                atomic_write(self.manifest_path(take_id), manifest)
        except (OSError, StudioError) as exc:
            log.info("could not record the hash of take %s: %s", take_id[:12], exc)

    def ids(self) -> set[str]:
        if not self._real():
            return set()
        return {
            p.stem
            for p in self.folder.iterdir()
            if _TAKE_ID.match(p.stem) and p.suffix != ".tmp" and not p.name.startswith(".")
        }

    # -- changes ---------------------------------------------------------------------------

    def insert_file(
        self,
        take_id: str,
        source: Path | str,
        manifest: str,
        *,
        move: bool = False,
        model: Any = None,
    ) -> Path:
        """Add a rendered file under its id. `manifest` is the request's canonical JSON;
        the store records it with the file's size and SHA-256 (and `model`, the weights
        that rendered it). A full disk raises `DiskFullError` and leaves no part of the
        take."""
        source = Path(source)
        ext = source.suffix.lstrip(".").lower() or "bin"
        dest = self.media_path(take_id, ext)
        self._real(create=True)
        with disk_full_as_error(dest, "save the take"):
            fd, tmp = temporary_file(self.folder, take_id)
        os.close(fd)
        try:
            with disk_full_as_error(dest, "save the take"):
                if move:
                    shutil.move(str(source), tmp)
                else:
                    shutil.copyfile(source, tmp)
                size, digest = _hash_and_sync(tmp)
            return self._commit(take_id, tmp, dest, manifest, size, digest, model)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def insert_bytes(
        self, take_id: str, data: bytes, manifest: str, ext: str = "mp4", model: Any = None
    ) -> Path:
        dest = self.media_path(take_id, ext)
        self._real(create=True)
        with disk_full_as_error(dest, "save the take"):
            fd, tmp = temporary_file(self.folder, take_id)
        try:
            with disk_full_as_error(dest, "save the take"):
                try:
                    write_all(fd, data)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                digest = hashlib.sha256(data).hexdigest()
            return self._commit(take_id, tmp, dest, manifest, len(data), digest, model)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def _commit(
        self,
        take_id: str,
        tmp: Path,
        dest: Path,
        request_json: str,
        size: int,
        digest: str,
        model: Any = None,
    ) -> Path:
        """Put a written file in place with its manifest, one insert at a time: another
        render of the same request may finish at the same moment."""
        with self._insert_lock():
            existing = self._whole(take_id)
            if existing is not None:
                return existing  # the same request, already rendered whole: keep it
            manifest = manifest_bytes(request_json, dest.name, size, digest, model)
            placed = False
            try:
                self._entry(dest)  # never replace a link or a folder: refuse it
                with disk_full_as_error(self.manifest_path(take_id), "save the take's manifest"):
                    atomic_write(self.manifest_path(take_id), manifest)
                with disk_full_as_error(dest, "save the take"):
                    os.replace(tmp, dest)
                    placed = True
                    fsync_dir(self.folder)
            except BaseException:
                # All or nothing: the caller hears of a failure, so no take stays (and a
                # manifest without its file would describe nothing).
                with contextlib.suppress(OSError, StudioError):
                    if placed:
                        dest.unlink()
                    if self._entry(dest) is None:
                        self.manifest_path(take_id).unlink()
                raise
        return dest

    def _whole(self, take_id: str) -> Path | None:
        """The take's file when it is there and matches a recorded hash."""
        try:
            manifest = self.manifest(take_id)
            if manifest is None or manifest.sha256 is None:
                return None
            return self.verify(take_id, adopt=False)
        except (TakeMissingError, TakeDamagedError):
            return None

    def remove(self, take_id: str) -> None:
        self._check(take_id)
        if not self._real():
            return
        try:
            lock = self._insert_lock().acquire(wait=True)
        except DiskFullError:
            lock = None  # a full disk has no room for the lock file: free the space anyway
        try:
            for path in self.folder.glob(f"{take_id}.*"):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        finally:
            if lock is not None:
                lock.release()

    def remove_leftovers(self) -> list[str]:
        """Delete the temporary files of inserts and renders whose process died (killed,
        crashed); a running render's are left alone. Returns the names removed."""
        if not self._real():
            return []
        removed = remove_leftovers(self.folder, _is_temporary)
        if removed:
            log.info("removed %d leftover temporary files from %s", len(removed), self.folder)
        return removed

    # -- what was measured on a take's frames -------------------------------------------

    def measures(self, take_id: str) -> dict[str, Any]:
        """What the engine measured on the take's frames, as its manifest records it
        (`MEASURE_KEYS`: the camera adherence, the colour jump at a chained take's start),
        and the rest it recorded there (`RECORDED_KEYS`: a guided render's guide); empty
        when nothing was recorded or the manifest cannot be read."""
        try:
            data = self._manifest_document(self.manifest_path(take_id))
        except (TakeDamagedError, TakeStoreError, OSError):
            return {}
        if not (isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT):
            return {}
        return {key: data[key] for key in (*MEASURE_KEYS, *RECORDED_KEYS) if key in data}

    def record_measures(self, take_id: str, measures: dict[str, Any]) -> None:
        """Add measurements (keys of `MEASURE_KEYS` or `RECORDED_KEYS`, JSON data) to a
        stored take's manifest, atomically and under the store's lock; the request and the
        file's hash stay as they are. `TakeMissingError` when the take has no manifest with
        a file hash."""
        unknown = set(measures) - set(MEASURE_KEYS) - set(RECORDED_KEYS)
        if unknown:
            raise ValueError(f"not a measurement of a take: {', '.join(sorted(unknown))}")
        path = self.manifest_path(take_id)
        with self._insert_lock():
            data = self._manifest_document(path)
            if not (isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT):
                raise TakeMissingError(f"take {take_id[:12]} has no manifest to add to")
            data.update(measures)
            text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            with disk_full_as_error(path, "save the take's manifest"):
                atomic_write(path, (text + "\n").encode("utf-8"))

    def gc(self, keep: set[str]) -> list[str]:
        """Delete every take not in `keep` and the leftovers of inserts and renders that
        a crash interrupted."""
        removed = sorted(self.ids() - keep)
        for take_id in removed:
            self.remove(take_id)
        self.remove_leftovers()
        return removed


def _hash_and_sync(path: Path) -> tuple[int, str]:
    with open(path, "rb") as handle:
        size, digest = _digest_fd(handle.fileno())
        os.fsync(handle.fileno())
    return size, digest


TAKES_FOLDER = "takes"


def verify_take_file(folder: Path | str, take_id: str, media: str) -> Path:
    """The file of a project's take (`media` as `project.json` names it), checked against
    its manifest (`TakeStore.verify`) when it is the take store's file of that take; a
    file kept elsewhere or under another name has no manifest to be checked against."""
    path = Path(folder) / media
    relative = Path(media)
    if relative.parent != Path(TAKES_FOLDER) or relative.stem != take_id:
        return path
    if not _TAKE_ID.match(take_id):
        return path
    return TakeStore(Path(folder) / TAKES_FOLDER).verify(take_id)
