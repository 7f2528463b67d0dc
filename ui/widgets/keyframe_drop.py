"""The keyframe's drop target and the import that brings a dropped or chosen image into
the project folder, refusing files that are not readable images."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QWidget

from engine.backends.base import RenderError
from engine.backends.pictures import load_image
from studio.project.media import place_media

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
PREVIEW = QSize(192, 108)


def import_image(folder: Path, source: Path) -> str:
    """The project-relative path of an image file; one from outside the project is copied
    into `media/` first (see `studio.project.media`)."""
    source = Path(source)
    if source.suffix.lower() not in IMAGE_SUFFIXES:
        raise RenderError(f"{source.name} is not an image: use a PNG, JPEG or WebP file")
    place = place_media(folder, source)  # a link or a special file is refused first
    load_image(source)  # refuse a file that will not decode before it enters the project
    place.copy()
    return place.relative


class FileDrops:
    """Mixed into a widget with a `fileDropped(str)` signal, or a `filesDropped(list)` one
    for several at once: it takes dropped local files (any file, so that a wrong one is
    answered with a reason by whoever listens)."""

    @staticmethod
    def local_files(event) -> list[str]:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        return [u.toLocalFile() for u in urls if u.isLocalFile()]

    @staticmethod
    def local_file(event) -> str | None:
        return next(iter(FileDrops.local_files(event)), None)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self.local_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        paths = self.local_files(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        several = getattr(self, "filesDropped", None)
        if several is not None:
            several.emit(paths)
        else:
            self.fileDropped.emit(paths[0])


class KeyframeDrop(FileDrops, QLabel):
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
