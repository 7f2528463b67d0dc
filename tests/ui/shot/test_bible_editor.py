"""The Characters and styles window: add, rename, describe, duplicate and delete entries, give
them pictures and LoRAs, each one undoable step, driven with clicks and keys; the shot
panel follows, and a style's LoRA enters the render request of its shots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from safetensors.numpy import save_file

import ui.shot.bible_entry
import ui.shot.lora_list
from engine.render.planning import plan_shot
from studio.commands import add_take, set_field
from studio.project.io import ProjectSession, copy_project, load_project
from studio.project.loras import Lora
from studio.project.model import Take
from studio.render_plan import bible_prompt
from tests.ui.shortcut_check import clashes
from tests.ui.timeline.menu_driver import right_click, walk_menu
from ui.app import StudioWindow
from ui.shot.bible_editor import BibleEditor

EXAMPLE = Path(__file__).resolve().parents[3] / "assets" / "examples" / "Lighthouse.gallop"
DIFFUSION_MODEL = "wan2.1-t2v-1.3b"  # planned from the catalog; no weights are needed


@pytest.fixture
def editor(qtbot, document):
    editor = BibleEditor(document)
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitExposed(editor)
    editor.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is editor)
    return editor


@pytest.fixture
def choose(monkeypatch):
    """What the file dialogs of "Add LoRA…" and "Add picture…" answer."""
    chosen: dict = {}
    monkeypatch.setattr(
        ui.shot.lora_list.QFileDialog,
        "getOpenFileName",
        lambda *args, **kwargs: (str(chosen["lora"]), ""),
    )
    monkeypatch.setattr(
        ui.shot.bible_entry.QFileDialog,
        "getOpenFileNames",
        lambda *args, **kwargs: ([str(p) for p in chosen["pictures"]], ""),
    )
    return chosen


def lora_file(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"lora_down.weight": np.zeros((4, 2), np.float32)}, str(path))
    return path


def picture(path, colour=(200, 40, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 36), colour).save(path)
    return path


def click(widget):
    QTest.mouseClick(widget, Qt.LeftButton)


def pick(editor, entry):
    """Click the entry's row in the list (in the window made active again, as after a
    message box)."""
    if QApplication.activeWindow() is not editor:
        editor.activateWindow()
        QTest.qWaitForWindowActive(editor)
    tree = editor.tree
    rect = tree.visualItemRect(editor.item_of(entry))
    QTest.mouseClick(tree.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    assert editor.current() is entry and tree.hasFocus()


def answer_question(button) -> list:
    """Answer the next message box with `button`; the list gets its title and text."""
    seen: list = []

    def poll() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(0, poll)
            return
        seen.append((box.windowTitle(), box.text()))
        box.button(button).click()

    QTimer.singleShot(0, poll)
    return seen


def names(editor, kind: str) -> list[str]:
    group = editor.groups[kind]
    return [group.child(row).text(0) for row in range(group.childCount())]


def test_add_and_name_a_character_and_a_style_then_undo_and_redo(qtbot, panel, editor, document):
    project, stack = document.project, document.undo_stack
    click(editor.add_character_button)
    mara = project.characters[-1]
    assert mara.name == "New character" and editor.current() is mara
    assert editor.form.name_edit.hasFocus()
    QTest.keyClicks(editor.form.name_edit, "Mara")  # over the selected name
    assert mara.name == "Mara" and names(editor, "character") == ["The Keeper", "Mara"]
    click(editor.add_style_button)
    dusk = project.styles[-1]
    QTest.keyClicks(editor.form.name_edit, "Harbour dusk")
    assert dusk.name == "Harbour dusk" and names(editor, "style") == ["Nordic noir", "Harbour dusk"]
    # Each add and each typed name is one step.
    assert stack.count() == 4
    assert stack.text(0) == "Add character New character"
    assert stack.text(1) == "Rename New character"

    # The shot panel offers them at once.
    listed = panel.characters_list
    assert [listed.item(r).text() for r in range(listed.count())] == ["The Keeper", "Mara"]
    assert panel.style_combo.findText("Harbour dusk") >= 0

    QTest.keyClick(editor.tree, Qt.Key_Z, Qt.ControlModifier)  # the window's undo, from here
    assert dusk.name == "New style" and names(editor, "style")[-1] == "New style"
    for _ in range(3):
        stack.undo()
    assert project.characters == [c for c in project.characters if c.id == "keeper"]
    assert names(editor, "character") == ["The Keeper"]
    assert names(editor, "style") == ["Nordic noir"]
    assert panel.characters_list.count() == 1 and panel.style_combo.findText("New style") < 0
    for _ in range(4):
        stack.redo()
    assert [c.name for c in project.characters] == ["The Keeper", "Mara"]
    assert [s.name for s in project.styles] == ["Nordic noir", "Harbour dusk"]
    assert panel.style_combo.findText("Harbour dusk") >= 0


def test_rename_in_the_list_with_f2_and_an_empty_name_is_refused(qtbot, editor, document):
    keeper = document.project.characters[0]
    pick(editor, keeper)
    QTest.keyClick(editor.tree, Qt.Key_F2)
    field = QApplication.focusWidget()
    assert field is not editor.tree and editor.tree.isAncestorOf(field)
    QTest.keyClicks(field, "Old Tom")  # the name is selected: typed over
    QTest.keyClick(field, Qt.Key_Return)
    qtbot.waitUntil(lambda: keeper.name == "Old Tom")  # the list commits on its next pass
    assert names(editor, "character") == ["Old Tom"]
    assert editor.form.name_edit.text() == "Old Tom"
    assert document.undo_stack.undoText() == "Rename The Keeper"

    # Emptied in the form, the name stays and says why; leaving the field shows it again.
    name = editor.form.name_edit
    QTest.mouseClick(name, Qt.LeftButton)
    QTest.keyClick(name, Qt.Key_A, Qt.ControlModifier)
    QTest.keyClick(name, Qt.Key_Delete)
    assert keeper.name == "Old Tom" and name.text() == ""
    assert "needs a name" in editor.form.name_message.text()
    assert document.undo_stack.count() == 1
    QTest.keyClick(name, Qt.Key_Tab)
    assert name.text() == "Old Tom" and editor.form.name_message.isHidden()

    document.undo_stack.undo()
    assert keeper.name == "The Keeper" and names(editor, "character") == ["The Keeper"]
    assert name.text() == "The Keeper"


def test_describe_one_step_per_typing_burst(qtbot, editor, document):
    keeper = document.project.characters[0]
    shot = next(s for s in document.project.shots if "keeper" in s.characters)
    pick(editor, keeper)
    edit = editor.form.description_edit
    QTest.mouseClick(edit.viewport(), Qt.LeftButton)
    QTest.keyClick(edit, Qt.Key_End, Qt.ControlModifier)
    before = keeper.description
    QTest.keyClicks(edit, ", scar on the chin")
    assert keeper.description == before + ", scar on the chin"
    assert document.undo_stack.count() == 1
    assert document.undo_stack.undoText() == "Edit description of The Keeper"
    editor.form.end_burst()  # what the idle timer does after a pause
    QTest.keyClicks(edit, ", limps")
    assert document.undo_stack.count() == 2
    # The description joins the prompt of the shots with the character.
    assert "scar on the chin, limps" in bible_prompt(document.project, shot)
    document.undo_stack.undo()
    assert keeper.description == before + ", scar on the chin"
    assert edit.toPlainText() == keeper.description
    document.undo_stack.undo()
    assert keeper.description == before and edit.toPlainText() == before


def test_add_and_remove_reference_pictures(qtbot, editor, document, choose, tmp_path):
    keeper = document.project.characters[0]
    pick(editor, keeper)
    form = editor.form
    choose["pictures"] = [picture(tmp_path / "out" / "face.png"), picture(tmp_path / "side.jpg")]
    click(form.add_reference_button)
    assert keeper.references == ["media/face.png", "media/side.jpg"]
    assert (document.folder / "media" / "face.png").is_file()
    assert form.reference_list.count() == 2
    assert not form.reference_list.item(0).icon().isNull()
    assert document.undo_stack.count() == 1
    assert document.undo_stack.undoText() == "Add 2 pictures on The Keeper"

    # Not a picture, or one it has already: refused, said, nothing changes.
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    choose["pictures"] = [notes, tmp_path / "side.jpg"]
    click(form.add_reference_button)
    assert keeper.references == ["media/face.png", "media/side.jpg"]
    assert document.undo_stack.count() == 1
    assert "notes.txt is not an image" in form.message_label.text()
    assert "side.jpg is already a picture of The Keeper" in form.message_label.text()
    assert not form.message_label.isHidden()

    rect = form.reference_list.visualItemRect(form.reference_list.item(0))
    QTest.mouseClick(form.reference_list.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    QTest.keyClick(form.reference_list, Qt.Key_Delete)
    assert keeper.references == ["media/side.jpg"] and form.reference_list.count() == 1
    click(form.remove_reference_button)
    assert keeper.references == [] and not form.remove_reference_button.isEnabled()
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert keeper.references == ["media/face.png", "media/side.jpg"]
    assert form.reference_list.count() == 2
    document.undo_stack.undo()
    assert keeper.references == [] and form.reference_list.count() == 0


def test_a_style_lora_added_rescaled_and_removed(qtbot, panel, editor, document, choose, tmp_path):
    shot = document.current_shot
    style = document.project.style(shot.style)
    pick(editor, style)
    loras = editor.form.loras
    choose["lora"] = lora_file(tmp_path / "out" / "grain.safetensors")
    click(loras.add_button)
    assert style.loras == (Lora("media/loras/grain.safetensors", 1.0),)
    assert (document.folder / "media" / "loras" / "grain.safetensors").is_file()
    assert loras.table.rowCount() == 1 and loras.table.item(0, 0).text() == "grain.safetensors"
    assert document.undo_stack.undoText() == "Add LoRA grain.safetensors on Nordic noir"
    # The shot panel lists it under the shot's own LoRAs.
    inherited = panel.lora_list.inherited_label
    assert "From style Nordic noir: grain.safetensors × 1" in inherited.text()

    spin = loras.scale_box(0)
    spin.setFocus()
    spin.selectAll()
    QTest.keyClicks(spin, "0.5")
    QTest.keyClick(spin, Qt.Key_Return)
    assert style.loras[0].scale == 0.5
    QTest.keyClick(spin, Qt.Key_Up)  # a step of 0.05, merged with the typed change
    assert style.loras[0].scale == pytest.approx(0.55)
    assert document.undo_stack.count() == 2
    assert "grain.safetensors × 0.55" in inherited.text()
    document.undo_stack.undo()
    assert style.loras[0].scale == 1.0 and loras.scale_box(0).value() == 1.0
    document.undo_stack.redo()
    assert loras.scale_box(0).value() == pytest.approx(0.55)

    loras.table.setFocus()
    loras.table.selectRow(0)
    QTest.keyClick(loras.table, Qt.Key_Delete)
    assert style.loras == () and loras.table.rowCount() == 0
    assert inherited.isHidden()
    document.undo_stack.undo()
    assert len(style.loras) == 1 and loras.table.rowCount() == 1


def test_a_lora_that_is_not_safetensors_is_refused(qtbot, editor, document, choose, tmp_path):
    keeper = document.project.characters[0]
    pick(editor, keeper)
    loras = editor.form.loras
    choose["lora"] = tmp_path / "grain.ckpt"
    choose["lora"].write_bytes(b"\x80\x02 a pickle" + bytes(32))
    click(loras.add_button)
    assert "grain.ckpt is not a LoRA this studio loads" in loras.message_label.text()
    disguised = tmp_path / "face.safetensors"
    disguised.write_bytes(b"\x80\x02 a pickle in disguise" + bytes(16))
    choose["lora"] = disguised
    click(loras.add_button)
    assert "face.safetensors is not a safetensors file" in loras.message_label.text()
    assert not loras.message_label.isHidden()
    assert keeper.loras == () and document.undo_stack.count() == 0
    assert loras.table.rowCount() == 0
    assert not (document.folder / "media" / "loras").exists()
    # Another entry starts with no message.
    pick(editor, document.project.styles[0])
    assert loras.message_label.isHidden()


def test_deleting_a_used_style_asks_and_undo_restores_the_shots(qtbot, panel, editor, document):
    project = document.project
    noir = project.styles[0]
    users = [shot.id for shot in project.shots if shot.style == noir.id]
    assert len(users) == 6
    assert panel.style_combo.currentText() == "Nordic noir"
    pick(editor, noir)

    seen = answer_question(QMessageBox.Cancel)
    QTest.keyClick(editor.tree, Qt.Key_Delete)
    assert seen[0][0] == "Delete style" and "6 shots use it" in seen[0][1]
    assert project.styles == [noir] and document.undo_stack.count() == 0

    seen = answer_question(QMessageBox.Yes)
    click(editor.delete_button)
    assert seen and project.styles == []
    assert all(shot.style is None for shot in project.shots)
    assert names(editor, "style") == [] and editor.current() is None
    assert panel.style_combo.count() == 1 and panel.style_combo.currentText() == "No style"
    assert document.undo_stack.undoText() == "Delete style Nordic noir"

    pick(editor, project.characters[0])
    QTest.keyClick(editor.tree, Qt.Key_Z, Qt.ControlModifier)
    assert project.styles == [noir]
    assert [shot.id for shot in project.shots if shot.style == noir.id] == users
    assert names(editor, "style") == ["Nordic noir"]
    assert panel.style_combo.currentText() == "Nordic noir"
    assert editor.item_of(noir).text(1) == "6"


def test_duplicate_and_delete_from_the_context_menu(qtbot, editor, document):
    project = document.project
    keeper = project.characters[0]
    tree = editor.tree
    report = walk_menu("Duplicate")
    right_click(tree.viewport(), tree.visualItemRect(editor.item_of(keeper)).center())
    qtbot.waitUntil(lambda: report["chosen"] == ["Duplicate"])
    assert report["entries"][0] == [
        "Add character", "Add style", "Rename", "Duplicate", "Delete"
    ]  # fmt: skip
    twin = project.characters[1]
    assert twin.name == "The Keeper copy" and twin.description == keeper.description
    assert editor.current() is twin and editor.item_of(twin).text(1) == "0"

    # Unused: deleted without a question.
    report = walk_menu("Delete")
    right_click(tree.viewport(), tree.visualItemRect(editor.item_of(twin)).center())
    qtbot.waitUntil(lambda: report["chosen"] == ["Delete"])
    assert project.characters == [keeper] and editor.current() is keeper
    document.undo_stack.undo()
    assert [c.name for c in project.characters] == ["The Keeper", "The Keeper copy"]
    pick(editor, keeper)
    QTest.keyClick(tree, Qt.Key_D, Qt.ControlModifier)  # Ctrl+D duplicates the selected
    assert [c.name for c in project.characters] == [
        "The Keeper", "The Keeper copy 2", "The Keeper copy"
    ]  # fmt: skip
    assert editor.current() is project.characters[1]


def test_a_lora_added_to_a_style_makes_its_rendered_shots_stale(
    qtbot, editor, document, choose, tmp_path
):
    project = document.project
    shot = document.current_shot
    document.push(set_field(shot, "model_id", DIFFUSION_MODEL))
    request = plan_shot(project, document.folder, shot).request
    take = Take(request.hash, request, "takes/storm.mp4", "2025-01-01T00:00:00Z")
    document.push(add_take(shot, take))
    assert document.shot_status(shot) == "rendered"

    pick(editor, project.style(shot.style))
    choose["lora"] = lora_file(tmp_path / "grain.safetensors")
    click(editor.form.loras.add_button)
    assert document.shot_status(shot) == "stale"
    assert "LoRAs changed" in document.stale_reasons(shot)
    changed = plan_shot(project, document.folder, shot).request
    assert changed.hash != request.hash and len(changed.loras) == 1

    document.undo_stack.undo()
    assert document.shot_status(shot) == "rendered"


def test_no_key_is_bound_twice_in_the_window(editor):
    assert clashes(editor) == []
    keys = {a.text(): [k.toString() for k in a.shortcuts()] for a in editor.tree.actions()}
    assert keys == {
        "Add": ["Ins"],
        "Rename": ["F2"],
        "Duplicate": ["Ctrl+D"],
        "Delete": ["Del", "Backspace"],
    }


@pytest.fixture
def window(qtbot, tmp_path):
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    window = StudioWindow(load_project(folder), ProjectSession(folder), settings=settings)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window._closing_confirmed = True
    window.close()


def test_the_edit_menu_and_the_shot_panel_open_it(qtbot, window):
    project, document = window.project, window.document
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert window.act_bible in edit_menu.actions()
    assert window.act_bible.shortcut().toString() == "Ctrl+Shift+B"
    assert window.bible_editor is None  # made when first asked for
    window.act_bible.trigger()
    editor = window.bible_editor
    qtbot.waitExposed(editor)
    assert editor.current() is project.style(document.current_shot.style)
    editor.close()

    # From the shot panel, on a shot with a character and no style: the character.
    shot = next(s for s in project.shots if s.characters)
    document.push(set_field(shot, "style", None))
    document.set_current_shot(shot.id)
    click(window.prompt_panel.bible_button)
    qtbot.waitUntil(editor.isVisible)
    assert editor.current() is project.character(shot.characters[0])

    sections = dict(window.shortcut_sections())
    assert ("Ctrl+Shift+B", "Characters and styles") in sections["Edit"]
    rows = dict(sections["Characters and styles"])
    assert rows["F2"] == "Rename the selected entry"
    assert rows["Ctrl+D"] == "Duplicate the selected entry"
    assert rows["Ins"].startswith("Add a character or a style")
    assert "Delete the selected entry" in rows["Del, Backspace"].split(" / ")
    assert "Remove LoRA" in rows["Del, Backspace"].split(" / ")
    keys = {text: keys for keys, text in rows.items()}
    assert "Ctrl+Z" in keys["Undo"].split(", ") and "Ctrl+Shift+Z" in keys["Redo"].split(", ")


# Qt 6 marks the QPoint constructor of QDragEnterEvent deprecated but offers no other.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_pictures_dropped_on_the_list_are_added_in_one_step(qtbot, editor, document, tmp_path):
    noir = document.project.styles[0]
    pick(editor, noir)
    files = [picture(tmp_path / "sea.png"), picture(tmp_path / "sky.webp", (20, 40, 90))]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in files])
    target = editor.form.reference_list.viewport()
    enter = QDragEnterEvent(QPoint(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(target, drop)
    assert drop.isAccepted()
    assert noir.references == ["media/sea.png", "media/sky.webp"]
    assert editor.form.reference_list.count() == 2 and document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert noir.references == [] and editor.form.reference_list.count() == 0
