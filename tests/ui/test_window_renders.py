"""Rendering from the window as a director does: pick one of a shot's variations, then
Render all; Render all on a project with a chained shot; Render all a second time."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from studio.commands import set_field
from studio.project.io import copy_project, load_project, save_project
from tests.ui.test_window import EXAMPLE, make_window
from ui.bridge import DONE, WAITING
from ui.storyboard.shot_card import StatusRole

WAIT = 120_000
RENDER_ALL = (Qt.Key_Return, Qt.ControlModifier | Qt.ShiftModifier)


@pytest.fixture
def folder(tmp_path):
    """The example project, its shots shortened so that the previz renders them quickly."""
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    project = load_project(folder)
    for shot in project.shots:
        shot.duration = 0.5
    save_project(project, folder)
    return folder


@pytest.fixture
def settings(tmp_path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


@pytest.fixture
def window(qtbot, folder, settings, monkeypatch):
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))
    win = make_window(qtbot, folder, settings)
    win.activateWindow()  # the keys go where a user's would: to the active window
    qtbot.waitUntil(win.isActiveWindow)
    win.warnings = warnings
    yield win
    win._closing_confirmed = True
    win.close()


def card(window, shot_id: str, role=StatusRole):
    model = window.storyboard.model
    return model.data(model.index(window.project.shot_index(shot_id), 0), role)


def render_all(qtbot, window) -> list[str]:
    """Press Render all; the jobs it added."""
    before = set(window.bridge.jobs)
    qtbot.keyClick(window, *RENDER_ALL)
    return [job_id for job_id in window.bridge.jobs if job_id not in before]


def test_a_picked_variation_survives_render_all(qtbot, window):
    bridge, panel = window.bridge, window.takes_panel
    shot = window.project.shot("storm")
    window.document.set_current_shot(shot.id)
    window.docks["takes"].raise_()
    panel.variations.setValue(2)
    qtbot.mouseClick(panel.render_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(shot.takes) == 2 and not bridge.busy, timeout=WAIT)
    first, second = shot.takes
    assert (first.request.seed, second.request.seed) == (shot.seed, shot.seed + 1)
    assert shot.selected_take == first.id and card(window, shot.id) == "done"

    # Click the second take in the list and press the pick key.
    rect = panel.list.visualItemRect(panel.list.item(1))
    qtbot.mouseClick(panel.list.viewport(), Qt.LeftButton, pos=rect.center())
    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key_Return)
    assert shot.selected_take == second.id
    assert shot.seed == second.request.seed  # the shot's seed is the take's now
    assert "picked" in panel.list.item(1).text()
    assert card(window, shot.id) == "done"
    assert window.undo_stack.undoText() == "Pick take"

    # One undo step takes back the pick and the seed together.
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert (shot.selected_take, shot.seed) == (first.id, first.request.seed)
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert (shot.selected_take, shot.seed) == (second.id, second.request.seed)

    # Render all renders the other shots and nothing of this one.
    added = render_all(qtbot, window)
    assert window.warnings == []
    assert len(added) == len(window.project.shots) - 1
    assert shot.id not in {bridge.jobs[job_id].shot_id for job_id in added}
    qtbot.waitUntil(lambda: not bridge.busy, timeout=WAIT)
    assert {bridge.jobs[job_id].state for job_id in added} == {DONE}
    assert shot.selected_take == second.id and len(shot.takes) == 2
    assert card(window, shot.id) == "done"

    # An edit makes the card stale, and its tooltip says what changed.
    window.document.push(set_field(shot, "prompt", "a calmer sea"))
    assert card(window, shot.id) == "stale"
    assert "Status: stale: prompt changed since the take" in card(window, shot.id, Qt.ToolTipRole)


def test_double_clicking_a_variation_picks_it_and_render_all_queues_nothing_for_it(qtbot, window):
    bridge, panel = window.bridge, window.takes_panel
    shot = window.project.shot("tower")
    window.document.set_current_shot(shot.id)
    panel.variations.setValue(2)
    qtbot.mouseClick(panel.render_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(shot.takes) == 2 and not bridge.busy, timeout=WAIT)
    rect = panel.list.visualItemRect(panel.list.item(1))
    # A real double-click starts with a click; the view checks the pressed item.
    qtbot.mouseClick(panel.list.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.list.viewport(), Qt.LeftButton, pos=rect.center())
    assert shot.selected_take == shot.takes[1].id and shot.seed == shot.takes[1].request.seed
    added = render_all(qtbot, window)
    assert shot.id not in {bridge.jobs[job_id].shot_id for job_id in added}
    qtbot.waitUntil(lambda: not bridge.busy, timeout=WAIT)
    assert shot.selected_take == shot.takes[1].id


def test_render_all_renders_a_chain_in_order_and_a_second_time_queues_nothing(qtbot, window):
    bridge, queue = window.bridge, window.queue_panel
    ship, dawn = window.project.shot("ship"), window.project.shot("dawn")
    assert dawn.continue_from_previous and window.project.shot_index("dawn") == 5
    # Each change of a job, as the queue hears of it: (its shot, its state).
    heard: list[tuple[str, str]] = []
    bridge.jobChanged.connect(
        lambda job_id: heard.append((bridge.jobs[job_id].shot_id, bridge.jobs[job_id].state))
    )

    added = render_all(qtbot, window)
    assert window.warnings == []  # no "continues from The ship, which has no take yet"
    assert len(added) == len(queue.job_ids()) == 6
    waiting = bridge.job_for_shot("dawn")
    assert waiting.state == WAITING
    assert queue.row_widget(waiting.id).status.text() == "waiting for The ship"
    assert card(window, "dawn") == "waiting"
    assert "waiting for The ship" in card(window, "dawn", Qt.ToolTipRole)

    qtbot.waitUntil(lambda: not bridge.busy, timeout=WAIT)
    assert {bridge.jobs[job_id].state for job_id in added} == {DONE}
    # Dawn left its wait only once The ship's take had landed, and starts from that take.
    dawn_moves = [state for shot_id, state in heard if shot_id == "dawn"]
    assert heard.index(("ship", DONE)) < heard.index(("dawn", dawn_moves[0]))
    assert dawn.current_take.request.continuity_source == ship.selected_take
    for shot in window.project.shots:
        assert window.document.shot_status(shot) == "rendered", shot.id
        assert card(window, shot.id) == "done"

    # Everything is rendered: a second Render all adds no row and says why.
    rows = queue.list.count()
    assert render_all(qtbot, window) == []
    assert queue.list.count() == rows and not bridge.busy
    assert window.statusBar().currentMessage() == "All 6 shots are rendered"
