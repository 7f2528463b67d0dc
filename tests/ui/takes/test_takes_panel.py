"""The takes panel on real previz takes: pick, discard, manifest, variations, and the
compare view's wipe, side by side and frame-exact seeking checked against the decoder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from engine.media.video import VideoReader
from studio.project.io import copy_project, load_project
from ui.document import Document
from ui.takes.take_compare import TakeCompareView
from ui.takes.takes_panel import TakesPanel
from ui.widgets.images import from_qimage

EXAMPLE = Path(__file__).resolve().parents[3] / "assets" / "examples" / "Lighthouse.gallop"
WAIT = 60_000


@pytest.fixture
def document(tmp_path):
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    document = Document(load_project(folder), folder)
    shot = document.project.shots[0]  # a pedestal move: every frame differs
    shot.duration, shot.width, shot.height = 0.5, 320, 192
    return document


@pytest.fixture
def panel(qtbot, document, bridge):
    panel = TakesPanel(document, bridge)
    qtbot.addWidget(panel)
    panel.resize(420, 600)
    panel.show()
    return panel


@pytest.fixture
def shot(qtbot, panel, bridge):
    """The current shot with two takes rendered from the panel's variations button."""
    shot = panel.document.current_shot
    panel.variations.setValue(2)
    assert panel.render_button.text() == "Render 2 variations"
    qtbot.mouseClick(panel.render_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(shot.takes) == 2 and not bridge.busy, timeout=WAIT)
    return shot


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_variations_are_listed_with_their_seeds(qtbot, panel, shot):
    assert panel.list.count() == 2
    assert panel.take_ids() == [t.id for t in shot.takes]
    seeds = [t.request.seed for t in shot.takes]
    assert seeds == [shot.seed, shot.seed + 1]
    texts = [panel.list.item(i).text() for i in range(2)]
    assert f"seed {seeds[0]}" in texts[0] and f"seed {seeds[1]}" in texts[1]
    assert "picked" in texts[0] and "picked" not in texts[1]
    assert shot.selected_take == shot.takes[0].id
    assert panel.heading.text() == f"2 takes of {shot.title}"

    # Thumbnails land from the cache's decode threads.
    panel.thumbnails.wait()
    qtbot.waitUntil(lambda: panel.thumbnails.get(panel.document.take_path(shot)) is not None)
    icon = from_qimage(panel.list.item(0).icon().pixmap(160, 90).toImage())
    assert icon.std() > 5  # a picture, not the flat placeholder


def test_pick_changes_the_selected_take_and_undo_restores_it(qtbot, panel, shot):
    first, second = (t.id for t in shot.takes)
    panel.select_takes([second])
    panel.pick_action.trigger()
    assert shot.selected_take == second
    assert "picked" in panel.list.item(1).text() and "picked" not in panel.list.item(0).text()
    panel.document.undo_stack.undo()
    assert shot.selected_take == first
    assert "picked" in panel.list.item(0).text()

    # Double-click picks too.
    rect = panel.list.visualItemRect(panel.list.item(1))
    # A real double-click starts with a click; the view checks the pressed item.
    qtbot.mouseClick(panel.list.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.list.viewport(), Qt.LeftButton, pos=rect.center())
    assert shot.selected_take == second


def test_discard_removes_the_take_and_undo_puts_it_back(qtbot, panel, shot):
    takes = list(shot.takes)
    first, second = (t.id for t in takes)
    media = panel.document.folder / takes[0].media
    panel.select_takes([first])  # the picked take: the other one gets picked instead
    panel.discard_action.trigger()
    assert [t.id for t in shot.takes] == [second]
    assert shot.selected_take == second
    assert panel.take_ids() == [second]
    assert media.exists()  # the store keeps the file until garbage collection
    assert panel.document.undo_stack.undoText() == "Discard take"

    panel.document.undo_stack.undo()
    assert shot.takes == takes and shot.selected_take == first
    assert panel.take_ids() == [first, second]

    panel.select_takes([first, second])
    panel.discard_action.trigger()
    assert shot.takes == [] and shot.selected_take is None
    panel.document.undo_stack.undo()
    assert shot.takes == takes and shot.selected_take == first


def test_manifest_shows_the_request(qtbot, panel, shot):
    take = shot.takes[1]
    panel.select_takes([take.id])
    assert panel.manifest_action.isEnabled() and not panel.compare_action.isEnabled()
    panel.manifest_action.trigger()
    dialog = panel.manifest_dialog
    assert dialog is not None and dialog.isVisible()
    text = dialog.text.toPlainText()
    assert json.loads(text) == take.request.to_dict()
    assert "\n  " in text  # indented for reading
    dialog.close()


def test_a_shot_that_cannot_render_says_why(qtbot, panel, bridge):
    shot = panel.document.current_shot
    shot.keyframe = "media/no-such-picture.png"
    qtbot.mouseClick(panel.render_button, Qt.LeftButton)
    assert not bridge.jobs
    assert panel.message.isVisibleTo(panel)
    assert panel.message.text().startswith(f"Cannot render {shot.title}")


def test_the_panel_follows_the_current_shot(qtbot, panel, shot):
    other = panel.document.project.shots[1]
    panel.document.set_current_shot(other.id)
    assert panel.list.count() == 0 and other.title in panel.heading.text()
    panel.document.set_current_shot(shot.id)
    assert panel.list.count() == 2


def test_compare_wipe_and_side_by_side_show_both_takes(qtbot, panel, shot):
    panel.select_takes([t.id for t in shot.takes])
    assert panel.compare_action.isEnabled()
    panel.compare_action.trigger()
    dialog = panel.compare_dialog
    assert dialog is not None and dialog.isVisible()
    view = dialog.view
    seeds = [t.request.seed for t in shot.takes]
    assert view.labels == (f"A: seed {seeds[0]}", f"B: seed {seeds[1]}")

    path_a, path_b = (panel.document.take_path(shot, t.id) for t in shot.takes)
    with VideoReader(path_a) as reader_a, VideoReader(path_b) as reader_b:
        a, b = reader_a.read(5), reader_b.read(5)
    assert mean_difference(a, b) > 10  # two seeds, two pictures
    h, w, _ = a.shape

    view.set_frame(5)
    view.set_mode("wipe")
    view.set_wipe(0.5)
    shown = from_qimage(view.frame_image())
    assert shown.shape == a.shape
    split, margin = w // 2, 2
    assert mean_difference(shown[:, : split - margin], a[:, : split - margin]) < 2
    assert mean_difference(shown[:, split + margin :], b[:, split + margin :]) < 2
    assert mean_difference(shown[:, split + margin :], a[:, split + margin :]) > 10

    # Dragging on the picture moves the wipe line.
    rect = view.canvas.picture_rect()
    qtbot.mousePress(
        view.canvas, Qt.LeftButton, pos=QPoint(rect.left() + rect.width() // 4, rect.center().y())
    )
    assert view.wipe == pytest.approx(0.25, abs=0.02)

    view.set_mode("side")
    shown = from_qimage(view.frame_image())
    assert shown.shape == (h, 2 * w, 3)
    assert mean_difference(shown[:, :w], a) < 2
    assert mean_difference(shown[:, w:], b) < 2

    dialog.close()
    assert view._readers == []  # both files closed with the window


def test_set_frame_lands_on_the_exact_frame(qtbot, panel, shot):
    path_a, path_b = (panel.document.take_path(shot, t.id) for t in shot.takes)
    view = TakeCompareView(path_a, path_b)
    qtbot.addWidget(view)
    with VideoReader(path_a) as reader:
        frames = list(reader.frames())
    assert view.frame_count == len(frames) == 12
    assert view.slider.maximum() == 11
    for index in (7, 2, 11, 0, 6):
        view.set_frame(index)
        assert view.frame == index and view.slider.value() == index
        shown = from_qimage(view.frame_image())[:, : frames[0].shape[1]]
        distances = [mean_difference(shown, frame) for frame in frames]
        assert int(np.argmin(distances)) == index and distances[index] < 1

    # Playing steps forward at the take's rate.
    with qtbot.waitSignal(view.frameChanged, timeout=5_000) as step:
        view.play()
    assert step.args == [7]
    view.play(False)
    assert not view.playing
    view.close()
