"""The notice over the storyboard when the edit's order differs from the storyboard's.

Reordering shots moves their clips along while the edit follows the storyboard
(`studio.commands.move_shot`); once the user rearranges the timeline on purpose, the two
orders part and this bar says so, with one click to put the edit back in story order
(`match_edit_to_storyboard`, one undo step). Right after that the bar offers Undo, which
takes that step back (Ctrl+Z does the same), until anything else is edited.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from studio.commands import match_edit_to_storyboard
from studio.timeline.shot_order import follows
from ui.document import Document

DIFFERS_TEXT = "The edit's order differs from the storyboard"
MATCHED_TEXT = "The edit follows the storyboard's order again"


class EditOrderBar(QFrame):
    """Shown while the edit's clips are not in story order, and just after matching."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("editOrderBar")
        self.setFrameShape(QFrame.StyledPanel)
        self.document = document
        self._matched_at: int | None = None  # the undo index just after "Match"
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.match_button = QPushButton("Match edit to storyboard")
        self.match_button.setToolTip(
            "Put the timeline's clips back in the storyboard's order (one undo step)"
        )
        self.match_button.clicked.connect(self.match)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Put the edit back in the order it had (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 6, 3)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.match_button)
        layout.addWidget(self.undo_button)
        document.timelineChanged.connect(self.refresh)
        document.shotsChanged.connect(self.refresh)
        document.changed.connect(self._history_moved)  # any edit, undo or redo
        self.refresh()

    def differs(self) -> bool:
        project = self.document.project
        return not follows(project.timeline, [shot.id for shot in project.shots])

    def refresh(self, *_args) -> None:
        matched = self._matched_at is not None
        differs = self.differs()
        self.label.setText(DIFFERS_TEXT if differs or not matched else MATCHED_TEXT)
        self.match_button.setVisible(differs)
        self.undo_button.setVisible(matched and not differs)
        self.setVisible(differs or matched)

    def match(self) -> bool:
        """Put the edit in the storyboard's order; False when it was in it already."""
        command = match_edit_to_storyboard(self.document.project)
        if command is not None:
            self.document.push(command)
            self._matched_at = self.document.undo_stack.index()
        self.refresh()
        return command is not None

    def undo(self) -> None:
        stack = self.document.undo_stack
        if self._matched_at is not None and stack.index() == self._matched_at:
            stack.undo()
        self._matched_at = None
        self.refresh()

    def _history_moved(self) -> None:
        if self._matched_at is not None and self.document.undo_stack.index() != self._matched_at:
            self._matched_at = None
            self.refresh()
