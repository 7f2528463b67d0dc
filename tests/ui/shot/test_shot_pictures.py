"""The shot panel's end picture and keyframes inside the shot: set by a drop or the file
dialog, cleared, ended on the next shot's picture, keyframes added at the camera previz's
moment and removed with Delete, each one undoable step; the camera previz dissolves
through them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

import ui.shot.shot_pictures
from studio.project.keyframes import ShotKeyframe
from ui.camera.camera_panel import CameraPanel


@pytest.fixture
def image_file(tmp_path):
    path = tmp_path / "outside" / "dusk.png"
    path.parent.mkdir()
    cv2.imwrite(str(path), np.full((18, 32, 3), (40, 90, 200), np.uint8))
    return path


@pytest.fixture
def choose(monkeypatch):
    """What the file dialog answers."""
    chosen = {}

    def answer(*args, **kwargs):
        return str(chosen["path"]), ""

    monkeypatch.setattr(ui.shot.shot_pictures.QFileDialog, "getOpenFileName", answer)
    return chosen


def undo(document) -> None:
    document.undo_stack.undo()


# Qt 6 marks the QPoint constructor of QDragEnterEvent deprecated but offers no other.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def drop_on(widget, path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, event)
    assert event.isAccepted()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_end_picture_is_dropped_cleared_and_undone(panel, document, image_file):
    pictures, shot = panel.pictures, document.current_shot
    assert shot.end_keyframe is None and not pictures.end_clear.isEnabled()
    drop_on(pictures.end_drop, image_file)
    assert shot.end_keyframe == "media/dusk.png"
    assert (document.folder / "media" / "dusk.png").is_file()
    assert not pictures.end_drop.pixmap().isNull() and pictures.end_clear.isEnabled()
    assert document.undo_stack.undoText().startswith("Set end picture")
    QTest.mouseClick(pictures.end_clear, Qt.LeftButton)
    assert shot.end_keyframe is None and pictures.end_drop.pixmap().isNull()
    assert "Drop the end picture" in pictures.end_drop.text()
    undo(document)
    assert shot.end_keyframe == "media/dusk.png" and not pictures.end_drop.pixmap().isNull()
    undo(document)
    assert shot.end_keyframe is None and document.undo_stack.count() == 2


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_an_image_dropped_on_the_keyframe_list_is_added_as_one_step(panel, document, image_file):
    pictures, shot = panel.pictures, document.current_shot
    before = len(shot.keyframes)
    drop_on(pictures.keyframe_list.viewport(), image_file)
    assert len(shot.keyframes) == before + 1 and pictures.keyframe_list.count() == before + 1
    undo(document)
    assert len(shot.keyframes) == before and pictures.keyframe_list.count() == before


def test_the_end_picture_comes_from_the_file_dialog(panel, document, image_file, choose):
    choose["path"] = image_file
    QTest.mouseClick(panel.pictures.end_browse, Qt.LeftButton)
    assert document.current_shot.end_keyframe == "media/dusk.png"
    # The plan says which end the shot's model shows (the example's previz shows it).
    assert "end keyframe" not in panel.estimate_label.text()


def test_a_bad_file_says_why_and_changes_nothing(panel, document, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not pixels")
    assert not panel.pictures.set_end_file(bad)
    assert panel.pictures.message.isVisible() and "notes.txt" in panel.pictures.message.text()
    assert document.current_shot.end_keyframe is None and document.undo_stack.count() == 0


def test_ending_on_the_next_shot_greys_the_own_end(panel, document, image_file):
    pictures, shot = panel.pictures, document.current_shot
    pictures.set_end_file(image_file)
    QTest.mouseClick(pictures.next_check, Qt.LeftButton)
    assert shot.end_on_next and shot.end_keyframe == "media/dusk.png"  # kept for later
    assert not pictures.end_drop.isEnabled() and not pictures.end_clear.isEnabled()
    assert "next shot" in pictures.end_drop.text()
    undo(document)
    assert not shot.end_on_next and pictures.end_drop.isEnabled()
    assert not pictures.end_drop.pixmap().isNull()


def test_keyframes_go_at_the_previz_moment_and_leave_with_delete(
    panel, document, image_file, choose
):
    pictures, shot = panel.pictures, document.current_shot
    document.previzTimeChanged.emit(0.5)  # the camera previz holds halfway
    assert pictures.time_spin.value() == round(shot.duration / 2, 2)
    choose["path"] = image_file
    QTest.mouseClick(pictures.add_button, Qt.LeftButton)
    half = round(shot.duration / 2, 2)
    assert shot.keyframes == (ShotKeyframe(half, "media/dusk.png"),)
    assert pictures.keyframe_list.count() == 1
    assert pictures.keyframe_list.item(0).text().startswith(f"{half:g} s — dusk.png")
    assert document.undo_stack.undoText().startswith(f"Keyframe at {half:g} s")
    pictures.set_playhead(1.0)
    assert pictures.add_keyframe_file(image_file)
    assert [k.time for k in shot.keyframes] == [1.0, half]
    pictures.keyframe_list.setFocus()
    pictures.keyframe_list.setCurrentRow(0)
    QTest.keyClick(pictures.keyframe_list, Qt.Key_Delete)
    assert [k.time for k in shot.keyframes] == [half]
    undo(document)
    assert [k.time for k in shot.keyframes] == [1.0, half]
    assert not pictures.add_keyframe_file(image_file, shot.duration + 1)
    assert "after the shot's end" in pictures.message.text()


def test_the_camera_previz_dissolves_into_the_end_picture(qtbot, document, panel, image_file):
    camera = CameraPanel(document)
    qtbot.addWidget(camera)
    camera.show()
    panel.pictures.set_end_file(image_file)
    qtbot.waitUntil(lambda: len(camera.viewport.keys) == 1, timeout=10_000)
    assert "dissolving into 1 more picture" in camera.source_note.text()
    last = camera.viewport.frame_at(1.0)  # the end picture, seen from the final pose
    assert np.abs(last.astype(int) - [200, 90, 40]).mean() < 2
    middle = camera.viewport.frame_at(0.5)  # halfway through the dissolve
    assert np.abs(middle.astype(int) - [200, 90, 40]).mean() > 20
    undo(document)
    qtbot.waitUntil(lambda: camera.viewport.keys == (), timeout=10_000)
