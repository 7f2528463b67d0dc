"""The shot's pictures after its start in the prompt panel: the end picture (dropped or
chosen, cleared), ending on the next shot's start picture instead, and keyframes inside the
shot, each a picture at a time (the camera previz's playhead by default). Every change is
one undoable edit; pictures from outside the project are copied into its `media/`.

Which models obey them is the render plan's to say: the estimate under the generation
settings lists what the shot's model leaves out.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QWidget,
)

from engine.backends.pictures import load_image
from studio.commands import SetAttribute
from studio.errors import StudioError
from studio.project.io import check_inside
from studio.project.keyframes import MAX_TIME, with_keyframe, without_keyframe
from studio.project.model import Shot
from ui.widgets.flow_layout import FlowLayout
from ui.widgets.images import to_pixmap
from ui.widgets.keyframe_drop import PREVIEW, FileDrops, KeyframeDrop, import_image

if TYPE_CHECKING:
    from ui.document import Document

WARNING = "#ec963c"
IMAGES = "Images (*.png *.jpg *.jpeg *.webp)"
ICON = QSize(48, 27)
FIELDS = frozenset({"end_keyframe", "end_on_next", "keyframes", "duration", "keyframe"})


class KeyframeList(FileDrops, QListWidget):
    """The keyframes inside the shot; an image dropped on it is added at the time shown."""

    fileDropped = Signal(str)  # noqa: N815 - Qt signal naming

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setIconSize(ICON)


class ShotPictures(QWidget):
    """Edits the current shot's end picture, `end_on_next` and keyframes; follows the
    document (undo included)."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._end_key: tuple | None = None
        self._rows: tuple | None = None

        self.end_drop = KeyframeDrop()
        self.end_drop.setToolTip("Drop a PNG, JPEG or WebP image to end the shot on it")
        self.end_drop.fileDropped.connect(self.set_end_file)
        self.end_browse = QPushButton("Br&owse…", toolTip="Choose the picture the shot ends on")
        self.end_browse.clicked.connect(self._browse_end)
        self.end_clear = QPushButton("Clear", toolTip="The shot ends wherever the model takes it")
        self.end_clear.clicked.connect(self.clear_end)
        self.next_check = QCheckBox("End on the ne&xt shot's start picture")
        self.next_check.setToolTip(
            "The shot ends on the next shot's keyframe (or its character's picture), so the "
            "cut between them joins on the same picture"
        )
        self.next_check.toggled.connect(self._end_on_next_toggled)

        self.keyframe_list = KeyframeList()
        self.keyframe_list.setToolTip(
            "Pictures the shot passes through, at their times (Delete removes; drop an image "
            "to add one at the time beside)"
        )
        self.keyframe_list.setContextMenuPolicy(Qt.CustomContextMenu)
        self.keyframe_list.customContextMenuRequested.connect(self._context_menu)
        self.keyframe_list.fileDropped.connect(lambda path: self.add_keyframe_file(path))
        self.keyframe_list.itemSelectionChanged.connect(self._selection_changed)
        self.keyframe_list.itemDoubleClicked.connect(lambda _item: self._choose_replacement())
        self.remove_action = QAction("Remove keyframe", self.keyframe_list)
        self.remove_action.setShortcuts([QKeySequence.Delete, QKeySequence(Qt.Key_Backspace)])
        self.remove_action.setShortcutContext(Qt.WidgetShortcut)
        self.remove_action.triggered.connect(self.remove_selected)
        self.keyframe_list.addAction(self.remove_action)
        self.time_spin = QDoubleSpinBox(minimum=0.0, maximum=MAX_TIME, decimals=2, suffix=" s")
        self.time_spin.setSingleStep(0.25)
        self.time_spin.setToolTip("When the next keyframe is shown (follows the camera previz)")
        self.add_button = QPushButton("Add keyframe…", toolTip="A picture at the time beside")
        self.add_button.clicked.connect(self._browse_keyframe)
        self.remove_button = QPushButton("Remove", toolTip="Remove the selected keyframe (Delete)")
        self.remove_button.clicked.connect(self.remove_selected)
        self.message = QLabel(wordWrap=True, visible=False)
        self.message.setStyleSheet(f"color: {WARNING}")

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.addRow("&End", self.end_drop)
        form.addRow("", self._row(self.end_browse, self.end_clear))
        form.addRow("", self.next_check)
        form.addRow("&Inner keyframes", self.keyframe_list)
        at_time = QWidget()
        at_layout = QHBoxLayout(at_time)
        at_layout.setContentsMargins(0, 0, 0, 0)
        at_layout.addWidget(QLabel("at"))
        at_layout.addWidget(self.time_spin)
        form.addRow("", self._row(self.add_button, at_time, self.remove_button))
        form.addRow("", self.message)

        document.shotChanged.connect(self._fields_changed)
        document.currentShotChanged.connect(self._shot_changed)
        document.previzTimeChanged.connect(self.set_playhead_fraction)
        self.refresh()

    @staticmethod
    def _row(*widgets: QWidget) -> QWidget:
        """Widgets side by side, wrapping in a narrow panel instead of widening it."""
        row = QWidget()
        layout = FlowLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in widgets:
            layout.addWidget(widget)
        return row

    @property
    def shot(self) -> Shot | None:
        return self.document.current_shot

    # -- edits -------------------------------------------------------------------------
    def _push(self, name: str, value, text: str) -> None:
        shot = self.shot
        if shot is not None and getattr(shot, name) != value:
            self.document.push(SetAttribute(shot, name, value, text=text))

    def _import(self, path: str | Path) -> str | None:
        """The picture's project-relative path, or None (and the reason shown)."""
        try:
            relative = import_image(self.document.folder, Path(path))
        except StudioError as error:
            self.show_message(str(error))
            return None
        self.show_message("")
        return relative

    def set_end_file(self, path: str | Path) -> bool:
        """End the shot on an image file (copied into the project when outside it)."""
        if self.shot is None:
            return False
        relative = self._import(path)
        if relative is None:
            return False
        self._push("end_keyframe", relative, "Set end picture")
        return True

    def clear_end(self) -> None:
        self._push("end_keyframe", None, "Clear end picture")

    def _end_on_next_toggled(self, on: bool) -> None:
        text = "End on the next shot's picture" if on else "End on the shot's own picture"
        self._push("end_on_next", on, text)

    def set_playhead(self, seconds: float) -> None:
        """The time a new keyframe goes at: the camera previz's playhead."""
        with QSignalBlocker(self.time_spin):
            self.time_spin.setValue(max(0.0, seconds))

    def set_playhead_fraction(self, fraction: float) -> None:
        shot = self.shot
        if shot is not None:
            self.set_playhead(round(fraction * shot.duration, 2))

    def add_keyframe_file(self, path: str | Path, seconds: float | None = None) -> bool:
        """A picture shown at `seconds` (the time box's when None), replacing the one there."""
        shot = self.shot
        if shot is None:
            return False
        at = self.time_spin.value() if seconds is None else float(seconds)
        if at > shot.duration:
            self.show_message(f"{at:g} s is after the shot's end ({shot.duration:g} s)")
            return False
        relative = self._import(path)
        if relative is None:
            return False
        try:
            keys = with_keyframe(shot.keyframes, at, relative)
        except StudioError as error:
            self.show_message(str(error))
            return False
        self._push("keyframes", keys, f"Keyframe at {at:g} s")
        self._select_time(at)
        return True

    def remove_selected(self) -> None:
        shot, item = self.shot, self.keyframe_list.currentItem()
        if shot is None or item is None:
            return
        at = float(item.data(Qt.UserRole))
        row = self.keyframe_list.currentRow()
        self._push("keyframes", without_keyframe(shot.keyframes, at), f"Remove keyframe {at:g} s")
        if self.keyframe_list.count():
            self.keyframe_list.setCurrentRow(min(row, self.keyframe_list.count() - 1))

    def move_selected(self, seconds: float) -> bool:
        """Show the selected keyframe's picture at `seconds` instead."""
        shot, item = self.shot, self.keyframe_list.currentItem()
        if shot is None or item is None:
            return False
        at = float(item.data(Qt.UserRole))
        image = next(k.image for k in shot.keyframes if abs(k.time - at) < 1e-6)
        if seconds > shot.duration:
            self.show_message(f"{seconds:g} s is after the shot's end ({shot.duration:g} s)")
            return False
        keys = with_keyframe(without_keyframe(shot.keyframes, at), seconds, image)
        self._push("keyframes", keys, f"Move keyframe to {seconds:g} s")
        self._select_time(seconds)
        return True

    def _select_time(self, at: float) -> None:
        for row in range(self.keyframe_list.count()):
            if abs(float(self.keyframe_list.item(row).data(Qt.UserRole)) - at) < 1e-6:
                self.keyframe_list.setCurrentRow(row)

    def _browse_end(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "End picture", str(self.document.folder), IMAGES
        )
        if path:
            self.set_end_file(path)

    def _browse_keyframe(self) -> None:
        at = self.time_spin.value()
        title = f"Keyframe at {at:g} s"
        path, _ = QFileDialog.getOpenFileName(self, title, str(self.document.folder), IMAGES)
        if path:
            self.add_keyframe_file(path, at)

    def _choose_replacement(self) -> None:
        item = self.keyframe_list.currentItem()
        if item is None:
            return
        at = float(item.data(Qt.UserRole))
        title = f"Keyframe at {at:g} s"
        path, _ = QFileDialog.getOpenFileName(self, title, str(self.document.folder), IMAGES)
        if path:
            self.add_keyframe_file(path, at)

    def _context_menu(self, position) -> None:
        item = self.keyframe_list.itemAt(position)
        if item is not None:
            self.keyframe_list.setCurrentItem(item)
        menu = QMenu(self)
        menu.addAction("Add keyframe…", self._browse_keyframe)
        if item is not None:
            menu.addAction("Replace picture…", self._choose_replacement)
            to = self.time_spin.value()
            move = menu.addAction(f"Move to {to:g} s", lambda: self.move_selected(to))
            move.setEnabled(abs(float(item.data(Qt.UserRole)) - to) >= 1e-6)
            menu.addAction(self.remove_action)
        menu.popup(self.keyframe_list.viewport().mapToGlobal(position))

    # -- from the document -------------------------------------------------------------
    def _fields_changed(self, shot_id: str, fields) -> None:
        if shot_id == self.document.current_shot_id and (not fields or fields & FIELDS):
            self.refresh()

    def _shot_changed(self, _shot_id: str) -> None:
        self.show_message("")
        self.refresh()

    def refresh(self) -> None:
        shot = self.shot
        self.setEnabled(shot is not None)
        with QSignalBlocker(self.next_check):
            self.next_check.setChecked(bool(shot and shot.end_on_next))
        own_end = bool(shot and not shot.end_on_next)
        for widget in (self.end_drop, self.end_browse):
            widget.setEnabled(own_end)
        self.end_clear.setEnabled(own_end and bool(shot and shot.end_keyframe))
        self._show_end(shot)
        self._show_keyframes(shot)
        if shot is not None:
            self.time_spin.setMaximum(shot.duration)

    def _picture(self, relative: str):
        """The picture's pixmap, or the reason it cannot be shown."""
        try:
            path = check_inside(self.document.folder, relative)
            return to_pixmap(load_image(path)), ""
        except (StudioError, OSError) as error:
            return None, str(error)

    def _stamp(self, relative: str | None) -> int | None:
        if not relative:
            return None
        try:
            return check_inside(self.document.folder, relative).stat().st_mtime_ns
        except (StudioError, OSError):
            return None

    def _show_end(self, shot: Shot | None) -> None:
        end = shot.end_keyframe if shot and not shot.end_on_next else None
        key = (end, self._stamp(end), bool(shot and shot.end_on_next))
        if key == self._end_key:
            return
        self._end_key = key
        drop = self.end_drop
        drop.setToolTip("Drop a PNG, JPEG or WebP image to end the shot on it")
        if shot is not None and shot.end_on_next:
            drop.setText("Ends on the next shot's start picture")  # (a text clears a picture)
            return
        if not end:
            drop.setText("Drop the end picture here\n(PNG, JPEG or WebP)")
            return
        pixmap, problem = self._picture(end)
        if pixmap is None:
            drop.setText(end)
            self.show_message(problem)
            return
        drop.setPixmap(pixmap.scaled(PREVIEW, Qt.KeepAspectRatio, Qt.SmoothTransformation))
        drop.setToolTip(f"{end}\nDrop another image to replace it")

    def _show_keyframes(self, shot: Shot | None) -> None:
        keys = shot.keyframes if shot else ()
        rows = tuple((k.time, k.image, self._stamp(k.image)) for k in keys)
        if rows == self._rows:
            self._selection_changed()
            return
        self._rows = rows
        current = self.keyframe_list.currentItem()
        chosen = None if current is None else float(current.data(Qt.UserRole))
        with QSignalBlocker(self.keyframe_list):
            self.keyframe_list.clear()
            for key in keys:
                late = shot is not None and key.time > shot.duration
                text = f"{key.time:g} s — {Path(key.image).name}"
                item = QListWidgetItem(text + (" (after the shot's end)" if late else ""))
                item.setData(Qt.UserRole, key.time)
                item.setToolTip(key.image)
                pixmap, problem = self._picture(key.image)
                if pixmap is not None:
                    item.setIcon(QIcon(pixmap.scaled(ICON, Qt.KeepAspectRatio)))
                else:
                    item.setToolTip(f"{key.image}\n{problem}")
                self.keyframe_list.addItem(item)
        if chosen is not None:
            self._select_time(chosen)
        count = min(max(len(keys), 1), 4)
        height = max(self.keyframe_list.sizeHintForRow(0), ICON.height() + 4)
        self.keyframe_list.setFixedHeight(count * height + 2 * self.keyframe_list.frameWidth() + 2)
        self._selection_changed()

    def _selection_changed(self) -> None:
        has = self.keyframe_list.currentItem() is not None and self.shot is not None
        self.remove_button.setEnabled(has)
        self.remove_action.setEnabled(has)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
