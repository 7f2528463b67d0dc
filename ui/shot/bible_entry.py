"""One entry of the bible in the Characters and styles window: its name, its description
(said in every prompt of the shots that use it), its reference pictures and its LoRAs.

Every change is one undoable edit on the document's stack: a typing burst in the name or
the description is one step, as in the shot panel. Pictures and LoRAs from outside the
project are copied into its `media/` (`media/loras/` for LoRAs), and a file that cannot be
used changes nothing and says why.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.backends.pictures import load_image
from studio.commands import SetAttribute, set_field
from studio.errors import StudioError
from studio.project.bible import kind_of, rename_entry, shots_using
from studio.project.io import check_inside
from studio.project.model import BibleEntry, Style
from ui.shot.lora_list import LoraTable
from ui.shot.prompt_panel import BURST_IDLE_MS
from ui.widgets.images import to_pixmap
from ui.widgets.keyframe_drop import FileDrops, import_image

if TYPE_CHECKING:
    from ui.document import Document

WARNING = "#ec963c"
IMAGES = "Images (*.png *.jpg *.jpeg *.webp)"
THUMB = QSize(96, 54)
NAMED_SHOTS = 4  # the shots named in "Used by…"; the others are counted


class BibleLoras(LoraTable):
    """The LoRAs of the entry the form shows."""

    def __init__(self, form: BibleEntryForm) -> None:
        super().__init__(
            form.document,
            "LoRAs every shot of this style or with this character renders with (Delete removes)",
        )
        self.form = form

    def owner(self) -> BibleEntry | None:
        return self.form.entry

    def owner_words(self, owner: BibleEntry) -> str:
        return f"the LoRAs of {owner.name}"


class ReferenceList(FileDrops, QListWidget):
    """The entry's reference pictures as thumbnails; image files dropped on it are added."""

    filesDropped = Signal(list)  # noqa: N815 - local paths

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.IconMode)
        self.setIconSize(THUMB)
        self.setResizeMode(QListView.Adjust)
        self.setMovement(QListView.Static)
        self.setWrapping(True)
        self.setSpacing(4)
        self.setWordWrap(True)
        # After the movement, which takes drops away from a static view's viewport.
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setFixedHeight(THUMB.height() + 56)


class BibleEntryForm(QWidget):
    """Shows and edits one character or style (`set_entry`); `refresh` shows it again
    after an edit, an undo or a redo. `message(str)` says why a file was refused."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.entry: BibleEntry | None = None
        self._burst = 0
        self._own_push = False
        self._pictures: tuple | None = None  # what the reference list shows
        self._blank_name = False  # the name field was emptied: kept so while typing
        self._burst_timer = QTimer(self, singleShot=True, interval=BURST_IDLE_MS)
        self._burst_timer.timeout.connect(self.end_burst)

        self.name_edit = QLineEdit(placeholderText="Name")
        self.name_edit.textEdited.connect(self._name_edited)
        self.name_edit.editingFinished.connect(self._name_finished)
        self.name_message = QLabel(wordWrap=True, visible=False)
        self.name_message.setStyleSheet(f"color: {WARNING}")
        self.usage_label = QLabel(wordWrap=True)
        self.usage_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.description_edit = QPlainTextEdit(tabChangesFocus=True)
        self.description_edit.setMinimumHeight(70)
        self.description_edit.textChanged.connect(self._description_edited)

        self.reference_list = ReferenceList()
        self.reference_list.setContextMenuPolicy(Qt.CustomContextMenu)
        self.reference_list.customContextMenuRequested.connect(self._reference_menu)
        self.reference_list.filesDropped.connect(self.add_reference_files)
        self.reference_list.itemSelectionChanged.connect(self._selection_changed)
        self.remove_reference_action = QAction("Remove picture", self.reference_list)
        self.remove_reference_action.setShortcuts(
            [QKeySequence(Qt.Key_Delete), QKeySequence(Qt.Key_Backspace)]
        )
        self.remove_reference_action.setShortcutContext(Qt.WidgetShortcut)
        self.remove_reference_action.triggered.connect(self.remove_selected_reference)
        self.reference_list.addAction(self.remove_reference_action)
        self.add_reference_button = QPushButton("Add p&icture…")
        self.add_reference_button.setToolTip("Add reference pictures (PNG, JPEG or WebP)")
        self.add_reference_button.clicked.connect(self._browse_references)
        self.remove_reference_button = QPushButton("Remove")
        self.remove_reference_button.setToolTip("Remove the selected picture (Delete)")
        self.remove_reference_button.clicked.connect(self.remove_selected_reference)
        self.message_label = QLabel(wordWrap=True, visible=False)
        self.message_label.setStyleSheet(f"color: {WARNING}")

        self.loras = BibleLoras(self)

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.addRow("&Name", self.name_edit)
        form.addRow("", self.name_message)
        form.addRow("", self.usage_label)
        form.addRow("D&escription", self.description_edit)
        pictures = QWidget()
        column = QVBoxLayout(pictures)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.reference_list)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_reference_button)
        buttons.addWidget(self.remove_reference_button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        column.addWidget(self.message_label)
        pictures.setFocusProxy(self.reference_list)
        form.addRow("&Pictures", pictures)
        form.addRow("&LoRAs", self.loras)
        self.loras.setFocusProxy(self.loras.table)

        document.undo_stack.indexChanged.connect(self._history_moved)
        self.set_entry(None)

    # -- edits -------------------------------------------------------------------------
    def _push(self, command) -> None:
        self._own_push = True
        try:
            self.document.push(command)
        finally:
            self._own_push = False

    def _merge_key(self, name: str) -> tuple:
        self._burst_timer.start()
        return ("bible", id(self.entry), name, self._burst)

    def _name_edited(self, text: str) -> None:
        entry = self.entry
        if entry is None or text.strip() == entry.name:
            return
        self._blank_name = not text.strip()
        if self._blank_name:
            self._name_message(f"A {kind_of(entry)} needs a name: type one to rename it")
            return
        self._name_message("")
        self._push(rename_entry(entry, text, merge_key=self._merge_key("name")))

    def _name_finished(self) -> None:
        """An empty name is not kept: the field shows the entry's name again."""
        self._blank_name = False
        if self.entry is not None and self.name_edit.text().strip() != self.entry.name:
            with QSignalBlocker(self.name_edit):
                self.name_edit.setText(self.entry.name)
        self._name_message("")

    def _description_edited(self) -> None:
        entry, text = self.entry, self.description_edit.toPlainText()
        if entry is None or text == entry.description:
            return
        command = set_field(entry, "description", text)
        command.merge_key = self._merge_key("description")
        self._push(command)

    def end_burst(self) -> None:
        """The next typed change starts a new undo step."""
        self._burst += 1

    def _history_moved(self, _index: int) -> None:
        if not self._own_push:
            self.end_burst()  # an undo or another edit: typing starts afresh
            self._blank_name = False

    def add_reference_files(self, paths) -> int:
        """Add pictures to the entry's references, as one step; those from outside the
        project are copied into its `media/`. A file that is not a readable image, or a
        picture the entry has already, is left out and said so. The number added."""
        entry = self.entry
        if entry is None:
            return 0
        added: list[str] = []
        problems: list[str] = []
        for path in paths:
            try:
                relative = import_image(self.document.folder, Path(path))
            except StudioError as error:
                problems.append(str(error))
                continue
            if relative in entry.references or relative in added:
                problems.append(f"{Path(relative).name} is already a picture of {entry.name}")
                continue
            added.append(relative)
        self.show_message("\n".join(problems))
        if added:
            what = Path(added[0]).name if len(added) == 1 else f"{len(added)} pictures"
            references = [*entry.references, *added]
            self._push(SetAttribute(entry, "references", references, text=f"Add {what}"))
            self.reference_list.setCurrentRow(len(entry.references) - 1)
        return len(added)

    def remove_selected_reference(self) -> None:
        entry, row = self.entry, self.reference_list.currentRow()
        if entry is None or not 0 <= row < len(entry.references):
            return
        name = Path(entry.references[row]).name
        references = entry.references[:row] + entry.references[row + 1 :]
        self._push(SetAttribute(entry, "references", references, text=f"Remove picture {name}"))
        if entry.references:
            self.reference_list.setCurrentRow(min(row, len(entry.references) - 1))

    def _browse_references(self) -> None:
        if self.entry is None:
            return
        paths, _ = QFileDialog.getOpenFileNames(
            self, f"Pictures of {self.entry.name}", str(self.document.folder), IMAGES
        )
        if paths:
            self.add_reference_files(paths)

    def _reference_menu(self, position) -> None:
        item = self.reference_list.itemAt(position)
        if item is not None:
            self.reference_list.setCurrentItem(item)
        menu = QMenu(self)
        menu.addAction("Add picture…", self._browse_references).setEnabled(bool(self.entry))
        if item is not None:
            menu.addAction(self.remove_reference_action)
        menu.exec(self.reference_list.viewport().mapToGlobal(position))
        menu.deleteLater()

    # -- showing -----------------------------------------------------------------------
    def set_entry(self, entry: BibleEntry | None) -> None:
        """Show `entry` (None: nothing to edit)."""
        if entry is not self.entry:
            self.end_burst()
            self.show_message("")
            self._name_message("")
            self._blank_name = False
            self.loras.clear_message()
        self.entry = entry
        self.refresh()

    def refresh(self) -> None:
        """Show the entry's values; a field that shows them already is left as it is, so
        the cursor stays where the director is typing."""
        entry = self.entry
        self.setEnabled(entry is not None)
        with QSignalBlocker(self.name_edit), QSignalBlocker(self.description_edit):
            name = entry.name if entry else ""
            if self.name_edit.text().strip() != name and not self._blank_name:
                self.name_edit.setText(name)
            text = entry.description if entry else ""
            if self.description_edit.toPlainText() != text:
                cursor = self.description_edit.textCursor()
                position = cursor.position()
                self.description_edit.setPlainText(text)
                cursor.setPosition(min(position, len(text)))
                self.description_edit.setTextCursor(cursor)
        self.description_edit.setPlaceholderText(
            "The look in words: palette, lens, grain, era (joins the prompt of its shots)"
            if isinstance(entry, Style)
            else "Who they are in words: age, face, clothes (joins the prompt of their shots)"
        )
        self._show_usage(entry)
        self._show_references(entry)
        self.loras.refresh()
        self._selection_changed()

    def _show_usage(self, entry: BibleEntry | None) -> None:
        if entry is None:
            self.usage_label.clear()
            return
        shots = shots_using(self.document.project, entry)
        if not shots:
            self.usage_label.setText("No shot uses it yet")
            return
        names = [shot.title or shot.id for shot in shots[:NAMED_SHOTS]]
        more = len(shots) - len(names)
        said = ", ".join(names) + (f" and {more} more" if more else "")
        count = "1 shot" if len(shots) == 1 else f"{len(shots)} shots"
        self.usage_label.setText(f"Used by {count}: {said}")

    def _stamp(self, relative: str) -> int | None:
        try:
            return check_inside(self.document.folder, relative).stat().st_mtime_ns
        except (StudioError, OSError):
            return None

    def _show_references(self, entry: BibleEntry | None) -> None:
        references = list(entry.references) if entry else []
        key = (id(entry), tuple((r, self._stamp(r)) for r in references))
        if key == self._pictures:
            return
        self._pictures = key
        row = self.reference_list.currentRow()
        with QSignalBlocker(self.reference_list):
            self.reference_list.clear()
            for relative in references:
                item = QListWidgetItem(Path(relative).name)
                item.setToolTip(relative)
                try:
                    path = check_inside(self.document.folder, relative)
                    pixmap = to_pixmap(load_image(path))
                except (StudioError, OSError) as error:
                    item.setText(f"{Path(relative).name} (cannot be shown)")
                    item.setToolTip(f"{relative}\n{error}")
                else:
                    scaled = pixmap.scaled(THUMB, Qt.KeepAspectRatio, Qt.SmoothTransformation)
                    item.setIcon(QIcon(scaled))
                self.reference_list.addItem(item)
            if references:
                self.reference_list.setCurrentRow(min(max(row, 0), len(references) - 1))

    def _selection_changed(self) -> None:
        entry = self.entry
        has = entry is not None and 0 <= self.reference_list.currentRow() < len(entry.references)
        self.remove_reference_button.setEnabled(has)
        self.remove_reference_action.setEnabled(has)

    def _name_message(self, text: str) -> None:
        self.name_message.setText(text)
        self.name_message.setVisible(bool(text))

    def show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))
