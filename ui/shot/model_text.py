"""What the model reads: the shot's prompt as its model gets it, in a collapsible box.

The text is `studio.render_plan.model_prompt`, the prompt of the request a render of the
shot makes: the prompt, the bible's characters and style, and for a diffusion model the
camera move in the words of its family's prompt guide (`studio.camera.words`). It follows
every edit of the shot (prompt, camera, model, duration), of the bible and of the current
shot, so it is always what the next render would send. Read only; it can be selected and
copied. A line under it says whose camera words they are, with links to the guides.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.models.catalog import Catalog
from engine.render.inputs import model_rules
from studio.camera.rig import is_static
from studio.camera.words import vocabulary
from studio.project.model import Shot
from studio.render_plan import bible_prompt, model_prompt

if TYPE_CHECKING:
    from ui.document import Document

TITLE = "What the model reads"


def words_note(shot: Shot, catalog: Catalog) -> tuple[str, str]:
    """The line under the text (rich text: links to the guides) and its tooltip."""
    if shot.model_id not in catalog:
        return f"{escape(shot.model_id)} is not in the model catalog: no camera words.", ""
    entry = catalog.get(shot.model_id)
    if entry.backend == "previz":
        return "The previz draws the camera rig itself: it reads no camera words.", ""
    if is_static(shot.camera):
        return "The camera does not move: no camera words are added.", ""
    words = vocabulary(entry.family)
    if words is None:
        return f"Camera words in the studio's own terms: {escape(entry.name)} has no guide.", ""
    links = ", ".join(f'<a href="{escape(s.url)}">{escape(s.title)}</a>' for s in words.sources)
    tip = "\n\n".join(f"{s.title}\n{s.url}\n“{s.quote}”" for s in words.sources)
    return f"Camera words as the {escape(words.name)} guides say them: {links}", tip


class ModelText(QWidget):
    """The collapsible box under the shot's settings (closed at first: its header opens it)."""

    def __init__(
        self, document: Document, catalog: Catalog | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.catalog = catalog or Catalog()

        self.toggle = QToolButton(text=TITLE, checkable=True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.RightArrow)
        self.toggle.setAutoRaise(True)
        self.toggle.setToolTip(
            "The prompt as the shot's model gets it: the prompt, the bible and the camera "
            "move in the words of the model's prompt guide"
        )
        self.toggle.toggled.connect(self.set_open)
        self.text_view = QPlainTextEdit(readOnly=True, tabChangesFocus=True)
        self.text_view.setAccessibleName(TITLE)
        self.text_view.setMinimumHeight(56)
        self.text_view.setMaximumHeight(110)
        self.text_view.setTextInteractionFlags(
            Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard
        )
        self.note_label = QLabel(wordWrap=True, openExternalLinks=True)
        self.note_label.setTextFormat(Qt.RichText)
        self.copy_button = QToolButton(text="Copy")
        self.copy_button.setToolTip("Copy what the model reads to the clipboard")
        self.copy_button.clicked.connect(self.copy)

        self.body = QWidget(visible=False)
        body = QVBoxLayout(self.body)
        body.setContentsMargins(18, 0, 0, 0)
        body.addWidget(self.text_view)
        row = QHBoxLayout()
        row.addWidget(self.note_label, 1)
        row.addWidget(self.copy_button, 0, Qt.AlignTop)
        body.addLayout(row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle)
        layout.addWidget(self.body)

        document.shotChanged.connect(self._fields_changed)
        document.bibleChanged.connect(self.refresh)
        document.currentShotChanged.connect(self.refresh)
        self.refresh()

    @property
    def text(self) -> str:
        return self.text_view.toPlainText()

    def is_open(self) -> bool:
        return self.toggle.isChecked()

    def set_open(self, on: bool) -> None:
        """Show or hide the text (the header's arrow follows)."""
        if self.toggle.isChecked() != on:
            self.toggle.setChecked(on)  # comes back here through `toggled`
            return
        self.toggle.setArrowType(Qt.DownArrow if on else Qt.RightArrow)
        self.body.setVisible(on)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)

    def _fields_changed(self, shot_id: str, _fields: frozenset[str]) -> None:
        if shot_id == self.document.current_shot_id:
            self.refresh()

    def refresh(self) -> None:
        """Show what the current shot's model reads now."""
        shot = self.document.current_shot
        self.setEnabled(shot is not None)
        if shot is None:
            text, note, tip = "", "", ""
        else:
            project = self.document.project
            if shot.model_id in self.catalog:
                rules = model_rules(self.catalog.get(shot.model_id))
                text = model_prompt(project, shot, rules)
            else:
                text = bible_prompt(project, shot)
            note, tip = words_note(shot, self.catalog)
        if self.text_view.toPlainText() != text:
            self.text_view.setPlainText(text)  # a same text keeps the selection
        self.note_label.setText(note)
        self.note_label.setToolTip(tip)
        self.copy_button.setEnabled(bool(text))
