"""The studio window: panels, shortcuts, undo, layout memory, rendering and project life."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.commands import set_field
from studio.project.io import ProjectSession, copy_project, find_recovery, load_project
from ui.app import StudioWindow, open_window

EXAMPLE = Path(__file__).resolve().parents[2] / "assets" / "examples" / "Lighthouse.gallop"


@pytest.fixture
def folder(tmp_path):
    return copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


def make_window(qtbot, folder, settings) -> StudioWindow:
    # Closed by the tests themselves (not qtbot), so that no modal question is left open.
    win = StudioWindow(load_project(folder), ProjectSession(folder), settings=settings)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def window(qtbot, folder, settings):
    win = make_window(qtbot, folder, settings)
    yield win
    win._closing_confirmed = True
    win.close()


def settle(window: StudioWindow, passes: int = 5) -> None:
    """Run the work the window put off (its document's Later queue) and the layout passes
    that work asks for: a count of passes of the event loop, not a time, so that a slow
    machine sees as much of it as a fast one."""
    for _ in range(passes):
        window.document.later.flush()
        QApplication.processEvents()


def answer(monkeypatch, button):
    asked = []

    def question(*args, **kwargs):
        asked.append(args[2] if len(args) > 2 else "")
        return button

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def test_every_panel_is_docked_and_the_title_tracks_unsaved_changes(window):
    assert set(window.docks) == {
        "storyboard",
        "prompt",
        "camera",
        "takes",
        "queue",
        "sound",
        "timeline",
        "history",
    }
    assert window.storyboard.model.rowCount() == 6
    assert window.windowTitle() == "The Lighthouse[*] — Gallop Studio"
    assert not window.isWindowModified()
    window.document.push(set_field(window.project.shots[0], "title", "Squall"))
    assert window.isWindowModified()
    window.act_undo.trigger()
    assert window.project.shots[0].title == "Storm at sea"
    assert not window.isWindowModified()
    window.act_redo.trigger()
    assert window.project.shots[0].title == "Squall"


def test_shortcuts_reach_the_storyboard_and_the_undo_stack(qtbot, window):
    window.storyboard.view.setFocus()
    count = len(window.project.shots)
    qtbot.keyClick(window, Qt.Key_T, Qt.ControlModifier)
    assert len(window.project.shots) == count + 1
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert len(window.project.shots) == count
    window.storyboard.view.setFocus()
    window.document.set_current_shot(window.project.shots[1].id)
    window.act_delete.trigger()
    assert len(window.project.shots) == count - 1
    window.act_undo.trigger()
    assert [s.id for s in window.project.shots] == [
        s.id for s in load_project(window.session.folder).shots
    ]


def test_the_dock_layout_is_remembered(qtbot, folder, settings):
    win = make_window(qtbot, folder, settings)
    assert win.docks["timeline"].isVisible()
    win.docks["timeline"].hide()
    win._closing_confirmed = True
    win.close()
    again = make_window(qtbot, folder, settings)
    try:
        assert not again.docks["timeline"].isVisible()
        again.reset_layout()
        assert again.docks["timeline"].isVisible()
    finally:
        again._closing_confirmed = True
        again.close()


def test_recent_projects_remember_the_opened_folder(window, folder):
    assert window.recent_projects()[0] == str(folder.resolve())


def test_save_writes_the_project_and_autosave_clears(window):
    window.document.push(set_field(window.project, "title", "Beacon"))
    window.autosave()
    assert window.session.autosave_path.exists()
    window.act_save.trigger()
    assert window.document.is_clean
    assert load_project(window.session.folder).title == "Beacon"
    assert not window.session.autosave_path.exists()


def test_a_crash_autosave_is_offered_and_never_overwrites_the_saved_project(
    qtbot, folder, settings, monkeypatch
):
    session = ProjectSession(folder)
    project = load_project(folder)
    project.title = "Unsaved title"
    session.autosave(project)
    session._lock_handle.close()  # the process "dies": the lock is released, the autosave stays
    saved = (folder / "project.json").read_bytes()
    assert find_recovery(folder) is not None

    asked = answer(monkeypatch, QMessageBox.Yes)
    win = open_window(folder, settings=settings)
    try:
        assert asked and "not closed cleanly" in asked[0]
        assert win.project.title == "Unsaved title"
        assert win.isWindowModified()
        assert (folder / "project.json").read_bytes() == saved
    finally:
        win._closing_confirmed = True
        win.close()


def test_closing_with_running_renders_asks_then_shuts_the_engine_down(qtbot, window, monkeypatch):
    shot = window.project.shots[0]
    shot.duration = 8.0
    window.bridge.render_shot(shot.id, backend="previz")
    asked = answer(monkeypatch, QMessageBox.No)
    window.close()
    assert asked and "running" in asked[-1]
    assert window.isVisible()
    engine = window.bridge.engine
    answer(monkeypatch, QMessageBox.Yes)
    window.document.set_clean()
    window.close()
    assert not window.isVisible()
    assert not engine.alive


@pytest.mark.parametrize("model", ["previz", "tiny-wan"])
def test_ctrl_enter_renders_the_current_shot_and_its_card_shows_the_take(qtbot, window, model):
    shot = window.project.shots[2]
    if model == "previz":
        shot.duration = 0.5
    else:
        shot.model_id, shot.width, shot.height, shot.duration = model, 64, 64, 0.5
    window.document.set_current_shot(shot.id)
    with qtbot.waitSignal(window.bridge.jobFinished, timeout=120_000) as blocker:
        qtbot.keyClick(window, Qt.Key_Return, Qt.ControlModifier)
    take_id = blocker.args[1]
    assert shot.selected_take == take_id
    row = window.project.shot_index(shot.id)
    index = window.storyboard.model.index(row, 0)

    def card_shows_take():
        return window.storyboard.model.data(index, Qt.DecorationRole) is not None and (
            "done"
            in json.dumps(
                [window.storyboard.model.data(index, r) for r in range(0x100, 0x110)],
                default=str,
            )
        )

    qtbot.waitUntil(card_shows_take, timeout=30_000)
    assert window.takes_panel is not None
    assert window.document.take_path(shot) is not None


def test_clicking_a_sound_in_the_timeline_opens_it_in_the_sound_panel(qtbot, window):
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    view = window.timeline.view
    track = window.project.timeline.audio_tracks[0]
    clip = track.clips[0]
    x = round(view.x_of_frame(clip.start + 5))
    y = view.audio_top(0) + 10
    assert view.audio_hit(x, y) == (track.id, clip.id)
    with qtbot.waitSignal(window.sound_panel.clipShown) as shown:
        QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, QPoint(x, y))
    assert shown.args == [track.id, clip.id]
    assert window.docks["sound"].isVisible()


def test_the_delete_menu_entry_acts_on_the_focused_timeline(qtbot, window):
    view = window.timeline.view
    view.select("clip-tower")
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    shots = len(window.project.shots)
    window.act_delete.trigger()
    assert "clip-tower" not in [c.id for c in window.project.timeline.clips()]
    assert len(window.project.shots) == shots  # the shot stays in the storyboard


def test_the_docks_stay_put_as_shots_change_and_a_take_lands(qtbot, window):
    """Text that changes with the shot or the take (a title, a status, a frame count)
    never moves the docks: the window keeps its layout while the director works."""

    def layout():
        kept = ("storyboard", "prompt", "camera", "timeline")
        rects = {name: window.docks[name].geometry().getRect() for name in kept}
        return rects | {"player": window.centralWidget().geometry().getRect()}

    settle(window)
    before = layout()
    for shot in window.project.shots:
        window.document.set_current_shot(shot.id)
        settle(window)
        assert layout() == before, f"the docks moved when {shot.title!r} was selected"
    shot = window.project.shots[2]
    shot.duration = 0.5
    window.document.set_current_shot(shot.id)
    with qtbot.waitSignal(window.bridge.jobFinished, timeout=120_000):
        window.render_current()
    qtbot.waitUntil(lambda: window.player.frame_count > 0, timeout=10_000)
    settle(window)
    assert window.player.transport.frame_label.text().endswith(f"/ {window.player.frame_count}")
    assert layout() == before, "the docks moved when the take landed"
