"""Opening a project that a crash left with an autosave asks first, saying when the autosave
was made, how long after the last save, and how many shots it changes."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.project.io import AUTOSAVE_FILE, copy_project, encode_project, load_project
from ui.project_life import load_offering_recovery

EXAMPLE = Path(__file__).resolve().parents[3] / "assets" / "examples" / "Lighthouse.gallop"


@pytest.fixture
def folder(tmp_path):
    return copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")


def leave_autosave(folder: Path, edit, saved: datetime, autosaved: datetime) -> None:
    """What a crash leaves: an autosave of the edited project, newer than project.json."""
    project = load_project(folder)
    edit(project)
    autosave = folder / "autosave" / AUTOSAVE_FILE
    autosave.parent.mkdir(exist_ok=True)
    autosave.write_bytes(encode_project(project))
    for path, when in ((folder / "project.json", saved), (autosave, autosaved)):
        os.utime(path, (when.timestamp(), when.timestamp()))


def answer_with(qtbot, button) -> list[str]:
    """Click `button` of the question the next call puts, as the user would; the list
    receives the question's text."""
    texts: list[str] = []

    def poll() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, poll)
            return
        texts.append(box.text())
        qtbot.mouseClick(box.button(button), Qt.LeftButton)

    QTimer.singleShot(0, poll)
    return texts


def two_shots_differ(project) -> None:
    project.shots[1].title = "Changed after the save"
    project.shots.append(project.new_shot(title="Added after the save"))


def test_the_question_says_when_the_autosave_was_made_and_what_differs(qtbot, folder):
    leave_autosave(
        folder, two_shots_differ, datetime(2024, 5, 2, 14, 20), datetime(2024, 5, 2, 14, 32)
    )
    texts = answer_with(qtbot, QMessageBox.Yes)
    now = datetime(2024, 5, 2, 14, 44).timestamp()
    project, recovered = load_offering_recovery(folder, now=lambda: now)
    assert texts, "no question was asked"
    lines = texts[0].splitlines()
    assert lines[0] == "Lighthouse.gallop was not closed cleanly. Restore the autosave?"
    assert lines[1] == "Autosaved today at 14:32, 12 minutes after the last save."
    assert lines[2] == "2 shots differ from the saved project (1 changed, 1 added)."
    assert recovered and project.shots[1].title == "Changed after the save"
    assert len(project.shots) == len(load_project(folder).shots) + 1


def test_an_older_autosave_names_its_day_and_no_change_of_shots(qtbot, folder):
    def retitle(project) -> None:
        project.title = "Renamed"

    leave_autosave(folder, retitle, datetime(2024, 5, 1, 9, 0), datetime(2024, 5, 1, 12, 5))
    texts = answer_with(qtbot, QMessageBox.No)
    now = datetime(2024, 5, 2, 8, 0).timestamp()
    project, recovered = load_offering_recovery(folder, now=lambda: now)
    lines = texts[0].splitlines()
    assert lines[1] == "Autosaved yesterday at 12:05, 3 hours after the last save."
    assert lines[2].startswith("Its shots are as saved")
    assert not recovered and project.title == "The Lighthouse"

    texts = answer_with(qtbot, QMessageBox.Cancel)
    later = datetime(2024, 6, 9, 8, 0).timestamp()
    assert load_offering_recovery(folder, now=lambda: later) is None
    assert texts[0].splitlines()[1].startswith("Autosaved on 1 May at 12:05")
