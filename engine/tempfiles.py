"""Temporary outputs beside their target: unique, created exclusively, renamed into place.

Whatever the engine writes for a user (a film, a folder of frames, an edit, a take) is
written first under a temporary name in the target's folder and renamed over the target
once complete, so a reader sees the old file or the new one, never half of one.

The temporary name is never one someone could have prepared: `mkstemp` and `mkdtemp`
pick a random name and create it with O_EXCL, which fails on anything already there,
a planted link included, rather than writing through it. FFmpeg then writes through
this process's own descriptor (`/proc/self/fd/N` where the system has it), not by
looking the name up again.

The name tells whose it is: `.<stem>.gallop-p<pid>h<host>-<random>.part<suffix>`, the
process tag of `studio.project.files.temp_tag` that a project's own temporary files carry. A
process killed mid-write leaves its temporary output behind; `remove_stale`, run before
each new write to a folder, removes those whose process has ended, by the rule a project
applies to its own (`studio.project.files.is_leftover`).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from pathlib import Path

from studio.project.files import TAG_PATTERN, remove_leftovers, temp_tag

# The muxer for each suffix, so FFmpeg can be given a descriptor's path, which has none.
_MUXERS = {
    ".mp4": "mp4",
    ".m4v": "ipod",
    ".mov": "mov",
    ".webm": "webm",
    ".mkv": "matroska",
    ".gif": "gif",
}
# mkstemp's random part: 8 of these characters.
_TEMPORARY = re.compile(rf"^\..*\.gallop-{TAG_PATTERN}-[a-z0-9_]{{8}}\.part(\.[^./]*)?$")


def _affixes(target: Path) -> tuple[str, str]:
    return f".{target.stem}.gallop-{temp_tag()}-", f".part{target.suffix}"


def _mode_for(target: Path, default: int) -> int:
    """The mode the output gets: that of the file it replaces, else `default` (mkstemp's
    0600 would hide a film from the other users who could read the folder)."""
    try:
        info = target.stat()
    except OSError:
        return default
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else default


def is_temporary(name: str) -> bool:
    """Whether a file name is one of the temporary outputs named here."""
    return _TEMPORARY.match(name) is not None


def remove_stale(folder: Path | str) -> list[Path]:
    """Remove the temporary outputs in `folder` whose process has ended (a killed export
    or render); returns what was removed. Links are removed, never followed; anything
    that is not exactly one of those names is left alone."""
    folder = Path(folder)
    try:
        removed = remove_leftovers(folder, is_temporary, folders=True)
    except OSError:  # a folder it cannot clean: the write that follows says why
        return []
    return [folder / name for name in removed]


class TempFile:
    """A new, empty file beside `target`, for writing the target's content into.

    `url` and `muxer` are what FFmpeg is given to write it; `place()` renames it over the
    target, `discard()` removes it. Use as a context manager: leaving the block without
    `place()` discards it.
    """

    def __init__(self, target: Path | str) -> None:
        self.target = Path(target)
        remove_stale(self.target.parent)
        prefix, suffix = _affixes(self.target)
        self.fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=self.target.parent)
        self.path = Path(name)
        self.placed = False
        with contextlib.suppress(OSError, AttributeError):  # AttributeError: no fchmod there
            os.fchmod(self.fd, _mode_for(self.target, 0o644))

    @property
    def muxer(self) -> str | None:
        return _MUXERS.get(self.target.suffix.lower())

    @property
    def url(self) -> str:
        """Where FFmpeg writes: this process's descriptor of the file when the system has
        one to name and the muxer is known, else the file's name."""
        through = f"/proc/self/fd/{self.fd}"
        if self.fd >= 0 and self.muxer is not None and os.path.exists(through):
            return through
        return str(self.path)

    def write(self, data: bytes) -> None:
        """Write `data` through the descriptor and flush it to the disk."""
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]
        os.fsync(self.fd)

    def place(self) -> Path:
        """Rename the finished file over the target; returns the target."""
        os.replace(self.path, self.target)
        self.placed = True
        self._close()
        return self.target

    def discard(self) -> None:
        self._close()
        with contextlib.suppress(OSError):
            self.path.unlink()

    def _close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> TempFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self.placed:
            self.discard()


def temp_folder(target: Path | str) -> Path:
    """A new, empty folder beside `target` (mkdtemp: created, never found), for a folder
    output such as a PNG sequence; the caller renames it into place."""
    target = Path(target)
    remove_stale(target.parent)
    prefix, suffix = _affixes(target)
    folder = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=target.parent))
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o755)
    return folder
