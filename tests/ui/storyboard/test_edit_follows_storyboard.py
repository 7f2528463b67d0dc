"""The edit keeps to the storyboard as a user works in the window: a new duration typed in
the shot panel reaches the shot's clip, reordered cards reorder the clips, and a timeline
rearranged on purpose makes the storyboard say so, with one click to match it again."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QHBoxLayout, QWidget

from ui.camera.camera_panel import CameraPanel
from ui.shot.prompt_panel import PromptPanel
from ui.storyboard.storyboard import StoryboardPanel
from ui.timeline.timeline_view import TimelinePanel

STORY = ["storm", "tower", "keeper", "lamp", "ship", "dawn"]


class Window:
    """The storyboard, shot and timeline panels on one document, shown together."""

    def __init__(self, qtbot, document, *, shot_panel: bool = False) -> None:
        self.host = QWidget()
        qtbot.addWidget(self.host)
        self.storyboard = StoryboardPanel(document)
        self.prompt = PromptPanel(document) if shot_panel else None
        self.timeline = TimelinePanel(document)
        row = QHBoxLayout(self.host)
        for panel in (self.storyboard, self.prompt, self.timeline):
            if panel is not None:
                row.addWidget(panel)
        self.host.resize(1800, 700)
        self.host.show()
        qtbot.waitExposed(self.host)
        self.document = document

    def clip(self, shot_id: str):
        return next(c for c in self.document.project.timeline.clips() if c.shot_id == shot_id)

    def clip_order(self) -> list[str]:
        return [c.shot_id for c in self.document.project.timeline.clips()]

    def shot_order(self) -> list[str]:
        return [s.id for s in self.document.project.shots]


@pytest.fixture
def window(qtbot, document) -> Window:
    return Window(qtbot, document)


def type_into(qtbot, spin, text: str) -> None:
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key_Return)


def test_a_duration_typed_in_the_shot_panel_reaches_the_clip_in_one_undo_step(qtbot, document):
    window = Window(qtbot, document, shot_panel=True)
    document.set_current_shot("tower")
    assert window.clip("tower").duration == 96  # 4 s at 24 fps
    length = document.project.timeline.duration
    steps = document.undo_stack.count()
    type_into(qtbot, window.prompt.duration_spin, "2")
    assert document.project.shot("tower").duration == 2.0
    assert (window.clip("tower").source_in, window.clip("tower").source_out) == (0, 48)
    assert document.project.timeline.duration == length - 48
    assert document.undo_stack.count() == steps + 1
    document.undo_stack.undo()
    assert document.project.shot("tower").duration == 4.0
    assert window.clip("tower").duration == 96


def test_a_trimmed_clip_keeps_its_trim_when_the_shot_changes_length(qtbot, document):
    window = Window(qtbot, document, shot_panel=True)
    view = window.timeline.view
    view.select("clip-lamp")
    edge = view.clip_rect("clip-lamp")
    QTest.mousePress(
        view, Qt.LeftButton, Qt.NoModifier, QPointF(edge.right() - 2, edge.top() + 20).toPoint()
    )
    QTest.mouseMove(view, QPointF(edge.right() - 2 - 10 * view.ppf, edge.top() + 20).toPoint())
    QTest.mouseRelease(
        view,
        Qt.LeftButton,
        Qt.NoModifier,
        QPointF(edge.right() - 2 - 10 * view.ppf, edge.top() + 20).toPoint(),
    )
    trimmed = window.clip("lamp")
    assert trimmed.trimmed and trimmed.duration < 72
    document.set_current_shot("lamp")
    type_into(qtbot, window.prompt.duration_spin, "5")
    assert document.project.shot("lamp").duration == 5.0
    assert window.clip("lamp") == trimmed


def test_the_camera_panels_shot_length_reaches_the_clip_too(qtbot, document):
    document.set_current_shot("storm")
    camera = CameraPanel(document)
    qtbot.addWidget(camera)
    camera.show()
    qtbot.waitExposed(camera)
    camera.duration.setFocus()
    qtbot.keyClick(camera.duration, Qt.Key_Down)  # one step of half a second shorter
    storm = next(c for c in document.project.timeline.clips() if c.shot_id == "storm")
    assert document.project.shot("storm").duration == 4.5 and storm.duration == 108


def test_reordering_cards_reorders_the_clips_in_the_same_undo_step(qtbot, window):
    document = window.document
    board = window.storyboard
    board.activateWindow()
    board.view.setFocus()
    qtbot.waitUntil(board.view.hasFocus)
    board.select_shots(["storm"])
    qtbot.keyClick(board.view, Qt.Key_Right, Qt.AltModifier)  # Move later
    assert window.shot_order() == ["tower", "storm", *STORY[2:]]
    assert window.clip_order() == window.shot_order()
    # Cards dragged and dropped together (the drop the grid makes): their clips go too.
    model = board.model
    dropped = model.mimeData([model.index_of("ship"), model.index_of("tower")])
    assert model.dropMimeData(dropped, Qt.MoveAction, 0, 0, QModelIndex())
    assert window.shot_order() == ["tower", "ship", "storm", "keeper", "lamp", "dawn"]
    assert window.clip_order() == window.shot_order()
    assert not board.findChild(QWidget, "editOrderBar").isVisible()
    document.undo_stack.undo()
    assert window.clip_order() == window.shot_order() == ["tower", "storm", *STORY[2:]]
    document.undo_stack.undo()
    assert window.clip_order() == window.shot_order() == STORY


def test_a_rearranged_edit_shows_the_notice_and_one_click_matches_it(qtbot, window):
    from ui.storyboard.edit_order import DIFFERS_TEXT, MATCHED_TEXT

    view = window.timeline.view
    view.set_zoom(2.0, anchor_x=view.x_of_frame(0))
    bar = window.storyboard.edit_order
    assert not bar.isVisible()
    start = view.clip_rect("clip-storm").center()
    end = QPointF(view.clip_rect("clip-dawn").right() - 10, start.y())
    QTest.mousePress(view, Qt.LeftButton, Qt.NoModifier, start.toPoint())
    for k in range(1, 7):
        QTest.mouseMove(view, (start + (end - start) * k / 6).toPoint())
    QTest.mouseRelease(view, Qt.LeftButton, Qt.NoModifier, end.toPoint())
    assert window.clip_order() == ["tower", "keeper", "lamp", "ship", "dawn", "storm"]
    assert bar.isVisible() and bar.label.text() == DIFFERS_TEXT
    assert bar.match_button.isVisible() and not bar.undo_button.isVisible()
    # The edit keeps its own order while cards move: the storyboard is not the cut now.
    window.storyboard.select_shots(["dawn"])
    window.storyboard.move_selected(-1)
    assert window.shot_order() == ["storm", "tower", "keeper", "lamp", "dawn", "ship"]
    assert window.clip_order() == ["tower", "keeper", "lamp", "ship", "dawn", "storm"]
    QTest.mouseClick(bar.match_button, Qt.LeftButton)
    assert window.clip_order() == window.shot_order()
    assert bar.label.text() == MATCHED_TEXT and bar.undo_button.isVisible()
    assert not bar.match_button.isVisible()
    QTest.mouseClick(bar.undo_button, Qt.LeftButton)
    assert window.clip_order() == ["tower", "keeper", "lamp", "ship", "dawn", "storm"]
    assert bar.label.text() == DIFFERS_TEXT and not bar.undo_button.isVisible()
    # Matched again, then another edit: the offer to undo the match goes, and so does the bar.
    QTest.mouseClick(bar.match_button, Qt.LeftButton)
    view.set_playhead(30)
    view.add_marker()
    assert not bar.isVisible()
