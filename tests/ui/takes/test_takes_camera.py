"""Camera scores in the window: the takes list shows each take's score and sorts by it, Pick
best camera picks the best-scoring take (its seed adopted, one undo step), and the shot's
card shows the score of its picked take."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from studio.camera.adherence import Adherence, CameraMove
from studio.commands import add_take
from studio.jobs import GenerationRequest
from studio.project.model import Take
from ui.storyboard.shot_card import CameraScoreRole
from ui.storyboard.storyboard_model import StoryboardModel
from ui.takes.takes_panel import TakesPanel


def scored(score: float) -> Adherence:
    expected = CameraMove(0.0, 14.0, 0.0, 1.0)
    return Adherence(0.0, 14.0 * score / 100, 0.0, 1.0, score, expected, 0.01, 0.02, 1.0, 24)


def add_takes(document, shot, scores, start: int = 0) -> list[Take]:
    """Takes of the shot with seeds counting up from its own (plus `start`), scored as
    given (None: not measured), added as finished renders are (the shot's own picked)."""
    takes = []
    for offset, score in enumerate(scores, start):
        request = GenerationRequest(
            prompt=shot.prompt, model_id="previz", width=64, height=48, frames=9,
            seed=shot.seed + offset,
        )  # fmt: skip
        take = Take(
            request.hash,
            request,
            f"takes/{request.hash}.mp4",
            f"2026-11-21T10:0{offset}:00+00:00",
            adherence=None if score is None else scored(score),
        )
        document.push(add_take(shot, take, select=offset == 0))
        takes.append(take)
    return takes


@pytest.fixture
def panel(qtbot, document):
    panel = TakesPanel(document)
    qtbot.addWidget(panel)
    panel.resize(420, 600)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def button(panel, action) -> QToolButton:
    return next(b for b in panel.findChildren(QToolButton) if b.defaultAction() is action)


def seeds_listed(panel, shot) -> list[int]:
    return [shot.take(take_id).request.seed for take_id in panel.take_ids()]


def test_the_list_shows_each_takes_camera_score_and_sorts_by_it(qtbot, panel, document):
    shot = document.current_shot
    takes = add_takes(document, shot, [71.4, None, 94.2, 35.0])
    texts = [panel.list.item(i).text() for i in range(4)]
    assert "camera 71" in texts[0] and "camera 94" in texts[2] and "camera 35" in texts[3]
    assert "camera" not in texts[1]  # not measured
    tip = panel.list.item(2).toolTip()
    assert "camera 94: tilt +13.2° (rig +14.0°)" in tip

    sort = button(panel, panel.sort_action)
    assert sort.text() == "Sort by camera" and not panel.sort_action.isChecked()
    qtbot.mouseClick(sort, Qt.LeftButton)
    assert panel.sort_action.isChecked()
    base = shot.seed
    assert seeds_listed(panel, shot) == [base + 2, base, base + 3, base + 1]  # unscored last
    assert "camera 94" in panel.list.item(0).text()

    # A take added meanwhile lands in its place by score.
    (extra,) = add_takes(document, shot, [80.0], start=4)
    assert len(shot.takes) == 5 and panel.take_ids()[1] == extra.id

    qtbot.mouseClick(sort, Qt.LeftButton)
    assert not panel.sort_action.isChecked()
    assert panel.take_ids()[:4] == [t.id for t in takes]  # render order again


def test_pick_best_camera_picks_the_best_scoring_take_and_undo_restores(qtbot, panel, document):
    shot = document.current_shot
    first_seed = shot.seed
    takes = add_takes(document, shot, [62.0, 97.5, None])
    assert shot.selected_take == takes[0].id
    pick = button(panel, panel.pick_camera_action)
    assert pick.isEnabled()
    qtbot.mouseClick(pick, Qt.LeftButton)
    assert shot.selected_take == takes[1].id and shot.seed == first_seed + 1
    assert "picked" in panel.list.item(1).text() and "picked" not in panel.list.item(0).text()
    assert panel.message.text().startswith(f"Picked seed {first_seed + 1}: camera 98")
    assert document.undo_stack.undoText() == "Pick take"

    document.undo_stack.undo()  # one step: the pick and the seed
    assert shot.selected_take == takes[0].id and shot.seed == first_seed


def test_pick_best_camera_needs_a_scored_take(qtbot, panel, document):
    shot = document.current_shot
    assert not panel.pick_camera_action.isEnabled()  # no takes at all
    add_takes(document, shot, [None, None])
    assert not panel.pick_camera_action.isEnabled()
    panel.pick_best_camera()
    assert panel.message.text() == "No take of this shot has a camera score yet."
    assert document.undo_stack.count() == 2  # the two takes added, nothing picked


def test_the_shots_card_shows_its_picked_takes_score(qtbot, panel, document):
    model = StoryboardModel(document)
    shot = document.current_shot
    index = model.index_of(shot.id)
    assert model.data(index, CameraScoreRole) == ""
    add_takes(document, shot, [55.0, 91.0])
    assert model.data(index, CameraScoreRole) == "camera 55"
    changed = []
    model.dataChanged.connect(lambda top, bottom, roles=(): changed.append(top.row()))
    qtbot.mouseClick(button(panel, panel.pick_camera_action), Qt.LeftButton)
    assert model.data(index, CameraScoreRole) == "camera 91" and index.row() in changed
    assert "camera 91" in model.data(index, Qt.ToolTipRole)
