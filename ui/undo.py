"""Studio commands on a QUndoStack: one undo history for every panel of the window.

Each studio `Command` is wrapped in a `QUndoCommand`. Commands with a merge key merge
through Qt's `mergeWith` (slider drags, typing), so a gesture is one undo step, and a
merge that returns to the starting value drops the step altogether.

The texts are what the Edit menu ("Undo Edit prompt of The ship") and the History dock
show: a field edit that the studio names by its field alone ("Change prompt") is named
with what it belongs to (`history_text`).
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from studio.commands import Command, SetAttribute, apply
from studio.project.model import Project

MERGE_ID = 0x6A11  # every mergeable studio command shares it; the command decides


def history_text(command: Command) -> str:
    """The command's text, naming the shot, bible entry or sound it edits: a field edit
    the studio names by its field alone ("Change prompt") becomes "Edit prompt of The
    ship", a text of its own gets "on The ship". Called before the command is done, so a
    rename names the old title ("Rename The ship")."""
    if not isinstance(command, SetAttribute):
        return command.text
    field = command.name.replace("_", " ")
    generic = command.text == f"Change {field}"
    target = command.target
    if isinstance(target, Project):  # the project's own texts ("Split clip") stay as they are
        if not generic:
            return command.text
        return "Rename the project" if command.name == "title" else f"Edit project {field}"
    owner = getattr(target, "title", None) or getattr(target, "name", None)
    if not isinstance(owner, str) or not owner:
        return f"Edit {field}" if generic else command.text
    if not generic:  # a text of its own, on one shot: "Camera pan on The ship"
        return command.text if owner in command.text else f"{command.text} on {owner}"
    if command.name in ("title", "name"):
        return f"Rename {owner}"
    if command.name == "selected_take":
        return f"Pick take of {owner}"
    return f"Edit {field} of {owner}"


class StudioUndoCommand(QUndoCommand):
    def __init__(self, command: Command) -> None:
        super().__init__(history_text(command))
        self.command = command

    def redo(self) -> None:
        apply(self.command)

    def undo(self) -> None:
        self.command.undo()

    def id(self) -> int:
        return MERGE_ID if self.command.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt override
        if not isinstance(other, StudioUndoCommand):
            return False
        if not self.command.merge_with(other.command):
            return False
        self.setObsolete(self.command.is_obsolete())
        return True
