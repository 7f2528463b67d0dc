"""The storyboard follows the project through every edit and undo, reorders by drag and
drop, and shows each shot's take, camera move and render state on its card."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QMimeData, QModelIndex, QObject, QPoint, QPointF, Qt
from PySide6.QtGui import (
    QAction,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QImage,
    QKeySequence,
    QPalette,
)
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from studio.commands import set_field
from ui.bridge import FAILED, QUEUED, RUNNING, JobInfo
from ui.storyboard.storyboard import (
    CHIP_COLOURS,
    THUMB_HEIGHT,
    THUMB_WIDTH,
    CameraMoveRole,
    DurationRole,
    HasTakeImageRole,
    ProgressRole,
    ShotIdRole,
    StatusRole,
    StoryboardPanel,
)
from ui.widgets.images import from_qimage

STORY = ["storm", "tower", "keeper", "lamp", "ship", "dawn"]


@pytest.fixture
def panel(qtbot, document):
    panel = StoryboardPanel(document)
    qtbot.addWidget(panel)
    panel.resize(900, 520)
    return panel


def ids(document) -> list[str]:
    return [s.id for s in document.project.shots]


def rows(model) -> list[str]:
    return [model.data(model.index(r, 0), ShotIdRole) for r in range(model.rowCount())]


def select(panel, shot_ids) -> None:
    panel.select_shots(shot_ids)
    assert panel.selected_shot_ids() == shot_ids


def move(model, shot_ids, row) -> bool:
    indexes = [model.index_of(i) for i in shot_ids]
    return model.dropMimeData(model.mimeData(indexes), Qt.MoveAction, row, 0, QModelIndex())


def test_the_model_passes_the_model_tester_through_edits_and_undo(panel, document):
    model = panel.model
    fatal = QAbstractItemModelTester.FailureReportingMode.Fatal
    tester = QAbstractItemModelTester(model, fatal)  # held: it checks only while alive
    stack = document.undo_stack
    states = [ids(document)]

    document.set_current_shot("keeper")
    panel.add_shot()
    select(panel, ["storm", "lamp"])
    panel.duplicate_selected()
    select(panel, ["tower", "ship"])
    panel.delete_selected()
    assert move(model, ["dawn", "storm"], 1)
    assert move(model, [ids(document)[0]], -1)  # onto the viewport: to the end
    select(panel, [ids(document)[2], ids(document)[4]])
    assert panel.move_selected(-1)
    states.append(ids(document))
    assert rows(model) == ids(document)

    while stack.canUndo():
        stack.undo()
        assert rows(model) == ids(document)
    assert ids(document) == STORY
    while stack.canRedo():
        stack.redo()
        assert rows(model) == ids(document)
    assert ids(document) == states[-1]
    titles = [model.data(model.index(r, 0)) for r in range(model.rowCount())]
    assert titles == [s.title or s.id for s in document.project.shots]
    assert tester.failureReportingMode() == fatal


def test_a_card_reads_in_one_call_what_each_role_says(panel, document):
    from ui.storyboard.shot_card import (
        Card,
        CardRole,
        DurationRole,
        ProgressRole,
        StatusKeyRole,
        StatusRole,
    )

    model = panel.model
    document.push(set_field(document.project.shots[1], "title", "A new name"))
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        card = model.data(index, CardRole)
        assert isinstance(card, Card)
        assert card.title == model.data(index, Qt.DisplayRole)
        assert card.duration == model.data(index, DurationRole)
        assert card.move == model.data(index, CameraMoveRole)
        assert (card.status, card.status_key, card.progress) == (
            model.data(index, StatusRole),
            model.data(index, StatusKeyRole),
            model.data(index, ProgressRole),
        )
    assert model.data(model.index(1, 0), CardRole).title == "A new name"


def test_add_shot_goes_after_the_current_one_and_undo_removes_it(panel, document):
    originals = list(document.project.shots)
    document.set_current_shot("tower")
    new = panel.add_shot()
    assert ids(document) == ["storm", "tower", new, *STORY[2:]]
    assert document.current_shot_id == new
    assert panel.view.currentIndex().row() == 2
    assert document.project.shot(new).fps == document.project.fps
    document.undo_stack.undo()
    assert document.project.shots == originals and ids(document) == STORY
    assert document.current_shot_id != new


def test_duplicate_copies_the_shots_without_takes_in_one_step(panel, document):
    keeper = document.project.shot("keeper")
    keeper.references.append("media/keeper.png")
    select(panel, ["keeper", "ship"])
    copies = panel.duplicate_selected()
    assert len(copies) == 2 and not set(copies) & set(STORY)
    assert ids(document) == [
        "storm",
        "tower",
        "keeper",
        copies[0],
        "lamp",
        "ship",
        copies[1],
        "dawn",
    ]
    copy = document.project.shot(copies[0])
    assert copy.prompt == keeper.prompt and copy.camera == keeper.camera
    assert copy.title == "The keeper (copy)" and copy.takes == [] and copy.selected_take is None
    assert copy.references == keeper.references and copy.references is not keeper.references
    assert panel.selected_shot_ids() == copies
    document.undo_stack.undo()
    assert ids(document) == STORY


def test_delete_removes_the_selection_in_one_step_and_undo_restores_it(panel, document):
    originals = list(document.project.shots)
    select(panel, ["tower", "lamp", "ship"])
    assert panel.delete_selected() == ["tower", "lamp", "ship"]
    assert ids(document) == ["storm", "keeper", "dawn"]
    assert document.current_shot_id == "dawn"  # the shot after the deleted ones
    assert document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert ids(document) == STORY
    assert all(a is b for a, b in zip(document.project.shots, originals, strict=True))


def test_toolbar_actions_edit_the_story_and_follow_the_selection(panel, document):
    panel.view.selectionModel().clearSelection()
    assert not panel.delete_action.isEnabled() and not panel.duplicate_action.isEnabled()
    document.set_current_shot("dawn")
    panel.add_action.trigger()
    assert len(document.project.shots) == 7 and ids(document)[-1] == document.current_shot_id
    select(panel, ["storm"])
    assert panel.duplicate_action.isEnabled()
    panel.duplicate_action.trigger()
    assert ids(document)[1] == panel.selected_shot_ids()[0]
    select(panel, ["storm", "tower"])
    panel.delete_action.trigger()
    assert "storm" not in ids(document) and "tower" not in ids(document)
    for _ in range(3):
        document.undo_stack.undo()
    assert ids(document) == STORY


def test_keys_move_and_delete_the_selected_cards(qtbot, panel, document):
    panel.show()
    panel.activateWindow()
    panel.view.setFocus()
    qtbot.waitUntil(lambda: panel.view.hasFocus())
    select(panel, ["storm"])
    assert not panel.earlier_action.isEnabled() and panel.later_action.isEnabled()
    qtbot.keyClick(panel.view, Qt.Key_Right, Qt.AltModifier)
    assert ids(document) == ["tower", "storm", *STORY[2:]]
    assert panel.selected_shot_ids() == ["storm"]  # the selection travels with the card
    select(panel, ["keeper", "ship"])
    assert panel.move_selected(-1)  # gathered, in story order, one place earlier
    assert ids(document) == ["tower", "keeper", "ship", "storm", "lamp", "dawn"]
    qtbot.keyClick(panel.view, Qt.Key_Delete)
    assert ids(document) == ["tower", "storm", "lamp", "dawn"]
    for _ in range(3):
        document.undo_stack.undo()
    assert ids(document) == STORY


def test_a_window_binding_the_same_keys_is_not_ambiguous(qtbot, document):
    # The studio window binds Ctrl+D and Delete to the same edits, as window shortcuts.
    host = QWidget()
    qtbot.addWidget(host)
    panel = StoryboardPanel(document, parent=host)
    QVBoxLayout(host).addWidget(panel)
    calls = []
    duplicate = QAction("Duplicate shot", host)
    duplicate.setShortcut(QKeySequence("Ctrl+D"))
    duplicate.triggered.connect(lambda: calls.append(panel.duplicate_selected()))
    host.addAction(duplicate)
    host.show()
    host.activateWindow()
    panel.view.setFocus()
    qtbot.waitUntil(lambda: panel.view.hasFocus())
    select(panel, ["lamp"])
    qtbot.keyClick(panel.view, Qt.Key_D, Qt.ControlModifier)
    assert len(calls) == 1 and len(document.project.shots) == 7


def test_deleting_every_shot_shows_the_hint_and_undo_brings_them_back(panel, document):
    panel.show()
    panel.view.selectAll()
    panel.delete_selected()
    assert document.project.shots == [] and panel.model.rowCount() == 0
    assert panel.empty_hint.isVisible()
    document.undo_stack.undo()
    assert rows(panel.model) == STORY and not panel.empty_hint.isVisible()


def test_drag_and_drop_reorders_in_one_undo_step(panel, document):
    model = panel.model
    assert "x-gallop-shot-ids" in model.mimeTypes()[0]
    assert model.flags(QModelIndex()) & Qt.ItemIsDropEnabled
    assert model.flags(model.index(0, 0)) & Qt.ItemIsDragEnabled
    data = model.mimeData([model.index(0, 0)])
    assert model.canDropMimeData(data, Qt.MoveAction, 3, 0, QModelIndex())
    assert model.dropMimeData(data, Qt.MoveAction, 3, 0, QModelIndex())
    assert ids(document) == ["tower", "keeper", "storm", "lamp", "ship", "dawn"]
    assert rows(model) == ids(document)
    document.undo_stack.undo()
    assert ids(document) == STORY and rows(model) == STORY

    # Several cards keep their story order and land together.
    assert move(model, ["ship", "tower"], 0)
    assert ids(document) == ["tower", "ship", "storm", "keeper", "lamp", "dawn"]
    assert document.undo_stack.count() == 1  # the undone move was dropped; this is one step
    document.undo_stack.undo()
    assert ids(document) == STORY
    assert not model.canDropMimeData(QMimeData(), Qt.MoveAction, 0, 0, QModelIndex())


def test_selecting_a_card_makes_its_shot_current_and_back(qtbot, panel, document):
    panel.show()
    view = panel.view
    rect = view.visualRect(panel.model.index_of("lamp"))
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=rect.center())
    assert document.current_shot_id == "lamp"
    document.set_current_shot("tower")
    assert view.currentIndex() == panel.model.index_of("tower")
    assert panel.selected_shot_ids() == ["tower"]

    with qtbot.waitSignal(panel.activated) as activated:
        qtbot.mouseDClick(view.viewport(), Qt.LeftButton, pos=rect.center())
    assert activated.args == ["lamp"]


def test_the_context_menu_renders_duplicates_and_deletes(qtbot, panel, document):
    panel.show()
    rect = panel.view.visualRect(panel.model.index_of("keeper"))
    menu = panel.context_menu(rect.center())
    assert panel.selected_shot_ids() == ["keeper"]  # right-click selects the card
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts[:3] == ["Render", "Duplicate", "Delete"] and "Move earlier" in texts
    with qtbot.waitSignal(panel.renderRequested) as requested:
        menu.actions()[0].trigger()
    assert requested.args == [["keeper"]]
    next(a for a in menu.actions() if a.text() == "Delete").trigger()
    assert "keeper" not in ids(document)


def test_cards_describe_duration_camera_and_status(panel, document):
    model = panel.model
    storm = model.index_of("storm")
    assert model.data(storm, DurationRole) == "5 s"
    assert model.data(storm, CameraMoveRole) == "crane down"
    assert model.data(storm, StatusRole) == "not rendered"
    document.push(set_field(document.project.shot("storm"), "duration", 2.5))
    assert model.data(storm, DurationRole) == "2.5 s"


def test_an_edit_to_one_shot_repaints_only_its_card(panel, document):
    model = panel.model
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda first, last, *_: changed.append((first.row(), last.row())))
    keeper = document.project.shot("keeper")
    title = keeper.title
    document.push(set_field(keeper, "title", "Keeper at the lamp"))
    assert changed == [(2, 2)]
    changed.clear()
    document.undo_stack.undo()
    assert changed == [(2, 2)] and model.data(model.index(2, 0)) == title
    changed.clear()
    move(model, ["dawn"], 0)  # rows move: every card's number changes
    assert changed[-1] == (0, len(STORY) - 1)


def settle(passes: int = 5) -> None:
    """A count of event-loop passes, not a time: a slow machine sees as many as a fast one."""
    for _ in range(passes):
        QApplication.processEvents()


def test_a_change_to_one_card_repaints_that_card_alone(qtbot, panel, document):
    """A render's progress changes one card many times a second: the cards beside it are
    not painted again each time."""
    panel.show()
    qtbot.waitExposed(panel)
    view = panel.view
    painted: list = []

    class Spy(QObject):
        def eventFilter(self, watched, event):  # noqa: N802
            if event.type() == QEvent.Paint:
                painted.append(event.region().boundingRect())
            return False

    spy = Spy()
    view.viewport().installEventFilter(spy)
    settle()  # the first paints, and whatever layout they asked for
    qtbot.waitUntil(panel.model.thumbnails.idle)  # the previz stills drawn and painted
    settle()
    painted.clear()
    document.push(set_field(document.project.shot("keeper"), "title", "Keeper at the lamp"))
    qtbot.waitUntil(lambda: bool(painted))
    settle()  # any further repaint the change asked for
    card = view.visualRect(panel.model.index_of("keeper"))
    assert painted and all(card.contains(rect) for rect in painted), (painted, card)
    painted.clear()
    move(panel.model, ["dawn"], 0)  # every card's number changes: all of them repaint
    qtbot.waitUntil(lambda: bool(painted))
    settle()
    first, last = (view.visualRect(panel.model.index(r, 0)) for r in (0, len(STORY) - 1))
    whole = first.united(last).intersected(view.viewport().rect())
    assert any(rect.contains(whole) for rect in painted), (painted, whole)


def test_status_follows_the_bridge_jobs(qtbot, document, bridge):
    panel = StoryboardPanel(document, bridge)
    qtbot.addWidget(panel)
    model = panel.model
    request = bridge.plan("tower", backend="previz").request
    job = JobInfo("job-1", "tower", "The tower", request, state=QUEUED)
    bridge.jobs[job.id] = job
    index = model.index_of("tower")
    with qtbot.waitSignal(model.dataChanged):
        bridge.shotStateChanged.emit("tower")
    assert model.data(index, StatusRole) == "queued"
    job.state, job.step, job.total = RUNNING, 42, 100
    assert model.data(index, StatusRole) == "rendering 42%"
    assert model.data(index, ProgressRole) == pytest.approx(0.42)
    job.state = FAILED
    assert model.data(index, StatusRole) == "failed"
    bridge.remove(job.id)
    assert model.data(index, StatusRole) == "not rendered"


def drawn_still(qtbot, model, index):
    """The card's previz still, once drawn off the GUI thread: asked for, it is None and
    the card repaints when it lands."""
    changed: list[int] = []
    model.dataChanged.connect(
        lambda top, _bottom, roles=(): (
            changed.append(top.row()) if Qt.DecorationRole in roles else None
        )
    )
    if model.data(index, Qt.DecorationRole) is None:
        qtbot.waitUntil(lambda: index.row() in changed)
    return model.data(index, Qt.DecorationRole)


def test_the_previz_still_is_drawn_off_the_gui_thread_and_repaints_its_card(qtbot, panel):
    model = panel.model
    index = model.index_of("keeper")
    assert model.data(index, Qt.DecorationRole) is None  # asked for: drawing now
    still = drawn_still(qtbot, model, index)
    assert isinstance(still, QImage) and not still.isNull()
    assert model.data(index, Qt.DecorationRole) == still  # kept, not drawn again


def test_a_rendered_take_replaces_the_previz_still_on_the_card(qtbot, document, bridge):
    panel = StoryboardPanel(document, bridge)
    qtbot.addWidget(panel)
    model = panel.model
    shot = document.project.shot("storm")
    shot.duration = 0.5
    index = model.index_of("storm")
    still = drawn_still(qtbot, model, index)
    assert isinstance(still, QImage) and (still.width(), still.height()) == (
        THUMB_WIDTH,
        THUMB_HEIGHT,
    )
    assert not model.data(index, HasTakeImageRole)

    with qtbot.waitSignal(bridge.jobFinished, timeout=60_000):
        bridge.render_shot(shot.id, backend="previz")
    take_path = document.take_path(shot)
    assert take_path is not None
    qtbot.waitUntil(lambda: model.data(index, HasTakeImageRole), timeout=30_000)
    image = model.data(index, Qt.DecorationRole)
    assert image == model.thumbnails.get(take_path, 0, THUMB_WIDTH)
    assert image != still
    assert model.data(index, StatusRole) == "done"

    document.undo_stack.undo()  # the take leaves the shot: back to the still
    assert model.data(index, Qt.DecorationRole) == still
    assert model.data(index, StatusRole) == "not rendered"


def test_a_card_repaints_when_its_own_picture_lands_not_other_frames_of_its_take(
    qtbot, document, bridge
):
    panel = StoryboardPanel(document, bridge)
    qtbot.addWidget(panel)
    model = panel.model
    shot = document.project.shot("storm")
    shot.duration = 0.5
    with qtbot.waitSignal(bridge.jobFinished, timeout=60_000):
        bridge.render_shot(shot.id, backend="previz")
    take_path = document.take_path(shot)
    index = model.index_of("storm")
    changed: list[tuple[int, list]] = []
    model.dataChanged.connect(lambda top, _bottom, roles=(): changed.append((top.row(), roles)))

    assert not model.data(index, HasTakeImageRole)  # asked for: decoding now
    qtbot.waitUntil(lambda: (index.row(), [Qt.DecorationRole, HasTakeImageRole]) in changed)
    assert model.data(index, HasTakeImageRole)

    # A timeline strip asks the shared cache for other frames of the same take.
    changed.clear()
    for frame in (4, 8):
        assert model.thumbnails.get(take_path, frame, 80) is None
    # Both land and are announced (one `ready` each on a slow machine, see HOLD_MS).
    qtbot.waitUntil(model.thumbnails.idle, timeout=30_000)
    assert model.thumbnails.get(take_path, 4, 80) is not None
    assert model.thumbnails.get(take_path, 8, 80) is not None
    assert changed == []


def test_a_keyframe_is_the_still_of_a_shot_without_takes(qtbot, panel, document):
    (document.folder / "media").mkdir(exist_ok=True)
    red = np.zeros((300, 400, 3), np.uint8)
    red[:] = (0, 0, 220)  # BGR
    cv2.imwrite(str(document.folder / "media" / "key.png"), red)
    document.push(set_field(document.project.shot("ship"), "keyframe", "media/key.png"))
    image = drawn_still(qtbot, panel.model, panel.model.index_of("ship"))
    pixels = from_qimage(image)
    assert pixels.shape == (THUMB_HEIGHT, THUMB_WIDTH, 3)
    assert np.abs(pixels.astype(int) - (220, 0, 0)).max() <= 2


def test_the_delegate_paints_cards_with_pictures_and_chips(qtbot, panel):
    panel.show()
    qtbot.waitExposed(panel)
    size = panel.view.sizeHintForIndex(panel.model.index(0, 0))
    assert 180 <= size.width() <= 220 and 150 <= size.height() <= 200
    rect = panel.view.visualRect(panel.model.index(1, 0))
    grab = from_qimage(panel.view.viewport().grab(rect).toImage())
    assert grab.std() > 20  # a picture and text, not a flat fill
    chip = CHIP_COLOURS["not rendered"]
    found = np.all(grab == (chip.red(), chip.green(), chip.blue()), axis=2)
    assert found.sum() > 50  # the status chip
    # Cards wrap into a grid: the fifth card starts a new row at this width.
    first, fifth = (panel.view.visualRect(panel.model.index(r, 0)) for r in (0, 4))
    assert fifth.top() > first.top() and fifth.left() == first.left()


def drag_over(view, shot_ids, pos, *, drop: bool):
    """A drag of the shots' cards entering the grid and moving to `pos` (viewport
    coordinates), then dropped there when `drop`; the last event, to read its answer."""
    model = view.model()
    data = model.mimeData([model.index_of(i) for i in shot_ids])
    viewport = view.viewport()
    point = QPointF(pos)
    enter = QDragEnterEvent(pos, Qt.MoveAction, data, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    moved = QDragMoveEvent(pos, Qt.MoveAction, data, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(viewport, moved)
    if not drop:
        return moved
    dropped = QDropEvent(point, Qt.MoveAction, data, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(viewport, dropped)
    return dropped


@pytest.mark.parametrize(
    ("side", "expected"),
    [
        ("left", ["storm", "dawn", "tower", "keeper", "lamp", "ship"]),
        ("right", ["storm", "tower", "dawn", "keeper", "lamp", "ship"]),
    ],
)
def test_a_card_dropped_on_a_card_of_the_row_above_lands_beside_it(
    qtbot, panel, document, side, expected
):
    panel.resize(660, 560)  # three cards a row: storm tower keeper / lamp ship dawn
    panel.show()
    qtbot.waitExposed(panel)
    view = panel.view
    tower = view.visualRect(panel.model.index_of("tower"))
    dawn = view.visualRect(panel.model.index_of("dawn"))
    assert dawn.top() > tower.bottom(), "the grid wraps: dawn is a row below the tower"
    quarter = tower.width() // 4
    pos = tower.center() + QPoint(-quarter if side == "left" else quarter, 0)

    moved = drag_over(view, ["dawn"], pos, drop=False)
    assert moved.isAccepted() and moved.dropAction() == Qt.MoveAction
    line = view.drop_indicator_rect()
    assert line.top() == tower.top() and line.height() == tower.height()
    neighbour = view.visualRect(panel.model.index_of("storm" if side == "left" else "keeper"))
    if side == "left":  # in the gap between the storm and the tower
        assert neighbour.right() < line.center().x() < tower.left()
    else:  # in the gap between the tower and the keeper
        assert tower.right() < line.center().x() < neighbour.left()
    image = view.viewport().grab().toImage()
    highlight = view.palette().color(QPalette.Highlight)
    assert image.pixelColor(line.center()) == highlight, "the insertion line is drawn"

    dropped = drag_over(view, ["dawn"], pos, drop=True)
    assert dropped.isAccepted()
    assert ids(document) == expected and rows(panel.model) == expected
    assert view.drop_indicator_rect().isEmpty()
    assert document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert ids(document) == STORY


def test_a_drop_past_the_last_card_moves_the_shots_to_the_end(qtbot, panel, document):
    panel.resize(660, 560)
    panel.show()
    qtbot.waitExposed(panel)
    view = panel.view
    dawn = view.visualRect(panel.model.index_of("dawn"))
    pos = QPoint(dawn.right() + 40, dawn.center().y())  # the blank space after the last card
    drag_over(view, ["storm", "tower"], pos, drop=True)
    assert ids(document) == ["keeper", "lamp", "ship", "dawn", "storm", "tower"]
    assert document.undo_stack.count() == 1
