"""The command line and the window change a project through the same commands: the same
edit gives the same project wherever it is made."""

from __future__ import annotations

import copy
import itertools
import uuid

from engine.render import batch
from engine.script_import import storyboard
from studio import ids
from studio.commands import add_shot, set_timeline
from studio.jobs import GenerationRequest
from studio.project.model import Project, Shot, Take, project_to_dict
from studio.script.fountain import parse
from studio.script.plan import plan_storyboard, with_transitions
from tests.engine.test_plan_cli import COASTGUARD
from ui.bridge import EngineBridge, JobInfo
from ui.document import Document


def take(seed: int) -> Take:
    request = GenerationRequest(
        prompt="waves", model_id="previz", width=64, height=48, frames=9, seed=seed
    )
    return Take(request.hash, request, f"takes/{request.hash}.mp4", "2026-11-21T00:00:00+00:00")


def test_recording_takes_gives_the_same_project_in_the_window_and_on_the_command_line(
    qtbot, tmp_path
):
    cli = Project(shots=[Shot(id="a"), Shot(id="b", selected_take=None)])
    window = copy.deepcopy(cli)
    document = Document(window, tmp_path)
    bridge = EngineBridge(document, engine_factory=lambda store, sink: None)
    first, second = take(1), take(2)
    # A variation first (selected all the same: the shot has none), another variation,
    # then the shot's own seed, then a take the shot already has.
    steps = [("a", first, False), ("a", second, False), ("a", second, True), ("b", first, False)]
    steps += [("a", first, False), ("b", first, True)]
    for shot_id, result, select in steps:
        batch.record_take(cli.shot(shot_id), result, select=select)
        info = JobInfo(id="job", shot_id=shot_id, label="", request=result.request, select=select)
        bridge._finished(info, result)
        assert project_to_dict(window) == project_to_dict(cli)
    assert cli.shot("a").selected_take == second.id
    assert [t.id for t in cli.shot("a").takes] == [first.id, second.id]
    assert document.undo_stack.count() == 4  # the edits that changed something


def counting_ids(monkeypatch) -> None:
    numbers = itertools.count()
    # The count in the leading digits, which are the ones an id keeps: every id differs.
    monkeypatch.setattr(ids, "uuid4", lambda: uuid.UUID(int=next(numbers) << 88))


def test_a_planned_script_gives_the_storyboard_the_window_builds_shot_by_shot(
    tmp_path, monkeypatch
):
    source = COASTGUARD.read_bytes()
    counting_ids(monkeypatch)
    cli = Project(title="The Coastguard")
    storyboard(source, COASTGUARD, cli)

    counting_ids(monkeypatch)
    window = Project(title="The Coastguard")
    board = plan_storyboard(parse(source), window)
    for i, shot in enumerate(board.shots):
        shot.seed = 1000 + i
    document = Document(window, tmp_path)
    with document.macro("Storyboard"):
        for shot in board.shots:
            document.push(add_shot(window, shot, clip=True))
        timeline, _ = with_transitions(window.timeline, board.shots, board.transitions)
        document.push(set_timeline(window, timeline, "Transitions"))
    assert project_to_dict(window) == project_to_dict(cli)
    assert any(c.transition.frames for c in window.timeline.clips())
    document.undo_stack.undo()
    assert not window.shots and not window.timeline.items
