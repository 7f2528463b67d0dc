"""The undo stack: do/undo/redo, merging of slider drags, macros, the clean state."""

from __future__ import annotations

import pytest

from studio.commands import (
    InsertItem,
    MoveItem,
    RemoveItem,
    SetAttribute,
    UndoStack,
    add_shot,
    move_shot,
    remove_shot,
    set_field,
)
from studio.errors import EditError
from studio.project.model import Project, Shot


def make_project(n: int = 3) -> Project:
    return Project(shots=[Shot(id=f"s{i}", title=f"Shot {i}") for i in range(n)])


def ids(project: Project) -> list[str]:
    return [s.id for s in project.shots]


def test_undo_redo_restores_each_state():
    project = make_project()
    stack = UndoStack()
    states = [ids(project)]
    stack.push(add_shot(project, Shot(id="new"), 1))
    states.append(ids(project))
    stack.push(move_shot(project, 0, 3))
    states.append(ids(project))
    stack.push(remove_shot(project, 2))
    states.append(ids(project))
    assert states[-1] == ["new", "s1", "s0"]
    for expected in reversed(states[:-1]):
        stack.undo()
        assert ids(project) == expected
    assert not stack.can_undo
    for expected in states[1:]:
        stack.redo()
        assert ids(project) == expected
    assert not stack.can_redo


def test_push_after_undo_discards_the_redo_branch():
    project = make_project(1)
    stack = UndoStack()
    stack.push(set_field(project.shots[0], "title", "A"))
    stack.push(set_field(project.shots[0], "title", "B"))
    stack.undo()
    stack.push(set_field(project.shots[0], "title", "C"))
    assert not stack.can_redo
    assert len(stack) == 2
    stack.undo()
    assert project.shots[0].title == "A"


def test_slider_drag_merges_into_one_step():
    shot = Shot(id="s", seed=1)
    stack = UndoStack()
    for value in range(2, 40):
        stack.push(set_field(shot, "seed", value, merge=True))
    assert shot.seed == 39
    assert len(stack) == 1
    stack.undo()
    assert shot.seed == 1
    stack.redo()
    assert shot.seed == 39


def test_merge_stops_at_a_different_field_a_save_and_an_undo():
    shot = Shot(id="s", seed=1, duration=5.0)
    stack = UndoStack()
    stack.push(set_field(shot, "seed", 2, merge=True))
    stack.push(set_field(shot, "duration", 3.0, merge=True))
    stack.push(set_field(shot, "seed", 3, merge=True))
    assert len(stack) == 3
    stack.set_clean()
    stack.push(set_field(shot, "seed", 4, merge=True))
    assert len(stack) == 4
    stack.undo()
    assert stack.is_clean
    assert shot.seed == 3


def test_unmergeable_edits_stay_separate():
    shot = Shot(id="s", seed=1)
    stack = UndoStack()
    stack.push(set_field(shot, "seed", 2))
    stack.push(set_field(shot, "seed", 3))
    assert len(stack) == 2


def test_a_drag_back_to_the_start_leaves_no_step():
    shot = Shot(id="s", seed=1)
    stack = UndoStack()
    stack.push(set_field(shot, "seed", 5, merge=True))
    stack.push(set_field(shot, "seed", 1, merge=True))
    assert len(stack) == 0
    assert stack.is_clean


def test_macro_is_one_step_and_rolls_back_on_error():
    project = make_project(2)
    stack = UndoStack()
    with stack.macro("Add two"):
        stack.push(add_shot(project, Shot(id="a")))
        stack.push(add_shot(project, Shot(id="b")))
    assert len(stack) == 1
    assert stack.undo_text == "Add two"
    stack.undo()
    assert ids(project) == ["s0", "s1"]

    with pytest.raises(EditError), stack.macro("Broken"):
        stack.push(add_shot(project, Shot(id="c")))
        stack.push(remove_shot(project, 99))
    assert ids(project) == ["s0", "s1"]
    assert len(stack) == 1  # the earlier macro, undone, still redoable
    assert stack.can_redo


def test_nested_macros_form_one_step():
    project = make_project(0)
    stack = UndoStack()
    with stack.macro("outer"):
        stack.push(add_shot(project, Shot(id="a")))
        with stack.macro("inner"):
            stack.push(add_shot(project, Shot(id="b")))
    assert len(stack) == 1
    stack.undo()
    assert ids(project) == []


def test_clean_state_follows_undo_and_redo():
    shot = Shot(id="s")
    stack = UndoStack()
    assert stack.is_clean
    stack.push(set_field(shot, "title", "x"))
    assert not stack.is_clean
    stack.set_clean()
    assert stack.is_clean
    stack.undo()
    assert not stack.is_clean
    stack.redo()
    assert stack.is_clean
    stack.undo()
    stack.push(set_field(shot, "title", "y"))  # the saved state is now unreachable
    assert not stack.is_clean
    stack.undo()
    assert not stack.is_clean


def test_listeners_hear_every_change():
    calls = []
    stack = UndoStack()
    stack.add_listener(lambda: calls.append(stack.index))
    shot = Shot(id="s")
    stack.push(set_field(shot, "title", "x"))
    stack.undo()
    stack.redo()
    stack.set_clean()
    assert calls == [1, 0, 1, 1]


def test_limit_drops_the_oldest_steps():
    shot = Shot(id="s")
    stack = UndoStack(limit=3)
    for i in range(6):
        stack.push(set_field(shot, "seed", i))
    assert len(stack) == 3
    while stack.can_undo:
        stack.undo()
    assert shot.seed == 2
    assert not stack.is_clean


def test_invalid_edits_raise_edit_error():
    project = make_project(2)
    with pytest.raises(EditError):
        InsertItem(project.shots, 5, Shot(id="x"))
    with pytest.raises(EditError):
        RemoveItem(project.shots, 2)
    with pytest.raises(EditError):
        MoveItem(project.shots, 0, 2)
    with pytest.raises(EditError):
        set_field(project.shots[0], "no_such_field", 1)
    with pytest.raises(EditError):
        SetAttribute(project.shots[0], "nope", 1)
    with pytest.raises(EditError):
        UndoStack().end_macro()


def test_a_deleted_shot_takes_its_clips_off_the_timeline_and_undo_restores_both():
    from studio.project.model import Project, project_from_dict, project_to_dict
    from studio.timeline.timeline import Clip, Timeline

    project = Project()
    for name in ("a", "b", "c"):
        project.shots.append(project.new_shot(id=name, duration=1.0))
    clips = [Clip(f"clip-{n}", n, None, 0, 24) for n in ("a", "b", "c")]
    project.timeline = Timeline(fps=project.fps, items=tuple(clips))
    before = project_to_dict(project)
    stack = UndoStack()
    stack.push(remove_shot(project, 1))
    assert [s.id for s in project.shots] == ["a", "c"]
    assert [c.shot_id for c in project.timeline.clips()] == ["a", "c"]
    assert project.timeline.duration == 48
    project_from_dict(project_to_dict(project))  # still a valid project
    stack.undo()
    assert project_to_dict(project) == before


def test_a_shot_added_with_its_clip_lands_after_the_shot_before_it():
    from studio.project.model import Project
    from studio.timeline.timeline import Clip, Timeline

    project = Project()
    for name in ("a", "b"):
        project.shots.append(project.new_shot(id=name, duration=1.0))
    project.timeline = Timeline(
        fps=project.fps, items=(Clip("clip-a", "a", None, 0, 24), Clip("clip-b", "b", None, 0, 24))
    )
    stack = UndoStack()
    stack.push(add_shot(project, project.new_shot(id="n", duration=2.0), 1, clip=True))
    assert [s.id for s in project.shots] == ["a", "n", "b"]
    assert [(c.shot_id, c.duration) for c in project.timeline.clips()] == [
        ("a", 24),
        ("n", 48),
        ("b", 24),
    ]
    stack.undo()
    assert [s.id for s in project.shots] == ["a", "b"]
    assert [c.shot_id for c in project.timeline.clips()] == ["a", "b"]
