"""The Characters and styles window (Edit > Characters and styles, Ctrl+Shift+B): the
project's bible, the characters and styles its shots name, with what each one is.

The list on the left holds the characters and the styles, each with the number of shots
that use it; entries are added, renamed (F2, or in the form), duplicated (Ctrl+D) and
deleted (Delete) from the buttons, the keys or the list's context menu. Deleting an entry
that shots use asks first and says how many; the shots lose it in the same step, and undo
brings both back. The form on the right (`ui.shot.bible_entry`) edits the selected entry's
name, description, reference pictures and LoRAs. Every change is one step of the window's
undo history, which Ctrl+Z and Ctrl+Shift+Z (Ctrl+Y) walk here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.errors import StudioError
from studio.project.bible import (
    Kind,
    add_entry,
    duplicate_entry,
    entries_of,
    kind_of,
    new_entry,
    remove_entry,
    rename_entry,
    shots_using,
    usage_counts,
    usage_key,
)
from studio.project.model import BibleEntry
from ui.shot.bible_entry import BibleEntryForm
from ui.widgets.shortcuts import shortcut_keys

if TYPE_CHECKING:
    from ui.document import Document

KINDS: tuple[Kind, ...] = ("character", "style")
GROUPS = {"character": "Characters", "style": "Styles"}
LINK_FIELDS = frozenset({"style", "characters", "title"})  # what the counts and names show
ENTRY = Qt.UserRole  # an entry's row: (kind, id); a group's row: (kind, None)


class HistoryButton(QToolButton):
    """Undo or redo beside the Close button: enabled while there is a step to take, with
    a short text, and the step it takes in its tip ("Undo Rename The Keeper")."""

    def __init__(self, stack, redo: bool) -> None:
        super().__init__(text="Redo" if redo else "Undo")
        self.clicked.connect(stack.redo if redo else stack.undo)
        # From the signals' values alone: the stack may be on its way out when they come.
        (stack.canRedoChanged if redo else stack.canUndoChanged).connect(self.setEnabled)
        (stack.redoTextChanged if redo else stack.undoTextChanged).connect(self.show_step)
        self.setEnabled(stack.canRedo() if redo else stack.canUndo())
        self.show_step(stack.redoText() if redo else stack.undoText())

    def show_step(self, text: str) -> None:
        self.setToolTip(f"{self.text()} {text}" if text else self.text())


class BibleEditor(QDialog):
    """Edits `document.project`'s characters and styles; follows the document (undo
    included). Not modal: the shots stay at hand while it is open."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setWindowTitle("Characters and styles")
        self.setObjectName("bible-editor")
        self._shown: tuple | None = None  # the rows the list shows: ((kind, id), ...)
        self._stale = True  # a change came while hidden: shown again when it opens

        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Name", "Shots"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.DoubleClicked)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeToContents)
        self.tree.setToolTip(
            "Characters and styles (Ins adds, F2 renames, Ctrl+D duplicates, Delete deletes)"
        )
        self.tree.setContextMenuPolicy(Qt.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.currentItemChanged.connect(self._current_changed)
        self.tree.itemChanged.connect(self._item_renamed)
        self.groups: dict[str, QTreeWidgetItem] = {}
        for kind in KINDS:
            group = QTreeWidgetItem(self.tree, [GROUPS[kind], ""])
            group.setData(0, ENTRY, (kind, None))
            group.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            group.setExpanded(True)
            self.groups[kind] = group

        # Short texts for the context menu, longer ones for Help > Shortcuts.
        self.add_action = self._tree_action(
            "Add", "Add a character or a style, as the one selected", self.add_current_kind, "Ins"
        )
        self.rename_action = self._tree_action(
            "Rename", "Rename the selected entry", self.rename_current, "F2"
        )
        self.duplicate_action = self._tree_action(
            "Duplicate", "Duplicate the selected entry", self.duplicate_current, "Ctrl+D"
        )
        self.delete_action = self._tree_action(
            "Delete",
            "Delete the selected entry",
            self.delete_current,
            QKeySequence(Qt.Key_Delete),
            "Backspace",
        )
        self.add_character_button = QPushButton("Add &character")
        self.add_character_button.clicked.connect(lambda: self.add("character"))
        self.add_style_button = QPushButton("Add &style")
        self.add_style_button.clicked.connect(lambda: self.add("style"))
        self.duplicate_button = QPushButton("D&uplicate")
        self.duplicate_button.setToolTip("A copy of the selected entry (Ctrl+D)")
        self.duplicate_button.clicked.connect(self.duplicate_current)
        self.delete_button = QPushButton("&Delete")
        self.delete_button.setToolTip("Delete the selected entry (Delete)")
        self.delete_button.clicked.connect(self.delete_current)

        # The window's undo history, on the keys the window has for it.
        stack = document.undo_stack
        self.undo_action = stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts(shortcut_keys(QKeySequence.Undo, "Ctrl+Z"))
        self.undo_action.setProperty("shortcutLabel", "Undo")
        self.redo_action = stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts(shortcut_keys(QKeySequence.Redo, "Ctrl+Shift+Z", "Ctrl+Y"))
        self.redo_action.setProperty("shortcutLabel", "Redo")
        self.addActions([self.undo_action, self.redo_action])
        undo_button = HistoryButton(stack, redo=False)
        redo_button = HistoryButton(stack, redo=True)

        self.form = BibleEntryForm(document)

        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.tree, 1)
        row = QHBoxLayout()
        row.addWidget(self.add_character_button)
        row.addWidget(self.add_style_button)
        column.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.duplicate_button)
        row.addWidget(self.delete_button)
        column.addLayout(row)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.form)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 500])
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(undo_button)
        bottom.addWidget(redo_button)
        bottom.addStretch(1)
        bottom.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)
        # Enter in a field must not press a button: no button of the window is a default.
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
            button.setDefault(False)
        self.resize(780, 560)

        document.bibleChanged.connect(self._changed)
        document.shotsChanged.connect(self._changed)
        document.shotChanged.connect(self._shot_changed)
        self.refresh()
        self._select_first()

    def _tree_action(self, text: str, label: str, slot, *keys) -> QAction:
        action = QAction(text, self.tree)
        action.setProperty("shortcutLabel", label)
        action.setShortcuts(shortcut_keys(*keys))
        action.setShortcutContext(Qt.WidgetShortcut)
        action.triggered.connect(lambda *_: slot())
        self.tree.addAction(action)
        return action

    # -- what is selected --------------------------------------------------------------
    @property
    def project(self):
        return self.document.project

    def current(self) -> BibleEntry | None:
        """The selected character or style (None when a group or nothing is selected)."""
        item = self.tree.currentItem()
        data = item.data(0, ENTRY) if item is not None else None
        if not data or data[1] is None:
            return None
        return self._entry(*data)

    def current_kind(self) -> Kind:
        item = self.tree.currentItem()
        data = item.data(0, ENTRY) if item is not None else None
        return data[0] if data else "character"

    def _entry(self, kind: str, ident: str) -> BibleEntry | None:
        return next((e for e in entries_of(self.project, kind) if e.id == ident), None)

    def item_of(self, entry: BibleEntry) -> QTreeWidgetItem | None:
        group = self.groups[kind_of(entry)]
        for row in range(group.childCount()):
            if group.child(row).data(0, ENTRY) == (kind_of(entry), entry.id):
                return group.child(row)
        return None

    def select(self, entry: BibleEntry | None) -> None:
        """Select `entry` in the list and show it in the form."""
        item = self.item_of(entry) if entry is not None else None
        if item is not None:
            self.tree.setCurrentItem(item, 0)
        self._current_changed()

    def _select_first(self) -> None:
        entries = [*self.project.characters, *self.project.styles]
        if entries:
            self.select(entries[0])
        else:
            self.tree.setCurrentItem(self.groups["character"], 0)

    # -- edits -------------------------------------------------------------------------
    def add(self, kind: Kind) -> BibleEntry:
        """A new character or style, selected, its name ready to be typed over."""
        entry = new_entry(self.project, kind)
        self.document.push(add_entry(self.project, entry))
        self.select(entry)
        self.form.name_edit.setFocus(Qt.OtherFocusReason)
        self.form.name_edit.selectAll()
        return entry

    def add_current_kind(self) -> None:
        self.add(self.current_kind())

    def rename_current(self) -> None:
        item = self.tree.currentItem()
        if item is not None and self.current() is not None:
            self.tree.editItem(item, 0)

    def _item_renamed(self, item: QTreeWidgetItem, column: int) -> None:
        """A name typed in the list: a new name, or the old one back when it is empty."""
        data = item.data(0, ENTRY)
        entry = self._entry(*data) if column == 0 and data and data[1] else None
        if entry is None:
            return
        text = item.text(0).strip()
        if text and text != entry.name:
            self.document.push(rename_entry(entry, text))
        with QSignalBlocker(self.tree):
            item.setText(0, entry.name)

    def duplicate_current(self) -> BibleEntry | None:
        entry = self.current()
        if entry is None:
            return None
        twin, command = duplicate_entry(self.project, entry)
        self.document.push(command)
        self.select(twin)
        return twin

    def delete_current(self) -> bool:
        """Delete the selected entry; when shots use it, only once the user agrees."""
        entry = self.current()
        if entry is None:
            return False
        kind = kind_of(entry)
        used = len(shots_using(self.project, entry))
        if used:
            count = "1 shot uses" if used == 1 else f"{used} shots use"
            loses = "will have no style" if kind == "style" else "will be without the character"
            answer = QMessageBox.question(
                self,
                f"Delete {kind}",
                f"Delete the {kind} {entry.name}?\n{count} it; "
                f"{'it' if used == 1 else 'they'} {loses}.\nUndo brings it back.",
                QMessageBox.Yes | QMessageBox.Cancel,
                QMessageBox.Cancel,
            )
            if answer != QMessageBox.Yes:
                return False
        group = self.groups[kind]
        row = group.indexOfChild(self.item_of(entry))
        try:
            self.document.push(remove_entry(self.project, entry))
        except StudioError as error:
            QMessageBox.warning(self, f"Delete {kind}", str(error))
            return False
        if group.childCount():
            self.tree.setCurrentItem(group.child(min(row, group.childCount() - 1)), 0)
        else:
            self.tree.setCurrentItem(group, 0)
        return True

    def _context_menu(self, position) -> None:
        item = self.tree.itemAt(position)
        if item is not None:
            self.tree.setCurrentItem(item, 0)
        menu = QMenu(self)
        menu.addAction("Add character", lambda: self.add("character"))
        menu.addAction("Add style", lambda: self.add("style"))
        if self.current() is not None:
            menu.addSeparator()
            menu.addActions([self.rename_action, self.duplicate_action, self.delete_action])
        menu.exec(self.tree.viewport().mapToGlobal(position))
        menu.deleteLater()

    # -- from the document -------------------------------------------------------------
    def _changed(self) -> None:
        self._stale = True
        if self.isVisible():
            self.refresh()

    def _shot_changed(self, _shot_id: str, fields) -> None:
        if not fields or fields & LINK_FIELDS:
            self._changed()

    def refresh(self) -> None:
        """Show the bible as it is: rows made again only when entries came, went or
        moved; names and counts updated where they are."""
        self._stale = False
        project = self.project
        rows = tuple((kind, e.id) for kind in KINDS for e in entries_of(project, kind))
        if rows != self._shown:
            self._rebuild()
            self._shown = rows
        counts = usage_counts(project)
        with QSignalBlocker(self.tree):
            for kind in KINDS:
                group = self.groups[kind]
                entries = entries_of(project, kind)
                for row, entry in enumerate(entries):
                    item = group.child(row)
                    if item.text(0) != entry.name:
                        item.setText(0, entry.name)
                    used = counts.get(usage_key(entry), 0)
                    item.setText(1, str(used))
                    item.setToolTip(0, entry.description or "No description")
                    item.setToolTip(1, f"{used} shot{'' if used == 1 else 's'}")
        self._current_changed()

    def _rebuild(self) -> None:
        """The rows of the entries; the selected one stays selected while it exists, else
        its neighbour in its list (or its group)."""
        item = self.tree.currentItem()
        data = item.data(0, ENTRY) if item is not None else None
        position = 0
        if item is not None and item.parent() is not None:
            position = item.parent().indexOfChild(item)
        with QSignalBlocker(self.tree):
            for kind in KINDS:
                group = self.groups[kind]
                group.takeChildren()
                for entry in entries_of(self.project, kind):
                    child = QTreeWidgetItem(group, [entry.name, ""])
                    child.setData(0, ENTRY, (kind, entry.id))
                    child.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsEditable)
            target = None
            if data:
                kind, ident = data
                group = self.groups[kind]
                for row in range(group.childCount()):
                    if group.child(row).data(0, ENTRY) == (kind, ident):
                        target = group.child(row)
                if target is None and ident is not None and group.childCount():
                    target = group.child(min(position, group.childCount() - 1))
                target = target or group
            self.tree.setCurrentItem(target or self.groups["character"], 0)

    def _current_changed(self, *_items) -> None:
        entry = self.current()
        self.form.set_entry(entry)
        for action in (self.rename_action, self.duplicate_action, self.delete_action):
            action.setEnabled(entry is not None)
        self.duplicate_button.setEnabled(entry is not None)
        self.delete_button.setEnabled(entry is not None)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._stale:
            self.refresh()
        super().showEvent(event)
