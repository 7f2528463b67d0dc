"""Edits as commands: do/undo/redo, merging of slider drags, macros, the recorded take."""

from __future__ import annotations

import pytest

from studio.commands import (
    Command,
    InsertItem,
    Macro,
    MoveItem,
    RemoveItem,
    SetAttribute,
    add_shot,
    apply,
    move_shot,
    pick_take,
    record_take,
    remove_shot,
    set_field,
)
from studio.errors import EditError
from studio.jobs import GenerationRequest
from studio.project.model import Project, Shot, Take


def make_project(n: int = 3) -> Project:
    return Project(shots=[Shot(id=f"s{i}", title=f"Shot {i}") for i in range(n)])


def ids(project: Project) -> list[str]:
    return [s.id for s in project.shots]


def test_undo_then_redo_restores_each_state():
    project = make_project()
    states = [ids(project)]
    done: list[Command] = []
    for build in (
        lambda: add_shot(project, Shot(id="new"), 1),
        lambda: move_shot(project, 0, 3),
        lambda: remove_shot(project, 2),
    ):
        done.append(apply(build()))
        states.append(ids(project))
    assert states[-1] == ["new", "s1", "s0"]
    for command, expected in zip(reversed(done), reversed(states[:-1]), strict=True):
        command.undo()
        assert ids(project) == expected
    for command, expected in zip(done, states[1:], strict=True):
        command.do()
        assert ids(project) == expected


def test_a_slider_drag_merges_into_one_command_and_a_drag_back_is_obsolete():
    shot = Shot(id="s", seed=1)
    first = apply(set_field(shot, "seed", 2, merge=True))
    for value in range(3, 40):
        assert first.merge_with(apply(set_field(shot, "seed", value, merge=True)))
    assert shot.seed == 39
    first.undo()
    assert shot.seed == 1
    first.do()
    assert shot.seed == 39
    assert first.merge_with(apply(set_field(shot, "seed", 1, merge=True)))
    assert first.is_obsolete()


def test_edits_merge_only_with_the_same_field_of_the_same_object_when_asked():
    shot, other = Shot(id="s", seed=1, duration=5.0), Shot(id="o", seed=1)
    seed = set_field(shot, "seed", 2, merge=True)
    assert not seed.merge_with(set_field(shot, "duration", 3.0, merge=True))
    assert not seed.merge_with(set_field(other, "seed", 3, merge=True))
    assert not set_field(shot, "seed", 2).merge_with(set_field(shot, "seed", 3))


def test_a_macro_does_and_undoes_its_commands_in_order():
    project = make_project(2)
    macro = Macro("Add one", [add_shot(project, Shot(id="a")), set_field(project, "title", "Two")])
    apply(macro)
    assert ids(project) == ["s0", "s1", "a"] and project.title == "Two"
    macro.undo()
    assert ids(project) == ["s0", "s1"] and project.title == "Untitled"
    assert not macro.is_obsolete()
    assert Macro("nothing", [move_shot(project, 1, 1)]).is_obsolete()


def test_a_recorded_take_joins_its_shot_and_is_selected_by_the_one_rule():
    shot = Shot(id="s")
    first, second = (
        Take(r.hash, r, f"takes/{r.hash}.mp4", "2026-11-21T00:00:00+00:00")
        for r in (
            GenerationRequest(
                prompt="waves", model_id="previz", width=64, height=48, frames=9, seed=s
            )
            for s in (1, 2)
        )
    )
    # A variation is still selected when the shot has none selected yet.
    apply(record_take(shot, first, select=False))
    assert [t.id for t in shot.takes] == [first.id] and shot.selected_take == first.id
    apply(record_take(shot, second, select=False))
    assert [t.id for t in shot.takes] == [first.id, second.id] and shot.selected_take == first.id
    assert record_take(shot, second, select=False) is None
    apply(record_take(shot, second, select=True))
    assert shot.selected_take == second.id and len(shot.takes) == 2
    assert record_take(shot, second, select=True) is None


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


def test_a_deleted_shot_takes_its_clips_off_the_timeline_and_undo_restores_both():
    from studio.project.model import Project, project_from_dict, project_to_dict
    from studio.timeline.timeline import Clip, Timeline

    project = Project()
    for name in ("a", "b", "c"):
        project.shots.append(project.new_shot(id=name, duration=1.0))
    clips = [Clip(f"clip-{n}", n, None, 0, 24) for n in ("a", "b", "c")]
    project.timeline = Timeline(fps=project.fps, items=tuple(clips))
    before = project_to_dict(project)
    command = apply(remove_shot(project, 1))
    assert [s.id for s in project.shots] == ["a", "c"]
    assert [c.shot_id for c in project.timeline.clips()] == ["a", "c"]
    assert project.timeline.duration == 48
    project_from_dict(project_to_dict(project))  # still a valid project
    command.undo()
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
    command = apply(add_shot(project, project.new_shot(id="n", duration=2.0), 1, clip=True))
    assert [s.id for s in project.shots] == ["a", "n", "b"]
    assert [(c.shot_id, c.duration) for c in project.timeline.clips()] == [
        ("a", 24),
        ("n", 48),
        ("b", 24),
    ]
    command.undo()
    assert [s.id for s in project.shots] == ["a", "b"]
    assert [c.shot_id for c in project.timeline.clips()] == ["a", "b"]


def variations_of(shot: Shot, count: int) -> list[Take]:
    """Takes as a render of `count` variations makes them: seeds counting up from the
    shot's, nothing else changed."""
    takes = []
    for n in range(count):
        request = GenerationRequest(
            prompt="waves", model_id="previz", width=64, height=48, frames=9, seed=shot.seed + n
        )
        takes.append(Take(request.hash, request, f"takes/{request.hash}.mp4", "2026-11-21"))
    shot.takes = list(takes)
    shot.selected_take = takes[0].id
    return takes


def test_picking_a_variation_adopts_its_seed_in_one_undo_step():
    shot = Shot(id="s", seed=1000)
    first, second, third = variations_of(shot, 3)
    command = apply(pick_take(shot, third.id))
    assert command.text == "Pick take"
    assert (shot.selected_take, shot.seed) == (third.id, 1002)
    command.undo()
    assert (shot.selected_take, shot.seed) == (first.id, 1000)
    command.do()
    assert (shot.selected_take, shot.seed) == (third.id, 1002)
    # Back to the first: the shot's seed follows the take picked.
    apply(pick_take(shot, first.id))
    assert (shot.selected_take, shot.seed) == (first.id, 1000)
    assert pick_take(shot, first.id) is None  # nothing left to change


def test_picking_the_selected_take_again_restores_its_seed():
    shot = Shot(id="s", seed=7)
    (take,) = variations_of(shot, 1)
    shot.seed = 99  # the seed was edited after the render
    command = apply(pick_take(shot, take.id))
    assert [c.name for c in command.commands] == ["seed"]
    assert shot.seed == 7 and shot.selected_take == take.id


def test_picking_a_take_the_shot_lacks_is_an_edit_error():
    shot = Shot(id="s", title="Storm")
    variations_of(shot, 1)
    with pytest.raises(EditError, match="Storm"):
        pick_take(shot, "f" * 64)
