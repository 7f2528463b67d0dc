"""The content-addressed take store: `takes/<request hash>.<ext>` plus the request JSON.

Inserts are atomic (temporary file, fsync, rename), the media file last, so a take is
either wholly present or absent; `gc` removes takes no shot refers to.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from studio.errors import StudioError
from studio.project_io import atomic_write

_TAKE_ID = re.compile(r"^[0-9a-f]{64}$")
_EXT = re.compile(r"^[a-z0-9]{1,8}$")


class TakeStoreError(StudioError):
    pass


class TakeStore:
    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    @staticmethod
    def _check(take_id: str, ext: str = "mp4") -> None:
        if not _TAKE_ID.match(take_id):
            raise TakeStoreError(f"invalid take id {take_id!r}")
        if not _EXT.match(ext):
            raise TakeStoreError(f"invalid media extension {ext!r}")

    def media_path(self, take_id: str, ext: str = "mp4") -> Path:
        self._check(take_id, ext)
        return self.folder / f"{take_id}.{ext}"

    def manifest_path(self, take_id: str) -> Path:
        self._check(take_id)
        return self.folder / f"{take_id}.json"

    def relative_media(self, take_id: str, ext: str = "mp4") -> str:
        """The path as stored in `project.json` (relative to the project folder)."""
        self._check(take_id, ext)
        return f"{self.folder.name}/{take_id}.{ext}"

    def find(self, take_id: str) -> Path | None:
        """The media file of a take, whatever its extension, or None."""
        self._check(take_id)
        for path in sorted(self.folder.glob(f"{take_id}.*")):
            if path.suffix not in (".json", ".tmp") and not path.name.startswith("."):
                return path
        return None

    def has(self, take_id: str) -> bool:
        return self.find(take_id) is not None

    def insert_file(
        self, take_id: str, source: Path | str, manifest: str, *, move: bool = False
    ) -> Path:
        """Add a rendered file under its id. `manifest` is the request's canonical JSON."""
        source = Path(source)
        ext = source.suffix.lstrip(".").lower() or "bin"
        dest = self.media_path(take_id, ext)
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{take_id}.", suffix=".tmp", dir=self.folder)
        os.close(fd)
        try:
            if move:
                shutil.move(str(source), tmp)
            else:
                shutil.copyfile(source, tmp)
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            atomic_write(self.manifest_path(take_id), manifest.encode("utf-8"))
            os.replace(tmp, dest)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if not dest.exists():
                with contextlib.suppress(OSError):
                    self.manifest_path(take_id).unlink()
            raise
        return dest

    def insert_bytes(self, take_id: str, data: bytes, manifest: str, ext: str = "mp4") -> Path:
        dest = self.media_path(take_id, ext)
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.manifest_path(take_id), manifest.encode("utf-8"))
        atomic_write(dest, data)
        return dest

    def ids(self) -> set[str]:
        if not self.folder.is_dir():
            return set()
        return {
            p.stem for p in self.folder.iterdir() if _TAKE_ID.match(p.stem) and p.suffix != ".tmp"
        }

    def remove(self, take_id: str) -> None:
        self._check(take_id)
        for path in self.folder.glob(f"{take_id}.*"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def gc(self, keep: set[str]) -> list[str]:
        """Delete every take not in `keep` and any leftover temporary or partial render."""
        removed = sorted(self.ids() - keep)
        for take_id in removed:
            self.remove(take_id)
        if self.folder.is_dir():
            # Leftovers of an insert or a render that a crash interrupted.
            for pattern in (".*.tmp", ".render-*"):
                for tmp in self.folder.glob(pattern):
                    with contextlib.suppress(FileNotFoundError):
                        tmp.unlink()
        return removed
