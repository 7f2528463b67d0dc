"""The open project as the window sees it: the project, its folder, one undo stack, the
current shot, and signals that say what each edit, undo or redo changed.

Panels read the studio model directly and change it only through `Document.push`, so
every change is undoable. After each one the document compares the project with how it
was (`ProjectSnapshot`) and announces what differs: a shot's fields, the list of shots,
the timeline, a shot's takes, the bible, the project's settings, the shots whose render
status may differ. Each panel listens to what it shows, so an edit of one shot costs
the panels one shot's work, however long the film.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from engine.render.planning import StatusCache
from studio.commands import Command
from studio.project.changes import ProjectChanges, ProjectSnapshot
from studio.project.io import ProjectSession
from studio.project.model import Project, Shot
from studio.project.takes import TakeStore
from ui.later import Later
from ui.undo import StudioUndoCommand


class Document(QObject):
    # Qt signal naming. After an edit, undo or redo, in this order: shotsChanged,
    # timelineChanged, bibleChanged, projectSettingsChanged, currentShotChanged (when the
    # current shot left), shotChanged and takesChanged per shot, statusChanged, changed.
    shotsChanged = Signal()  # noqa: N815 - shots added, removed or reordered
    shotChanged = Signal(str, object)  # noqa: N815 - a shot's id, its changed fields (frozenset)
    takesChanged = Signal(str)  # noqa: N815 - a shot's takes or its picked take
    timelineChanged = Signal()  # noqa: N815
    bibleChanged = Signal()  # noqa: N815 - characters or styles
    projectSettingsChanged = Signal()  # noqa: N815 - title, size, rate, model, notes, sounds
    # The shots whose render status may differ now: a list of ids, or None for every shot.
    statusChanged = Signal(object)  # noqa: N815
    currentShotChanged = Signal(str)  # noqa: N815 - "" when none
    changed = Signal()  # after any edit, undo or redo, for what needs to hear of every one
    cleanChanged = Signal(bool)  # noqa: N815
    # The moment of the current shot the camera previz stays on (a fraction of the shot):
    # where the shot panel puts a new keyframe.
    previzTimeChanged = Signal(float)  # noqa: N815

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
        self.statuses = StatusCache()  # each shot planned once until an edit names it
        self._snapshot = ProjectSnapshot(project)

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
        self.announce(self._snapshot.compare())

    def announce(self, changes: ProjectChanges) -> None:
        """Tell the panels what changed; the render status of what it affects is dropped."""
        stale = self._stale_shots(changes)
        self.invalidate_status(stale)
        current_left = bool(self._current) and self.project.shot(self._current) is None
        if current_left:
            self._current = self.project.shots[0].id if self.project.shots else ""
        if changes.order:
            self.shotsChanged.emit()
        if changes.timeline:
            self.timelineChanged.emit()
        if changes.bible:
            self.bibleChanged.emit()
        if changes.settings:
            self.projectSettingsChanged.emit()
        if current_left:
            self.currentShotChanged.emit(self._current)
        for shot_id, names in changes.shots.items():
            self.shotChanged.emit(shot_id, names)
        for shot_id in changes.takes():
            self.takesChanged.emit(shot_id)
        if stale is None or stale:
            self.statusChanged.emit(stale)
        self.changed.emit()

    def _stale_shots(self, changes: ProjectChanges) -> list[str] | None:
        """The shots whose status an edit may change: each changed shot and the shots
        chained after it (a chained shot is stale when any shot it continues from is);
        every shot when shots moved or the bible or the settings changed."""
        if changes.order or changes.bible or changes.settings:
            return None
        if not changes.shots:
            return []
        shots = self.project.shots
        if len(changes.shots) > 8:  # one search per shot is cheaper for a few
            rows = {shot.id: row for row, shot in enumerate(shots)}
            row_of = rows.__getitem__
        else:
            row_of = self.project.shot_index
        stale: dict[str, None] = {}
        for shot_id in changes.shots:
            row = row_of(shot_id)
            stale[shot_id] = None
            while row + 1 < len(shots) and shots[row + 1].continue_from_previous:
                row += 1
                stale[shots[row].id] = None
        return list(stale)

    def invalidate_status(self, shot_ids: Iterable[str] | None = None) -> None:
        """Forget the render status of these shots (of every shot with None)."""
        self.statuses.invalidate(None if shot_ids is None else list(shot_ids))

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
        """'not rendered', 'rendered' or 'stale' (cached until an edit that may change it)."""
        return self.statuses.status(self.project, self.folder, shot)

    def stale_reasons(self, shot: Shot) -> tuple[str, ...]:
        """Why the shot is 'stale', in words (empty when it is not): what differs between
        its take's request and what rendering it now would ask for."""
        return self.statuses.reasons(self.project, self.folder, shot)
