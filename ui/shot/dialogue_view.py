"""The prompt panel's dialogue: the lines heard over the current shot, as the screenplay
wrote them, and whether the shot is long enough to say them. Shown only for a shot that has
dialogue (an imported screenplay gives it); the text can be selected and copied."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from studio.project.model import Dialogue, Shot
from studio.script.plan import speech_seconds


def dialogue_text(lines: tuple[Dialogue, ...]) -> str:
    """One line each: "Owen (O.S.): Wait!", "Mara: (breathless) There."."""
    out = []
    for d in lines:
        who = f"{d.speaker} ({d.extension})" if d.extension else d.speaker
        how = f"({d.parenthetical}) " if d.parenthetical else ""
        out.append(f"{who}: {how}{d.line}")
    return "\n".join(out)


class DialogueView(QGroupBox):
    """`warning` is the colour of the note that the lines outlast the shot."""

    def __init__(self, warning: str, parent: QWidget | None = None) -> None:
        super().__init__("Dialogue", parent)
        self.warning = warning
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setToolTip("The lines heard over this shot, from the screenplay")
        self.text.setMinimumHeight(48)
        self.text.setMaximumHeight(120)
        self.timing = QLabel(wordWrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.text)
        layout.addWidget(self.timing)
        self.setVisible(False)

    def show_shot(self, shot: Shot | None) -> None:
        lines = shot.dialogue if shot is not None else ()
        self.setVisible(bool(lines))
        text = dialogue_text(lines)
        if self.text.toPlainText() != text:
            self.text.setPlainText(text)
        if not lines:
            self.timing.clear()
            return
        seconds = speech_seconds(lines)
        short = seconds > shot.duration + 0.05
        if short:
            message = (
                f"The lines take about {seconds:.1f} s: longer than the shot "
                f"({shot.duration:g} s), so they would be cut off"
            )
        else:
            message = f"About {seconds:.1f} s of lines in a {shot.duration:g} s shot"
        self.timing.setText(message)
        self.timing.setStyleSheet(f"color: {self.warning};" if short else "")
