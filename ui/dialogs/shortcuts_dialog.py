"""Help > Shortcuts: every key of the window, grouped by the menu or panel it belongs to,
with a filter to find a key or a command."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.widgets.shortcuts import Section


class ShortcutsDialog(QDialog):
    """The sections of `ui.widgets.shortcuts.shortcut_sections` as a tree: one branch per
    area, one row per command (its keys, what it does)."""

    def __init__(self, sections: list[Section], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Shortcuts")
        self.filter = QLineEdit(placeholderText="Find a key or a command", clearButtonEnabled=True)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Keys", "Command"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        for title, rows in sections:
            branch = QTreeWidgetItem(self.tree, [title])
            branch.setFirstColumnSpanned(True)
            font = branch.font(0)
            font.setBold(True)
            branch.setFont(0, font)
            branch.setFlags(Qt.ItemIsEnabled)
            for keys, text in rows:
                QTreeWidgetItem(branch, [keys, text])
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)
        self.filter.textChanged.connect(self._filter)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)
        self.resize(560, 640)

    def sections(self) -> list[Section]:
        """What the dialog shows, in its order (the rows the filter leaves visible)."""
        shown = []
        for i in range(self.tree.topLevelItemCount()):
            branch = self.tree.topLevelItem(i)
            rows = [
                (branch.child(j).text(0), branch.child(j).text(1))
                for j in range(branch.childCount())
                if not branch.child(j).isHidden()
            ]
            if not branch.isHidden():
                shown.append((branch.text(0), rows))
        return shown

    def _filter(self, text: str) -> None:
        needle = text.strip().casefold()
        for i in range(self.tree.topLevelItemCount()):
            branch = self.tree.topLevelItem(i)
            whole = not needle or needle in branch.text(0).casefold()  # "timeline": all
            any_shown = False
            for j in range(branch.childCount()):
                row = branch.child(j)
                hit = whole or any(needle in row.text(c).casefold() for c in (0, 1))
                row.setHidden(not hit)
                any_shown = any_shown or hit
            branch.setHidden(not any_shown)
