"""The shot panel shows what the model reads: the prompt, the bible and the camera move in the
words of the chosen model's prompt guide, following the prompt, the camera and the model."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QTextCursor

from engine.models.catalog import Catalog
from engine.render.inputs import model_rules
from studio.camera.rig import describe, preset
from studio.commands import set_field
from studio.render_plan import bible_prompt, model_prompt
from ui.camera.camera_panel import CameraPanel
from ui.shot.model_text import TITLE, ModelText


def expected(document) -> str:
    shot = document.current_shot
    return model_prompt(document.project, shot, model_rules(Catalog().get(shot.model_id)))


def choose_model_with_keys(qtbot, combo, model_id: str) -> None:
    """Arrow keys on the focused combo, one item at a time, as a user picks a model."""
    target = combo.findData(model_id)
    assert target >= 0
    combo.setFocus()
    key = Qt.Key_Down if target > combo.currentIndex() else Qt.Key_Up
    while combo.currentIndex() != target:
        qtbot.keyClick(combo, key)


def test_the_panel_shows_what_the_previz_reads(panel, document):
    box = panel.model_text
    shot = document.current_shot
    assert shot.model_id == "previz" and box.toggle.text() == TITLE
    assert box.text == bible_prompt(document.project, shot) == expected(document)
    assert "reads no camera words" in box.note_label.text()
    assert box.text_view.isReadOnly()


def test_choosing_another_model_with_keys_says_the_camera_in_its_words(qtbot, panel, document):
    shot = document.current_shot
    box = panel.model_text
    choose_model_with_keys(qtbot, panel.model_combo, "wan2.1-t2v-1.3b")
    assert shot.model_id == "wan2.1-t2v-1.3b"
    wan = box.text
    assert wan == expected(document) != bible_prompt(document.project, shot)
    assert wan.endswith(", " + describe(shot.camera, shot.duration, "wan"))
    assert "Wan" in box.note_label.text() and "https://" in box.note_label.toolTip()

    choose_model_with_keys(qtbot, panel.model_combo, "ltx-video")
    assert shot.model_id == "ltx-video"
    assert box.text == expected(document) != wan
    assert box.text.endswith(". " + describe(shot.camera, shot.duration, "ltx"))
    assert box.text.split(". The camera")[0] == wan.rsplit(", ", 1)[0]

    document.undo_stack.undo()  # back to Wan: the text follows the undo
    assert box.text == wan


def test_moving_a_camera_slider_changes_the_words(qtbot, panel, document):
    document.push(set_field(document.current_shot, "model_id", "hunyuanvideo"))
    camera = CameraPanel(document)
    qtbot.addWidget(camera)
    camera.show()
    qtbot.waitUntil(lambda: not camera.source_pending)
    box = panel.model_text
    before = box.text
    assert before == expected(document)
    slider = camera.rows["pan"].slider
    slider.setFocus()
    for _ in range(30):  # a 30° pan to the right, one degree a key
        qtbot.keyClick(slider, Qt.Key_Right)
    assert document.current_shot.camera.pan[-1].value == pytest.approx(30.0)
    assert box.text == expected(document) != before
    assert "pans to the right" in box.text


def test_typing_in_the_prompt_shows_at_once(qtbot, panel, document):
    panel.prompt_edit.setFocus()
    panel.prompt_edit.moveCursor(QTextCursor.End)
    qtbot.keyClicks(panel.prompt_edit, " at dusk")
    assert " at dusk" in panel.model_text.text
    assert panel.model_text.text == expected(document)


def test_the_box_opens_from_its_header_and_copies_its_text(qtbot, document):
    box = ModelText(document)
    qtbot.addWidget(box)
    box.show()
    assert not box.is_open() and not box.body.isVisible()
    qtbot.mouseClick(box.toggle, Qt.LeftButton)
    assert box.is_open() and box.body.isVisible()
    assert box.toggle.arrowType() == Qt.DownArrow
    box.toggle.setFocus()
    qtbot.keyClick(box.toggle, Qt.Key_Space)
    assert not box.is_open() and not box.body.isVisible()
    box.set_open(True)
    qtbot.mouseClick(box.copy_button, Qt.LeftButton)
    assert QGuiApplication.clipboard().text() == box.text != ""


def test_a_still_camera_an_unknown_model_and_no_shot(qtbot, document):
    box = ModelText(document)
    qtbot.addWidget(box)
    shot = document.current_shot
    document.push(set_field(shot, "model_id", "cogvideox-5b"))
    document.push(set_field(shot, "camera", preset("static")))
    assert box.text == bible_prompt(document.project, shot)
    assert "does not move" in box.note_label.text()
    document.push(set_field(shot, "model_id", "no-such-model"))
    assert box.text == bible_prompt(document.project, shot)
    assert "not in the model catalog" in box.note_label.text()
    document.set_current_shot("")
    assert box.text == "" and not box.isEnabled()
