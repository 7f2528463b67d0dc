"""Studio commands on a QUndoStack: one undo history for every panel of the window.

Each studio `Command` is wrapped in a `QUndoCommand`. Commands with a merge key merge
through Qt's `mergeWith` (slider drags, typing), so a gesture is one undo step, and a
merge that returns to the starting value drops the step altogether.
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from studio.commands import Command, apply

MERGE_ID = 0x6A11  # every mergeable studio command shares it; the command decides


class StudioUndoCommand(QUndoCommand):
    def __init__(self, command: Command) -> None:
        super().__init__(command.text)
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
