"""Importing a screenplay from the window: the file dialog starts in the project's folder,
the cards number the shots once, and the prompt panel shows a shot's dialogue."""

from __future__ import annotations

import re
import shutil

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog

import ui.storyboard.shot_card as shot_card
from engine.script_import import plan_project
from studio.commands import set_field
from studio.project.io import ProjectSession, copy_project, load_project
from tests.engine.test_plan_cli import COASTGUARD
from tests.ui.conftest import EXAMPLE
from ui.app import StudioWindow
from ui.document import Document
from ui.shot.prompt_panel import PromptPanel
from ui.storyboard.storyboard import StoryboardPanel


@pytest.fixture
def window(qtbot, tmp_path):
    folder = copy_project(EXAMPLE, tmp_path / "projects" / "Lighthouse.gallop")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = StudioWindow(load_project(folder), ProjectSession(folder), settings=settings)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win._closing_confirmed = True
    win.close()


@pytest.fixture
def imported(tmp_path) -> Document:
    folder = tmp_path / "Coastguard.gallop"
    plan_project(COASTGUARD, folder)
    return Document(load_project(folder), folder)


def test_the_import_dialog_opens_in_the_project_folder(window, monkeypatch):
    asked = []

    def choose(parent, caption, folder, filters):
        asked.append(folder)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", choose)
    window.act_import.trigger()
    assert asked == [str(window.session.folder)]


def test_importing_a_script_kept_in_the_project_makes_a_project_beside_it(
    window, monkeypatch, tmp_path
):
    script = window.session.folder / "coastguard.fountain"
    shutil.copy(COASTGUARD, script)
    target = tmp_path / "projects" / "Coastguard.gallop"
    offered, opened = [], []

    def save_as(parent, caption, default):
        offered.append(default)
        return str(target), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(script), ""))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    monkeypatch.setattr(window, "_switch_to", lambda folder, ask=True: opened.append(folder))
    window.act_import.trigger()
    # Beside this project, not inside it: a project never lands in another one.
    assert offered == [str(window.session.folder.parent / "coastguard.gallop")]
    assert opened == [target]
    project = load_project(target)
    assert project.title == "The Coastguard"
    assert project.shots[0].title == "Cliff Top"


def test_cards_number_the_shots_once(qtbot, imported, monkeypatch):
    drawn: list[str] = []
    text_line = shot_card._text_line

    def record(painter, font, above, text, colour):
        drawn.append(text)
        return text_line(painter, font, above, text, colour)

    monkeypatch.setattr(shot_card, "_text_line", record)
    panel = StoryboardPanel(imported)
    qtbot.addWidget(panel)
    panel.resize(900, 520)
    panel.show()
    qtbot.waitExposed(panel)
    panel.grab()
    assert "1. Cliff Top" in drawn
    assert "2. Cliff Top: Wind tears at the gorse. A …" in drawn
    assert not [t for t in drawn if re.match(r"^\d+\.\s*\d+\.", t)]


def test_the_prompt_panel_shows_the_dialogue_of_the_shot(qtbot, imported):
    panel = PromptPanel(imported)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: bool(panel.availability), timeout=30_000)
    shots = imported.project.shots
    radio = next(s for s in shots if s.dialogue and s.dialogue[-1].speaker == "Radio")
    imported.set_current_shot(radio.id)
    view = panel.dialogue_view
    assert view.isVisible()
    assert view.text.toPlainText() == (
        "Mara: (into the radio) Mayday relay, mayday relay. Vessel in distress off Black "
        "Head.\nRadio (V.O.): Copy, Black Head. Lifeboat launching."
    )
    assert view.text.isReadOnly()
    assert view.timing.text() == f"About 6.5 s of lines in a {radio.duration:g} s shot"

    imported.push(set_field(radio, "duration", 3.0))
    assert "longer than the shot (3 s)" in view.timing.text()
    assert "color" in view.timing.styleSheet()
    imported.undo_stack.undo()
    assert view.timing.styleSheet() == ""

    imported.set_current_shot(shots[0].id)  # an establishing shot: nothing is said
    assert not view.isVisible()
