"""The open project as the window sees it: the project, its folder, one undo stack, the
current shot, and a signal that fires after every edit, undo or redo.

Panels read the studio model directly and change it only through `Document.push`, so
every change is undoable and every panel hears about it through `changed`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from engine.render.planning import shot_status
from studio.commands import Command
from studio.project.io import ProjectSession
from studio.project.model import Project, Shot
from studio.project.takes import TakeStore
from ui.later import Later
from ui.undo import StudioUndoCommand


class Document(QObject):
    changed = Signal()  # after any edit, undo or redo
    currentShotChanged = Signal(str)  # noqa: N815 - Qt signal naming; "" when none
    cleanChanged = Signal(bool)  # noqa: N815

    def __init__(
        self,
        project: Project,
        folder: Path,
        session: ProjectSession | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.folder = Path(folder)
        self.session = session
        self.store = TakeStore(self.folder / "takes")
        self.undo_stack = QUndoStack(self)
        self.later = Later(self)  # the panels' heavy rereads, one per pass of the loop
        self.undo_stack.indexChanged.connect(self._index_changed)
        self.undo_stack.cleanChanged.connect(self.cleanChanged)
        self._pushing = False
        self._current = project.shots[0].id if project.shots else ""
        self._status_cache: dict[str, str] = {}

    # -- edits -------------------------------------------------------------------------
    def push(self, command: Command) -> None:
        """Do `command` and record it; listeners hear `changed` once."""
        self._pushing = True
        try:
            self.undo_stack.push(StudioUndoCommand(command))
        finally:
            self._pushing = False
        self._after_change()

    @contextmanager
    def macro(self, text: str) -> Iterator[None]:
        """Group the pushes inside the block into one undo step."""
        self.undo_stack.beginMacro(text)
        try:
            yield
        finally:
            self.undo_stack.endMacro()

    def _index_changed(self, _index: int) -> None:
        if not self._pushing:
            self._after_change()

    def _after_change(self) -> None:
        self._status_cache.clear()
        if self._current and self.project.shot(self._current) is None:
            self._current = self.project.shots[0].id if self.project.shots else ""
            self.currentShotChanged.emit(self._current)
        self.changed.emit()

    @property
    def is_clean(self) -> bool:
        return self.undo_stack.isClean()

    def set_clean(self) -> None:
        self.undo_stack.setClean()

    # -- the current shot --------------------------------------------------------------
    @property
    def current_shot_id(self) -> str:
        return self._current

    @property
    def current_shot(self) -> Shot | None:
        return self.project.shot(self._current) if self._current else None

    def set_current_shot(self, shot_id: str) -> None:
        if shot_id == self._current:
            return
        self._current = shot_id
        self.currentShotChanged.emit(shot_id)

    # -- derived -----------------------------------------------------------------------
    def media_path(self, relative: str) -> Path:
        return self.folder / relative

    def take_path(self, shot: Shot, take_id: str | None = None) -> Path | None:
        """The media file of a shot's take (the selected one by default), if it exists."""
        take = shot.take(take_id) if take_id else shot.current_take
        if take is None:
            return None
        path = self.folder / take.media
        return path if path.exists() else None

    def shot_status(self, shot: Shot) -> str:
        """'not rendered', 'rendered' or 'stale' (cached until the next edit)."""
        status = self._status_cache.get(shot.id)
        if status is None:
            status = shot_status(self.project, self.folder, shot)
            self._status_cache[shot.id] = status
        return status
