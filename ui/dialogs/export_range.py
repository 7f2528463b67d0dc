"""The export dialog's choice of what to export: the whole edit, or the frames from the
timeline's in point to its out point (set with I and O on the timeline).

"In to out" is offered while the timeline has in or out points, and chosen when the
dialog opens with them; it follows the points as they move, and falls back to the whole
edit when they are cleared.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QWidget

from studio.timeline.timecode import timecode
from ui.document import Document

WHOLE, MARKS = "whole", "marks"


class RangeChoice(QComboBox):
    """Whole edit, or in to out; `chosen_range()` is what the export request takes."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setToolTip(
            "Export the whole edit, or only the frames from the in point to the out point "
            "(set them on the timeline with I and O)"
        )
        document.timelineChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        tl = self.document.project.timeline
        fps = tl.fps
        marked = tl.marked_range()
        kept = self.currentData()
        self.blockSignals(True)
        self.clear()
        self.addItem(f"Whole edit ({timecode(tl.duration, fps)})", WHOLE)
        if marked is not None:
            start, stop = marked
            self.addItem(
                f"In to out ({timecode(start, fps)} – {timecode(stop, fps)}, "
                f"{stop - start} frames)",
                MARKS,
            )
        self.setCurrentIndex(self.findData(MARKS if marked and kept in (None, MARKS) else WHOLE))
        self.blockSignals(False)
        if self.currentData() != kept:
            self.currentIndexChanged.emit(self.currentIndex())

    def set_choice(self, choice: str) -> None:
        index = self.findData(choice)
        if index >= 0:
            self.setCurrentIndex(index)

    def chosen_range(self) -> tuple[int, int] | None:
        """The timeline frames to export (start, stop), or None for the whole edit."""
        if self.currentData() != MARKS:
            return None
        return self.document.project.timeline.marked_range()
