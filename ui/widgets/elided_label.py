"""`ElidedLabel`: one line of changing text that never widens the panel it sits in."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QWidget


class ElidedLabel(QLabel):
    """A one-line label whose text ends in "…" when the layout gives it less room than
    the whole text needs.

    A plain QLabel asks its layout for the width of its whole text, so a panel whose label
    changes (a shot's title, a status, a notice) grows and shrinks with it, and the window
    moves its docks around. This one asks for its whole text only as a preference; its
    minimum is a few characters wide, whatever the text. The whole text is the tooltip
    while it is cut short, unless a tooltip of its own was set.
    """

    MIN_CHARACTERS = 6

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._own_tip = ""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        hint = super().minimumSizeHint()
        margins = self.contentsMargins()
        least = (
            self.fontMetrics().averageCharWidth() * self.MIN_CHARACTERS
            + margins.left()
            + margins.right()
            + 2 * self.margin()
        )
        return QSize(least, hint.height())  # the same whatever the text: nothing moves

    def setToolTip(self, tip: str) -> None:  # noqa: N802 - Qt override
        self._own_tip = tip
        super().setToolTip(tip)

    def elided_text(self) -> str:
        """The text as drawn at the label's present width."""
        width = self.contentsRect().width() - 2 * self.margin()
        return self.fontMetrics().elidedText(self.text(), Qt.ElideRight, max(0, width))

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        shown = self.elided_text()
        if shown == self.text():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        rect = self.contentsRect().adjusted(self.margin(), 0, -self.margin(), 0)
        self.style().drawItemText(
            painter,
            rect,
            int(self.alignment()) | Qt.TextSingleLine,
            self.palette(),
            self.isEnabled(),
            shown,
            self.foregroundRole(),
        )

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._update_tip()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt override
        super().setText(text)
        self._update_tip()

    def _update_tip(self) -> None:
        if self._own_tip:
            return
        cut = self.elided_text() != self.text()
        QLabel.setToolTip(self, self.text() if cut else "")
