"""The document says what each edit changed, and each panel hears only what it shows: a
prompt typed into one shot repaints that shot's card alone and leaves the timeline, the
other cards and the takes list as they were; undo and redo say the same as the edit."""

from __future__ import annotations

from collections import Counter
from functools import wraps
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QTextCursor

from studio.commands import add_shot, add_take, set_field
from studio.jobs import GenerationRequest
from studio.project.io import ProjectSession, copy_project, load_project
from studio.project.model import Take
from ui.app import StudioWindow
from ui.document import Document
from ui.takes.takes_panel import TakesPanel
from ui.timeline.timeline_view import TimelineView

EXAMPLE = Path(__file__).resolve().parents[2] / "assets" / "examples" / "Lighthouse.gallop"
SIGNALS = (
    "shotsChanged",
    "shotChanged",
    "takesChanged",
    "timelineChanged",
    "bibleChanged",
    "projectSettingsChanged",
    "statusChanged",
    "currentShotChanged",
)


def record(document: Document) -> list[tuple]:
    """Every announcement of the document, in order, with its arguments."""
    heard: list[tuple] = []
    for name in SIGNALS:
        getattr(document, name).connect(lambda *args, name=name: heard.append((name, *args)))
    return heard


def spy(monkeypatch, cls, name: str, calls: Counter) -> None:
    """Count the calls of `cls.name`; set before the panel connects its slots."""
    original = getattr(cls, name)

    @wraps(original)
    def counted(self, *args, **kwargs):
        calls[f"{cls.__name__}.{name}"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, counted)


@pytest.fixture
def calls(monkeypatch) -> Counter:
    calls: Counter = Counter()
    spy(monkeypatch, TimelineView, "_timeline_changed", calls)
    spy(monkeypatch, TimelineView, "_shots_changed", calls)
    spy(monkeypatch, TimelineView, "invalidate", calls)
    spy(monkeypatch, TakesPanel, "refresh", calls)
    return calls


@pytest.fixture
def window(qtbot, tmp_path, calls):
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = StudioWindow(load_project(folder), ProjectSession(folder), settings=settings)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win._closing_confirmed = True
    win.close()


def take_for(shot) -> Take:
    request = GenerationRequest(
        prompt=shot.prompt, model_id="previz", width=64, height=48, frames=9
    )
    return Take(request.hash, request, f"takes/{shot.id}.mp4", "2024-01-01T00:00:00Z")


def test_typing_a_prompt_repaints_its_card_alone(qtbot, window, calls):
    document = window.document
    model = window.storyboard.model
    window.storyboard.show_shot("keeper")
    qtbot.waitUntil(lambda: document.current_shot_id == "keeper")
    heard = record(document)
    rows: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda first, last, *_: rows.append((first.row(), last.row())))
    calls.clear()

    editor = window.prompt_panel.prompt_edit
    editor.setFocus()
    editor.moveCursor(QTextCursor.End)
    with qtbot.waitSignal(document.shotChanged):
        qtbot.keyClicks(editor, " and gulls")

    assert document.current_shot.prompt.endswith(" and gulls")
    keeper = model.row_of("keeper")
    assert set(rows) == {(keeper, keeper)}  # no other card re-derives its look
    assert not calls  # neither the timeline nor the takes list heard of it
    assert {event[0] for event in heard} == {"shotChanged", "statusChanged"}
    assert {event[1] for event in heard if event[0] == "shotChanged"} == {"keeper"}
    assert all(event[2] == frozenset({"prompt"}) for event in heard if event[0] == "shotChanged")


def test_undo_and_redo_announce_what_the_edit_did(window):
    document = window.document
    heard = record(document)
    document.push(set_field(document.project.shot("lamp"), "title", "The lamp lit"))
    edit = list(heard)
    assert edit == [
        ("shotChanged", "lamp", frozenset({"title"})),
        ("statusChanged", ["lamp"]),
    ]
    heard.clear()
    document.undo_stack.undo()
    assert heard == edit
    heard.clear()
    document.undo_stack.redo()
    assert heard == edit


def test_a_shot_with_its_clip_changes_the_shots_and_the_timeline_and_undo_the_same(window, calls):
    document = window.document
    heard = record(document)
    calls.clear()
    project = document.project
    document.push(add_shot(project, project.new_shot(title="Gulls"), clip=True))
    edit = [event[0] for event in heard]
    assert edit == ["shotsChanged", "timelineChanged", "statusChanged"]
    assert calls["TimelineView._timeline_changed"] == 1
    assert calls["TimelineView._shots_changed"] == 1
    assert window.storyboard.model.rowCount() == len(project.shots)
    heard.clear()
    document.undo_stack.undo()
    assert [event[0] for event in heard] == edit
    assert window.storyboard.model.rowCount() == len(project.shots)


def test_a_take_of_a_shot_makes_the_shots_chained_after_it_stale_and_no_others(window, calls):
    document = window.document
    for shot in document.project.shots:
        document.shot_status(shot)  # every status known
    heard = record(document)
    calls.clear()
    ship = document.project.shot("ship")  # "dawn" continues from it
    document.push(add_take(ship, take_for(ship)))
    assert ("takesChanged", "ship") in heard
    assert ("statusChanged", ["ship", "dawn"]) in heard
    assert calls["TakesPanel.refresh"] == 0  # the takes list shows another shot
    assert document.statuses._status.keys() == {"storm", "tower", "keeper", "lamp"}


def test_the_takes_list_hears_the_takes_of_its_shot(qtbot, window, calls):
    document = window.document
    window.storyboard.show_shot("ship")
    qtbot.waitUntil(lambda: document.current_shot_id == "ship")
    calls.clear()
    ship = document.project.shot("ship")
    document.push(add_take(ship, take_for(ship)))
    assert calls["TakesPanel.refresh"] == 1
    assert window.takes_panel.take_ids() == [ship.takes[0].id]
