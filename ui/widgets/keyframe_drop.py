"""The keyframe's drop target and the import that brings a dropped or chosen image into
the project folder, refusing files that are not readable images."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QWidget

from engine.backends.base import RenderError
from engine.backends.pictures import load_image
from studio.project.model import check_relative_path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
PREVIEW = QSize(192, 108)


def import_image(folder: Path, source: Path) -> str:
    """The project-relative path of an image file; one from outside the project is copied
    into `media/` first (a new name when another file already has its name)."""
    source = Path(source)
    if source.suffix.lower() not in IMAGE_SUFFIXES:
        raise RenderError(f"{source.name} is not an image: use a PNG, JPEG or WebP file")
    load_image(source)  # refuse a file that will not decode before it enters the project
    root, full = Path(folder).resolve(), source.resolve()
    if root in full.parents:
        return check_relative_path(full.relative_to(root).as_posix(), source.name)
    media = root / "media"
    dest = media / full.name
    n = 1
    while dest.exists() and not filecmp.cmp(dest, full, shallow=False):
        n += 1
        dest = media / f"{full.stem}-{n}{full.suffix}"
    if not dest.exists():
        try:
            media.mkdir(exist_ok=True)
            shutil.copyfile(full, dest)
        except OSError as error:
            raise RenderError(f"cannot copy {source.name} into the project: {error}") from None
    return f"media/{dest.name}"


class KeyframeDrop(QLabel):
    """A drop target for an image file; the panel decides whether the file is usable."""

    fileDropped = Signal(str)  # noqa: N815 - Qt signal naming

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setAlignment(Qt.AlignCenter)
        self.setFrameShape(QFrame.StyledPanel)
        self.setFrameShadow(QFrame.Sunken)
        self.setMinimumSize(PREVIEW)
        self.setWordWrap(True)
        self.setToolTip("Drop a PNG, JPEG or WebP image to start the shot from it")

    @staticmethod
    def local_file(event) -> str | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        return next((u.toLocalFile() for u in urls if u.isLocalFile()), None)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        # Any local file is accepted so that a wrong one is answered with a reason.
        if self.local_file(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        path = self.local_file(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.fileDropped.emit(path)
