"""What an edit changed, found by comparing the project with how it was."""

from __future__ import annotations

from studio.commands import InsertItem, add_shot, move_shot, set_field
from studio.jobs import GenerationRequest
from studio.project.changes import ProjectSnapshot
from studio.project.model import Character, Project, Take


def project_of(n: int = 3) -> Project:
    project = Project()
    project.shots = [project.new_shot(id=f"s{i}", title=f"Shot {i}") for i in range(n)]
    return project


def take_for(prompt: str) -> Take:
    request = GenerationRequest(prompt=prompt, model_id="previz", width=64, height=48, frames=9)
    return Take(request.hash, request, f"takes/{request.hash}.mp4", "2024-01-01T00:00:00Z")


def test_nothing_changed_says_nothing():
    project = project_of()
    assert not ProjectSnapshot(project).compare()


def test_a_field_edit_names_the_shot_and_the_field_and_its_undo_the_same():
    project = project_of()
    snapshot = ProjectSnapshot(project)
    command = set_field(project.shots[1], "prompt", "a lamp")
    command.do()
    done = snapshot.compare()
    assert done.shots == {"s1": frozenset({"prompt"})}
    assert not (done.order or done.timeline or done.bible or done.settings)
    command.undo()
    assert snapshot.compare() == done
    assert not snapshot.compare()  # the snapshot follows the project


def test_a_take_added_in_place_is_a_takes_change():
    project = project_of()
    snapshot = ProjectSnapshot(project)
    shot = project.shots[0]
    InsertItem(shot.takes, 0, take_for("storm")).do()
    changes = snapshot.compare()
    assert changes.shots == {"s0": frozenset({"takes"})}
    assert changes.takes() == ["s0"]


def test_shots_added_or_moved_change_the_order_and_a_clip_changes_the_timeline():
    project = project_of()
    snapshot = ProjectSnapshot(project)
    move_shot(project, 0, 2).do()
    moved = snapshot.compare()
    assert moved.order and not moved.shots and not moved.timeline
    add_shot(project, project.new_shot(id="s9"), clip=True).do()
    added = snapshot.compare()
    assert added.order and added.timeline and not added.shots


def test_the_bible_and_the_settings_are_told_apart():
    project = project_of()
    project.characters = [Character(id="keeper", name="Keeper")]
    snapshot = ProjectSnapshot(project)
    project.characters[0].description = "an old man"  # edited in place
    assert snapshot.compare().bible
    set_field(project, "title", "Lighthouse").do()
    changes = snapshot.compare()
    assert changes.settings and not changes.bible and not changes.shots


def test_a_move_and_an_edit_at_once_report_both_and_a_removed_shot_is_forgotten():
    project = project_of(5)
    snapshot = ProjectSnapshot(project)
    moved = project.shots.pop(0)
    project.shots.append(moved)
    moved.prompt = "a lamp"  # the moved shot changed too
    project.shots[1].notes = "by the window"
    changes = snapshot.compare()
    assert changes.order
    assert changes.shots == {"s0": frozenset({"prompt"}), "s2": frozenset({"notes"})}
    gone = project.shots.pop(2)
    assert snapshot.compare().order
    project.shots.insert(0, gone)  # back, unchanged since it left
    again = snapshot.compare()
    assert again.order and not again.shots
    assert not snapshot.compare()
