"""LoRA tables: a row per LoRA with its scale, added from a file (copied into the project's
`media/loras/`), reweighted or removed, each an undoable edit.

`LoraTable` edits the `loras` of one object, a shot or an entry of the bible; `LoraList` is
the prompt panel's, on the current shot. The LoRAs the shot takes from its style and
characters are listed under its table, so the director sees everything the shot renders
with; they are edited in the bible (Edit > Characters and styles). A LoRA the shot lists
again overrides the bible's scale (0 turns it off for this shot).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.commands import SetAttribute
from studio.errors import StudioError
from studio.project.loras import (
    LORA_FOLDER,
    MAX_SCALE,
    MIN_SCALE,
    SUFFIX,
    Lora,
    check_lora_file,
)
from studio.project.media import import_media
from studio.project.model import Shot

if TYPE_CHECKING:
    from ui.document import Document

SCALE_STEP = 0.05
WARNING = "#ec963c"


class LoraTable(QWidget):
    """Edits the `loras` of `owner()` (None: nothing to edit); `refresh` shows them again.
    Subclasses say whose LoRAs they are and when to refresh."""

    messageChanged = Signal(str)  # noqa: N815 - why the last add failed ("" when it did not)

    def __init__(self, document: Document, tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._shown: tuple[str, ...] | None = None  # the files the rows show, in order
        self._shown_owner: Any = None  # whose they are

        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["LoRA", "Scale"])
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setContextMenuPolicy(Qt.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.setToolTip(tip)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.remove_action = QAction("Remove LoRA", self.table)
        self.remove_action.setShortcuts([QKeySequence.Delete, QKeySequence(Qt.Key_Backspace)])
        self.remove_action.setShortcutContext(Qt.WidgetShortcut)
        self.remove_action.triggered.connect(self.remove_selected)
        self.table.addAction(self.remove_action)
        self.reset_action = QAction("Scale 1", self.table)
        self.reset_action.triggered.connect(self._reset_selected)

        self.add_button = QPushButton("&Add LoRA…", toolTip="Add a LoRA (.safetensors) file")
        self.add_button.clicked.connect(self._browse)
        self.remove_button = QPushButton("Remove", toolTip="Remove the selected LoRA (Delete)")
        self.remove_button.clicked.connect(self.remove_selected)
        self.message_label = QLabel(wordWrap=True)
        self.message_label.setStyleSheet(f"color: {WARNING}")
        self.message_label.hide()

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(0, 0, 0, 0)
        self.column.addWidget(self.table)
        self.column.addLayout(buttons)
        self.column.addWidget(self.message_label)

    # -- whose LoRAs -------------------------------------------------------------------
    def owner(self) -> Any:
        """The shot or bible entry whose `loras` the table edits; None when there is none."""
        raise NotImplementedError

    def owner_words(self, owner: Any) -> str:
        """The owner's list in a message: "the shot's LoRAs"."""
        return "the shot's LoRAs"

    # -- edits -------------------------------------------------------------------------
    def add_file(self, path: str | Path) -> bool:
        """Add a LoRA file at scale 1, copied into the project's `media/loras/` when it is
        outside the project. A file that is not safetensors leaves everything as it was
        and says why."""
        owner = self.owner()
        if owner is None:
            return False
        try:
            check_lora_file(path)
            relative = import_media(self.document.folder, path, into=LORA_FOLDER)
        except StudioError as error:
            self._show_message(str(error))
            return False
        if any(lora.file == relative for lora in owner.loras):
            self._show_message(f"{Path(relative).name} is already in {self.owner_words(owner)}")
            return False
        self._show_message("")
        lora = Lora(relative)
        self._push(owner, (*owner.loras, lora), f"Add LoRA {lora.name}")
        self.table.selectRow(len(owner.loras) - 1)
        return True

    def remove_selected(self) -> None:
        owner, row = self.owner(), self.table.currentRow()
        if owner is None or not 0 <= row < len(owner.loras):
            return
        name = owner.loras[row].name
        self._push(owner, owner.loras[:row] + owner.loras[row + 1 :], f"Remove LoRA {name}")
        if owner.loras:
            self.table.selectRow(min(row, len(owner.loras) - 1))

    def set_scale(self, row: int, scale: float) -> None:
        """Reweight the LoRA of `row`; consecutive changes of one LoRA are one undo step."""
        owner = self.owner()
        if owner is None or not 0 <= row < len(owner.loras) or owner.loras[row].scale == scale:
            return
        old = owner.loras[row]
        loras = (*owner.loras[:row], Lora(old.file, scale), *owner.loras[row + 1 :])
        self._push(owner, loras, f"LoRA scale {old.name}", merge=("lora-scale", old.file))

    def _reset_selected(self) -> None:
        self.set_scale(self.table.currentRow(), 1.0)

    def _push(self, owner: Any, loras: tuple[Lora, ...], text: str, merge=None) -> None:
        key = None if merge is None else (*merge, id(owner))
        self.document.push(SetAttribute(owner, "loras", loras, text=text, merge_key=key))

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Add a LoRA", str(self.document.folder), f"LoRA (*{SUFFIX})"
        )
        if path:
            self.add_file(path)

    def _context_menu(self, position) -> None:
        row = self.table.rowAt(position.y())
        if row >= 0:
            self.table.selectRow(row)
        menu = QMenu(self)
        menu.setAttribute(Qt.WA_DeleteOnClose)  # one menu per click, gone once closed
        menu.addAction("Add LoRA…", self._browse)
        if row >= 0:
            menu.addAction(self.reset_action)
            menu.addAction(self.remove_action)
        menu.popup(self.table.viewport().mapToGlobal(position))

    # -- showing -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the owner's LoRAs: rows rebuilt only when the files changed, so a scale
        being typed keeps its box."""
        owner = self.owner()
        loras = owner.loras if owner is not None else ()
        files = tuple(lora.file for lora in loras)
        if files != self._shown or owner is not self._shown_owner:
            self._rebuild(loras)
            self._shown, self._shown_owner = files, owner
        for row, lora in enumerate(loras):
            spin = self.scale_box(row)
            if spin.value() != lora.scale:
                with QSignalBlocker(spin):
                    spin.setValue(lora.scale)
        self._selection_changed()

    def scale_box(self, row: int) -> QDoubleSpinBox:
        return self.table.cellWidget(row, 1)

    def _rebuild(self, loras: tuple[Lora, ...]) -> None:
        selected = self.table.currentRow()
        with QSignalBlocker(self.table):
            self.table.setRowCount(0)
            self.table.setRowCount(len(loras))
            for row, lora in enumerate(loras):
                item = QTableWidgetItem(lora.name)
                item.setToolTip(lora.file)
                self.table.setItem(row, 0, item)
                spin = QDoubleSpinBox(
                    minimum=MIN_SCALE, maximum=MAX_SCALE, singleStep=SCALE_STEP, decimals=2
                )
                spin.setKeyboardTracking(False)
                spin.setValue(lora.scale)
                spin.setToolTip("How strongly the LoRA applies: 1 as trained, 0 not at all")
                spin.valueChanged.connect(lambda value, r=row: self.set_scale(r, value))
                self.table.setCellWidget(row, 1, spin)
            if loras:
                self.table.selectRow(min(max(selected, 0), len(loras) - 1))
        rows = min(max(len(loras), 1), 4)
        height = max(self.table.verticalHeader().defaultSectionSize(), 18)
        header = self.table.horizontalHeader().sizeHint().height()
        self.table.setFixedHeight(header + rows * height + 2 * self.table.frameWidth() + 2)

    def _selection_changed(self) -> None:
        owner = self.owner()
        has = owner is not None and 0 <= self.table.currentRow() < len(owner.loras)
        self.remove_button.setEnabled(has)
        self.remove_action.setEnabled(has)
        self.reset_action.setEnabled(has)

    def clear_message(self) -> None:
        self._show_message("")

    def _show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))
        self.messageChanged.emit(text)


class LoraList(LoraTable):
    """Edits `document.current_shot.loras`; follows the document (undo included) and lists
    the LoRAs the shot takes from the bible under its own."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(
            document,
            "LoRAs the shot renders with, after its style's and characters' (Delete removes)",
            parent,
        )
        self.inherited_label = QLabel(wordWrap=True)
        self.inherited_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.column.insertWidget(self.column.count() - 1, self.inherited_label)

        document.shotChanged.connect(self._shot_fields_changed)
        document.currentShotChanged.connect(self._current_shot_changed)
        document.bibleChanged.connect(self.refresh)
        self.refresh()

    @property
    def shot(self) -> Shot | None:
        return self.document.current_shot

    def owner(self) -> Shot | None:
        return self.document.current_shot

    # -- from the document -------------------------------------------------------------
    def _shot_fields_changed(self, shot_id: str, fields) -> None:
        if shot_id == self.document.current_shot_id and (not fields or "loras" in fields):
            self.refresh()

    def _current_shot_changed(self, _shot_id: str) -> None:
        self._show_message("")
        self.refresh()

    def refresh(self) -> None:
        super().refresh()
        self._show_inherited(self.shot)

    def _show_inherited(self, shot: Shot | None) -> None:
        project = self.document.project
        lines = []
        if shot is not None:
            style = project.style(shot.style)
            sources = [(style, "style")] if style is not None else []
            sources += [(project.character(c), "character") for c in shot.characters]
            for entry, kind in sources:
                if entry is not None and entry.loras:
                    said = ", ".join(f"{lora.name} × {lora.scale:g}" for lora in entry.loras)
                    lines.append(f"From {kind} {entry.name}: {said}")
        self.inherited_label.setText("\n".join(lines))
        self.inherited_label.setVisible(bool(lines))
