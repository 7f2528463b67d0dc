"""The prompt panel edits the current shot through the undo stack and follows the document."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QTextCursor
from PySide6.QtWidgets import QApplication

import ui.shot.prompt_panel
from studio.jobs import CameraMode, Profile
from ui.bridge import EngineBridge
from ui.shot.prompt_panel import FPS_CHOICES, PromptPanel


@pytest.fixture
def image_file(tmp_path):
    path = tmp_path / "outside" / "castle.png"
    path.parent.mkdir()
    image = np.zeros((48, 64, 3), np.uint8)
    image[:, :32] = (200, 40, 40)
    assert cv2.imwrite(str(path), image)
    return path


def undo(document):
    document.undo_stack.undo()


def test_shows_the_current_shot(panel, document):
    shot = document.current_shot
    assert panel.title_edit.text() == shot.title
    assert panel.prompt_edit.toPlainText() == shot.prompt
    assert panel.negative_edit.toPlainText() == shot.negative_prompt
    assert panel.style_combo.currentData() == shot.style == "nordic-noir"
    assert panel.seed_spin.value() == shot.seed
    assert panel.fps_combo.currentText() == "24"
    assert panel.fps_combo.itemText(panel.fps_combo.findData("24000/1001")) == "23.976"
    assert panel.model_combo.currentData() == "previz"
    assert document.undo_stack.count() == 0
    document.set_current_shot("tower")
    document.set_current_shot("storm")
    assert panel.fps_combo.count() == len(FPS_CHOICES)  # refreshes add no duplicate rates


def test_typing_a_prompt_is_one_undo_step(qtbot, panel, document):
    shot = document.current_shot
    before = shot.prompt
    panel.prompt_edit.setFocus()
    panel.prompt_edit.moveCursor(QTextCursor.End)
    qtbot.keyClicks(panel.prompt_edit, " a b c")
    assert shot.prompt == before + " a b c"
    assert document.undo_stack.count() == 1
    # The refresh after each key left the cursor where the typing goes on.
    assert panel.prompt_edit.textCursor().position() == len(shot.prompt)
    undo(document)
    assert shot.prompt == before
    assert panel.prompt_edit.toPlainText() == before


def test_a_pause_or_an_undo_ends_a_typing_burst(qtbot, panel, document):
    shot = document.current_shot
    panel.negative_edit.moveCursor(QTextCursor.End)
    qtbot.keyClicks(panel.negative_edit, "x")
    panel.end_burst()  # what the idle timer does after a pause
    qtbot.keyClicks(panel.negative_edit, "y")
    assert document.undo_stack.count() == 2
    undo(document)
    qtbot.keyClicks(panel.negative_edit, "z")
    assert document.undo_stack.count() == 2  # a new step, not merged into the "x" one
    undo(document)
    assert shot.negative_prompt.endswith("x")


def test_title_typing_merges_and_undoes(qtbot, panel, document):
    shot = document.current_shot
    panel.title_edit.clear()
    qtbot.keyClicks(panel.title_edit, "Tempest")
    assert shot.title == "Tempest"
    assert document.undo_stack.count() == 1
    undo(document)
    assert shot.title == "Storm at sea"
    assert panel.title_edit.text() == "Storm at sea"


def pick(data):
    return lambda combo: combo.setCurrentIndex(combo.findData(data))


@pytest.mark.parametrize(
    ("widget", "act", "field", "expected"),
    [
        ("duration_spin", lambda w: w.setValue(2.5), "duration", 2.5),
        ("seed_spin", lambda w: w.setValue(42), "seed", 42),
        ("fps_combo", pick("24000/1001"), "fps", Fraction(24000, 1001)),
        ("width_spin", lambda w: w.setValue(1004), "width", 1008),  # snapped to 16
        ("height_spin", lambda w: w.setValue(544), "height", 544),
        ("profile_combo", pick("fast"), "profile", Profile.FAST),
        ("camera_combo", pick("guided"), "camera_mode", CameraMode.GUIDED),
        ("style_combo", lambda w: w.setCurrentIndex(0), "style", None),
        ("lock_button", lambda w: w.setChecked(False), "seed_locked", False),
        ("continue_check", lambda w: w.setChecked(True), "continue_from_previous", True),
        ("model_combo", pick("wan2.1-t2v-1.3b"), "model_id", "wan2.1-t2v-1.3b"),
    ],
)
def test_each_widget_edits_its_field_in_one_undo_step(
    panel, document, widget, act, field, expected
):
    shot = document.current_shot
    old = getattr(shot, field)
    act(getattr(panel, widget))
    assert getattr(shot, field) == expected
    assert document.undo_stack.count() == 1
    undo(document)
    assert getattr(shot, field) == old


def test_size_preset_sets_both_sides_in_one_step(panel, document):
    shot = document.current_shot
    panel.preset_combo.setCurrentIndex(panel.preset_combo.findData("720x1280"))
    assert (shot.width, shot.height) == (720, 1280)
    assert document.undo_stack.count() == 1
    undo(document)
    assert (shot.width, shot.height) == (832, 480)
    assert panel.preset_combo.currentData() == "832x480"


def test_characters_are_checked_from_the_bible(panel, document):
    shot = document.current_shot
    item = panel.characters_list.item(0)
    assert item.text() == "The Keeper" and "lighthouse keeper" in item.toolTip()
    assert item.checkState() == Qt.Unchecked
    item.setCheckState(Qt.Checked)
    assert shot.characters == ["keeper"]
    undo(document)
    assert shot.characters == []
    assert panel.characters_list.item(0).checkState() == Qt.Unchecked


def test_match_colour_follows_continuity(panel, document):
    shot = document.current_shot
    assert not panel.match_check.isEnabled()
    panel.continue_check.setChecked(True)
    assert panel.match_check.isEnabled()
    panel.match_check.setChecked(False)
    assert shot.match_colour is False
    assert document.undo_stack.count() == 2


def test_switching_shots_shows_the_other_shot_and_pushes_nothing(panel, document):
    document.set_current_shot("keeper")
    shot = document.project.shot("keeper")
    assert panel.title_edit.text() == "The keeper"
    assert panel.prompt_edit.toPlainText() == shot.prompt
    assert panel.duration_spin.value() == 4.0
    assert panel.characters_list.item(0).checkState() == Qt.Checked
    document.set_current_shot("dawn")
    assert panel.continue_check.isChecked()
    assert document.undo_stack.count() == 0


def test_randomise_gives_a_new_seed_and_is_off_when_locked(panel, document):
    shot = document.current_shot
    assert shot.seed_locked and not panel.randomise_button.isEnabled()
    panel.lock_button.setChecked(False)
    assert panel.randomise_button.isEnabled()
    panel.randomise_button.click()
    assert shot.seed != 1000 and 0 <= shot.seed < 2**31
    assert panel.seed_spin.value() == shot.seed
    assert document.undo_stack.count() == 2
    undo(document)
    assert shot.seed == 1000
    panel.lock_button.setChecked(True)
    assert not panel.randomise_button.isEnabled()


def test_a_dropped_image_is_copied_into_media(panel, document, image_file):
    shot = document.current_shot
    assert panel.set_keyframe_file(str(image_file))
    assert shot.keyframe == "media/castle.png"
    assert (document.folder / "media" / "castle.png").read_bytes() == image_file.read_bytes()
    assert not panel.keyframe_drop.pixmap().isNull()
    assert document.undo_stack.count() == 1
    other = image_file.with_name("other.png")
    other.write_bytes(image_file.read_bytes())
    cv2.imwrite(str(image_file), np.full((16, 16, 3), 90, np.uint8))
    assert panel.set_keyframe_file(str(image_file))  # same name, new pixels: a new file
    assert shot.keyframe == "media/castle-2.png"
    undo(document)
    assert shot.keyframe == "media/castle.png"
    undo(document)
    assert shot.keyframe is None


# Qt 6 marks the QPoint constructor of QDragEnterEvent deprecated but offers no other.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_real_drop_event_sets_the_keyframe(panel, document, image_file):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(image_file))])
    drop = panel.keyframe_drop
    event = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    enter = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(drop, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(drop, event)
    assert event.isAccepted()
    assert document.current_shot.keyframe == "media/castle.png"
    assert "castle.png" in panel.keyframe_drop.toolTip()
    panel.clear_button.click()
    assert document.current_shot.keyframe is None
    undo(document)
    assert document.current_shot.keyframe == "media/castle.png"


def test_an_image_inside_the_project_is_not_copied(panel, document, image_file):
    inside = document.folder / "media" / "frame.png"
    inside.write_bytes(image_file.read_bytes())
    assert panel.set_keyframe_file(str(inside))
    assert document.current_shot.keyframe == "media/frame.png"
    assert sorted(p.name for p in inside.parent.glob("frame*")) == ["frame.png"]


@pytest.mark.parametrize("name", ["notes.txt", "broken.png"])
def test_a_bad_file_says_why_and_changes_nothing(panel, document, tmp_path, name):
    bad = tmp_path / name
    bad.write_text("not pixels")
    assert not panel.set_keyframe_file(str(bad))
    assert panel.image_message.isVisible()
    assert name in panel.image_message.text()
    assert document.current_shot.keyframe is None
    assert document.undo_stack.count() == 0
    assert not (document.folder / "media" / name).exists()


def test_model_availability_arrives_from_the_background(panel):
    combo = panel.model_combo
    assert panel.availability["previz"].available
    ids = [combo.itemData(i) for i in range(combo.count())]
    assert "tiny-wan" not in ids  # test models are hidden by default
    row = combo.findData("wan2.1-t2v-1.3b")
    found = panel.availability["wan2.1-t2v-1.3b"]
    if found.available:  # a machine that has downloaded it
        assert combo.itemText(row) == "Wan 2.1 T2V 1.3B"
        assert combo.itemData(row, Qt.ForegroundRole) is None
    else:
        assert combo.itemText(row) == f"Wan 2.1 T2V 1.3B — {found.reason}"
        # In the window the way to get it is the Models… button beside the list.
        assert combo.itemData(row, Qt.ToolTipRole) == "not downloaded: get it from Models…"
        assert combo.itemData(row, Qt.ForegroundRole) is not None


def test_an_unavailable_model_stays_selectable_with_a_warning(panel, document):
    panel.availability["wan2.1-t2v-1.3b"] = type(panel.availability["previz"])(
        False, "not downloaded: run `gallop models download wan2.1-t2v-1.3b`"
    )
    panel.model_combo.setCurrentIndex(panel.model_combo.findData("wan2.1-t2v-1.3b"))
    assert document.current_shot.model_id == "wan2.1-t2v-1.3b"
    assert panel.model_warning.isVisible()
    assert "gallop models download" in panel.model_warning.text()


def test_bundled_tiny_models_show_as_available(qtbot, document, monkeypatch):
    monkeypatch.setenv("GALLOP_SHOW_TEST_MODELS", "1")
    panel = PromptPanel(document)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.modelsChecked, timeout=30_000):
        pass
    combo = panel.model_combo
    row = combo.findData("tiny-wan")
    assert row >= 0
    assert panel.availability["tiny-wan"].available
    assert combo.itemText(row) == "Tiny Wan (test model)"
    assert combo.itemData(row, Qt.ForegroundRole) is None


def test_the_model_list_gives_the_published_gpu_memory_or_says_there_is_none(qtbot, document):
    panel = PromptPanel(document)
    qtbot.addWidget(panel)
    combo = panel.model_combo
    # Before the check on disk lands each model shows what the catalog knows of it.
    tip = combo.itemData(combo.findData("wan2.1-flf2v-14b-720p"), Qt.ToolTipRole)
    assert tip.startswith("wan, GPU memory not published, Apache-2.0")
    tip = combo.itemData(combo.findData("wan2.2-i2v-a14b"), Qt.ToolTipRole)
    assert tip.startswith("wan, about 80 GB VRAM, Apache-2.0")
    assert combo.itemData(combo.findData("previz"), Qt.ToolTipRole).startswith(
        "previz, no GPU needed"
    )
    qtbot.waitUntil(lambda: bool(panel.availability), timeout=30_000)


def test_the_shots_own_test_model_is_listed(qtbot, document):
    document.current_shot.model_id = "tiny-ltx"
    panel = PromptPanel(document)
    qtbot.addWidget(panel)
    assert panel.model_combo.currentData() == "tiny-ltx"
    assert panel.model_combo.findData("tiny-wan") < 0
    qtbot.waitUntil(lambda: bool(panel.availability), timeout=30_000)


def test_estimate_shows_snapped_frames_and_plan_errors(qtbot, panel, document):
    qtbot.waitUntil(lambda: "120 frames" in panel.estimate_label.text())
    panel.model_combo.setCurrentIndex(panel.model_combo.findData("wan2.1-t2v-1.3b"))
    qtbot.waitUntil(lambda: "4n+1" in panel.estimate_label.text())
    # The published Wan 2.1 1.3B figure (RTX 4090), scaled to this shot, with its source.
    assert "GB on an RTX 4090" in panel.estimate_label.text()
    assert panel.estimate.vram_gb > 0 and panel.estimate.seconds > 0
    assert "github.com/Wan-Video" in panel.estimate_label.toolTip()
    document.set_current_shot("dawn")  # continues from "ship", which has no take
    qtbot.waitUntil(lambda: "no take" in panel.estimate_label.text())


def test_render_button_emits_the_variations(qtbot, panel):
    with qtbot.waitSignal(panel.renderRequested) as blocker:
        panel.render_button.click()
    assert blocker.args == [1]
    panel.variations_spin.setValue(3)
    assert "3" in panel.render_button.text()
    with qtbot.waitSignal(panel.renderRequested) as blocker:
        panel.render_button.click()
    assert blocker.args == [3]


def test_no_current_shot_disables_the_panel(panel, document):
    document.set_current_shot("")
    assert not panel.body.isEnabled()
    assert not panel.render_button.isEnabled()
    assert panel.empty_label.isVisible()
    assert panel.prompt_edit.toPlainText() == ""


def test_the_plan_is_not_recomputed_per_keystroke(qtbot, panel, document, monkeypatch):
    qtbot.waitUntil(lambda: "120 frames" in panel.estimate_label.text())
    calls = []
    real = ui.shot.prompt_panel.plan_shot

    def counting(*args, **kwargs):
        calls.append(args[2].prompt)
        return real(*args, **kwargs)

    monkeypatch.setattr(ui.shot.prompt_panel, "plan_shot", counting)
    qtbot.keyClicks(panel.prompt_edit, "rain and more rain")
    panel.duration_spin.setValue(2.0)
    qtbot.waitUntil(lambda: "48 frames" in panel.estimate_label.text())
    assert len(calls) == 1


def test_the_render_state_of_the_shot_is_shown(qtbot, document):
    bridge = EngineBridge(document)
    try:
        panel = PromptPanel(document, bridge)
        qtbot.addWidget(panel)
        shot = document.current_shot
        shot.duration = 0.5
        qtbot.waitUntil(lambda: panel.job_label.text() == "Not rendered")
        with qtbot.waitSignal(bridge.jobFinished, timeout=60_000):
            bridge.render_shot(shot.id, backend="previz")
        qtbot.waitUntil(lambda: panel.job_label.text() == "Rendered")
        qtbot.keyClicks(panel.prompt_edit, "!")
        qtbot.waitUntil(lambda: panel.job_label.text() == "Stale")
    finally:
        bridge.shutdown()
