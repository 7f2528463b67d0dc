"""The shot panel's LoRA list: add from a file (copied into media/loras/), change the scale,
remove, each one undoable step, and refuse what is not a safetensors file."""

from __future__ import annotations

import json
import struct

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

import ui.shot.lora_list
from studio.commands import set_field
from studio.project.loras import Lora


def safetensors_file(path):
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(4))
    return path


@pytest.fixture
def choose(monkeypatch):
    """What the file dialog of "Add LoRA…" answers."""
    chosen = {}

    def answer(*args, **kwargs):
        return str(chosen["path"]), ""

    monkeypatch.setattr(ui.shot.lora_list.QFileDialog, "getOpenFileName", answer)
    return chosen


def click(widget):
    QTest.mouseClick(widget, Qt.LeftButton)


def test_add_a_lora_from_a_file_then_undo_and_redo(panel, document, choose, tmp_path):
    loras = panel.lora_list
    shot = document.current_shot
    choose["path"] = safetensors_file(tmp_path / "outside" / "grain.safetensors")
    click(loras.add_button)
    assert shot.loras == (Lora("media/loras/grain.safetensors", 1.0),)
    assert (document.folder / "media" / "loras" / "grain.safetensors").is_file()
    assert loras.table.rowCount() == 1
    assert loras.table.item(0, 0).text() == "grain.safetensors"
    assert loras.scale_box(0).value() == 1.0
    assert document.undo_stack.count() == 1
    assert "Add LoRA grain.safetensors" in document.undo_stack.undoText()
    document.undo_stack.undo()
    assert shot.loras == () and loras.table.rowCount() == 0
    document.undo_stack.redo()
    assert shot.loras == (Lora("media/loras/grain.safetensors"),)
    assert loras.table.rowCount() == 1
    # The same file again is refused and said so.
    click(loras.add_button)
    assert len(shot.loras) == 1 and document.undo_stack.count() == 1
    assert "already" in loras.message_label.text()


def test_the_scale_box_sets_the_scale_in_one_undo_step(panel, document, choose, tmp_path):
    loras = panel.lora_list
    shot = document.current_shot
    choose["path"] = safetensors_file(tmp_path / "grain.safetensors")
    click(loras.add_button)
    spin = loras.scale_box(0)
    spin.setFocus()
    spin.selectAll()
    QTest.keyClicks(spin, "0.5")
    QTest.keyClick(spin, Qt.Key_Return)
    assert shot.loras[0].scale == 0.5
    QTest.keyClick(spin, Qt.Key_Up)  # one step of 0.05 up, merged with the typed change
    assert shot.loras[0].scale == pytest.approx(0.55)
    assert document.undo_stack.count() == 2
    assert loras.scale_box(0) is spin  # the row kept its box while the scale changed
    document.undo_stack.undo()
    assert shot.loras[0].scale == 1.0 and loras.scale_box(0).value() == 1.0


def test_remove_by_button_and_by_the_delete_key(panel, document, choose, tmp_path):
    loras = panel.lora_list
    shot = document.current_shot
    for name in ("a", "b"):
        choose["path"] = safetensors_file(tmp_path / f"{name}.safetensors")
        click(loras.add_button)
    assert [lora.name for lora in shot.loras] == ["a.safetensors", "b.safetensors"]
    rect = loras.table.visualItemRect(loras.table.item(0, 0))
    QTest.mouseClick(loras.table.viewport(), Qt.LeftButton, pos=rect.center())
    click(loras.remove_button)
    assert [lora.name for lora in shot.loras] == ["b.safetensors"]
    assert loras.table.rowCount() == 1
    loras.table.setFocus()
    loras.table.selectRow(0)
    QTest.keyClick(loras.table, Qt.Key_Delete)
    assert shot.loras == () and not loras.remove_button.isEnabled()
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert [lora.name for lora in shot.loras] == ["a.safetensors", "b.safetensors"]
    assert loras.table.rowCount() == 2


def test_a_file_that_is_not_safetensors_is_refused(panel, document, choose, tmp_path):
    loras = panel.lora_list
    shot = document.current_shot
    fake = tmp_path / "style.safetensors"
    fake.write_bytes(b"\x80\x02 a pickle in disguise" + bytes(16))
    choose["path"] = fake
    click(loras.add_button)
    assert shot.loras == () and document.undo_stack.count() == 0
    assert "not a safetensors file" in loras.message_label.text()
    assert not loras.message_label.isHidden()
    assert not (document.folder / "media" / "loras").exists()
    choose["path"] = safetensors_file(tmp_path / "ok.safetensors")
    click(loras.add_button)
    assert loras.message_label.isHidden() and len(shot.loras) == 1


def test_the_bible_loras_of_the_shot_are_listed(panel, document):
    shot = document.current_shot
    style = document.project.style(shot.style)
    assert panel.lora_list.inherited_label.isHidden()
    document.push(set_field(style, "loras", (Lora("models:noir.safetensors", 0.8),)))
    label = panel.lora_list.inherited_label
    assert not label.isHidden()
    assert f"From style {style.name}: noir.safetensors × 0.8" in label.text()
    document.undo_stack.undo()
    assert label.isHidden()
