"""Bringing a media file (a sound, a picture) into a project folder.

A file already inside the project stays where it is. Any other is copied into `media/` (or
a folder below it): an identical copy already there is reused, and a name another file
holds gives the copy a new name (`castle-2.png`). The path the project records is always
relative to the project folder. The file itself must be a regular file, never a link, and
no folder on the way into the project may be a link: the project uses real files only.

`place_media` decides where the file goes without touching the disk, so that a caller can
check its own edit first and copy (`MediaPlace.copy`) only once the edit is known to be
possible; `import_media` does both.
"""

from __future__ import annotations

import contextlib
import filecmp
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from studio.errors import ProjectError, StudioError
from studio.project import validate
from studio.project.files import disk_full_as_error, open_no_follow, real_folder

MEDIA = "media"

_CREATE = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


@dataclass(frozen=True)
class MediaPlace:
    """Where `source` lives in the project at `root`: `relative`, its project-relative
    path, and whether it is still to be copied there (`new`)."""

    root: Path
    source: Path
    relative: str
    new: bool

    @property
    def path(self) -> Path:
        """The file in the project."""
        return self.root.joinpath(*self.relative.split("/"))

    def copy(self) -> None:
        """Copy the file into the project when it is not there yet, creating the folders
        it goes into. The copy never replaces a file nor writes through a link, and a
        failure leaves no partial copy."""
        if not self.new:
            return
        try:
            level = self.root
            for part in self.relative.split("/")[:-1]:
                level = level / part
                real_folder(level)
            _copy_file(self.source, self.path)
        except StudioError:
            raise
        except OSError as error:
            raise StudioError(f"cannot copy {self.source.name} into the project: {error}") from None


def place_media(
    folder: str | os.PathLike[str], source: str | os.PathLike[str], into: str = MEDIA
) -> MediaPlace:
    """Where `source` goes in the project at `folder`: where it is when it is inside the
    project already, else into `into` (a project-relative folder). Nothing is written.
    A file that is missing, a link or not a regular file raises StudioError, and so does
    a link on the way into `into`."""
    source = Path(source)
    _check_source(source)
    problem = validate.relative_path_problem(into)
    if problem is not None:
        raise ProjectError(into, problem)
    root, full = Path(folder).resolve(), source.resolve()
    if root in full.parents:
        relative = _relative(full.relative_to(root).as_posix(), source)
        return MediaPlace(root, full, relative, new=False)
    target = root.joinpath(*into.split("/"))
    _check_folders(root, into)
    dest = target / full.name
    n = 1
    while os.path.lexists(dest) and not _same_file(dest, full):
        n += 1
        dest = target / f"{full.stem}-{n}{full.suffix}"
    relative = _relative(f"{into}/{dest.name}", source)
    return MediaPlace(root, full, relative, new=not os.path.lexists(dest))


def import_media(
    folder: str | os.PathLike[str], source: str | os.PathLike[str], into: str = MEDIA
) -> str:
    """Bring `source` into the project at `folder` (see `place_media`) and return the
    project-relative path the project records."""
    place = place_media(folder, source, into)
    place.copy()
    return place.relative


def _check_source(source: Path) -> None:
    try:
        info = os.lstat(source)
    except FileNotFoundError:
        raise StudioError(f"{source.name} cannot be imported: the file does not exist") from None
    except OSError as error:
        raise StudioError(f"{source.name} cannot be imported: {error}") from None
    if stat.S_ISLNK(info.st_mode):
        raise StudioError(
            f"{source.name} cannot be imported: it is a symbolic link; choose the file it points to"
        )
    if not stat.S_ISREG(info.st_mode):
        raise StudioError(f"{source.name} cannot be imported: it is not a regular file")


def _check_folders(root: Path, into: str) -> None:
    """Refuse a link (or a file) on the way from the project folder into `into`."""
    level = root
    for part in into.split("/"):
        level = level / part
        if not real_folder(level, create=False):
            return


def _same_file(dest: Path, full: Path) -> bool:
    """Whether `dest` is a regular file (not a link) with the content of `full`."""
    try:
        info = os.lstat(dest)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_size != full.stat().st_size:
        return False
    return filecmp.cmp(dest, full, shallow=False)


def _relative(relative: str, source: Path) -> str:
    problem = validate.relative_path_problem(relative)
    if problem is not None:
        raise ProjectError(source.name, problem)
    return relative


def _copy_file(source: Path, dest: Path) -> None:
    fd_in = open_no_follow(source)  # the file checked, not one put in its place since
    with os.fdopen(fd_in, "rb") as reader, disk_full_as_error(dest, "copy into"):
        fd_out = os.open(dest, _CREATE, 0o644)
        try:
            with os.fdopen(fd_out, "wb") as writer:
                shutil.copyfileobj(reader, writer, 1 << 20)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(dest)
            raise
