"""The studio window opens on a project, edits through the undo stack, saves and closes."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.commands import set_field
from studio.project_io import ProjectSession, copy_project, find_recovery, load_project
from ui.app import StudioWindow

EXAMPLE = Path(__file__).resolve().parents[2] / "assets" / "examples" / "Lighthouse.gallop"


@pytest.fixture
def window(qtbot, tmp_path):
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    win = StudioWindow(load_project(folder), ProjectSession(folder))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.session.close()


def test_window_lists_the_shots_and_tracks_unsaved_changes(window):
    assert window.shots.count() == 6
    assert "Storm at sea" in window.shots.item(0).text()
    assert window.windowTitle() == "The Lighthouse — Gallop Studio"
    window.undo_stack.push(set_field(window.project.shots[0], "title", "Squall"))
    window.refresh()
    assert window.windowTitle().startswith("The Lighthouse *")
    assert "Squall" in window.shots.item(0).text()
    window._undo()
    assert "Storm at sea" in window.shots.item(0).text()
    assert window.windowTitle() == "The Lighthouse — Gallop Studio"


def test_save_writes_the_project_and_autosave_clears(window):
    window.undo_stack.push(set_field(window.project, "title", "Beacon"))
    window.autosave()
    assert window.session.autosave_path.exists()
    window.save()
    assert window.undo_stack.is_clean
    assert load_project(window.session.folder).title == "Beacon"
    assert not window.session.autosave_path.exists()
    window.session.close()
    assert find_recovery(window.session.folder) is None
