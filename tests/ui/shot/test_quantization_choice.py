"""The shot panel offers the draft profile and a quantization choice: each choice is one
undoable edit of the shot, and an undo shows the shot's own choice again."""

from __future__ import annotations

from PySide6.QtCore import Qt

from studio.jobs import Profile, Quantization


def choose(qtbot, combo, text: str) -> None:
    """Pick an entry the way a keyboard user does: focus the box and type its name."""
    combo.setFocus()
    start = combo.currentIndex()
    target = combo.findText(text)
    key = Qt.Key_Down if target > start else Qt.Key_Up
    for _ in range(abs(target - start)):
        qtbot.keyClick(combo, key)
    assert combo.currentText() == text


def test_the_shot_chooses_its_quantization_and_the_draft_profile(qtbot, panel, document):  # noqa: F811
    shot = document.current_shot
    combo = panel.quantization_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "Full precision",
        "int8",
        "NF4 4-bit",
        "GGUF",
    ]
    choose(qtbot, combo, "int8")
    assert shot.quantization == Quantization.INT8
    choose(qtbot, panel.profile_combo, "Draft")
    assert shot.profile == Profile.DRAFT
    while document.undo_stack.canUndo():  # each step of the keyboard is one edit
        document.undo_stack.undo()
    assert (shot.quantization, shot.profile) == (Quantization.NONE, Profile.QUALITY)
    assert combo.currentText() == "Full precision"
    assert panel.profile_combo.currentText() == "Quality"
