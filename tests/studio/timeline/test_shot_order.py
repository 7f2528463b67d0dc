"""The edit beside the storyboard: one order until the timeline is rearranged on purpose,
clips that follow their shot's length until trimmed, and the commands that keep both."""

from __future__ import annotations

from fractions import Fraction

import pytest

from studio.commands import (
    Macro,
    add_shot,
    apply,
    match_edit_to_storyboard,
    move_shot,
    set_field,
    set_shot_duration,
)
from studio.errors import EditError
from studio.project.model import Project, Shot, project_from_dict, project_to_dict
from studio.timeline.shot_order import edit_order, fit_to_shot, follows, in_story_order
from studio.timeline.timeline import (
    Clip,
    Gap,
    Timeline,
    Transition,
    TransitionKind,
    timeline_from_dict,
    timeline_to_dict,
)


def story(*seconds: float) -> Project:
    """Shots s0, s1, ... of these lengths, each with its clip, as the storyboard adds them."""
    project = Project(fps=Fraction(24))
    for k, length in enumerate(seconds):
        apply(add_shot(project, Shot(id=f"s{k}", duration=length), clip=True))
    return project


def shots(project: Project) -> list[str]:
    return [s.id for s in project.shots]


def clip_shots(project: Project) -> list[str]:
    return [c.shot_id for c in project.timeline.clips()]


def clip_of(project: Project, shot_id: str) -> Clip:
    return next(c for c in project.timeline.clips() if c.shot_id == shot_id)


def xf(frames: int) -> Transition:
    return Transition(TransitionKind.CROSSFADE, frames)


# -- following the storyboard's order ------------------------------------------------------


def test_split_clips_and_gaps_count_as_one_run_per_shot():
    tl = Timeline(
        items=(
            Gap("g0", 5),
            Clip("a1", "a", None, 0, 10),
            Gap("g1", 3),
            Clip("a2", "a", None, 10, 20),
            Clip("b1", "b", None, 0, 10),
        )
    )
    assert edit_order(tl) == ["a", "b"]
    assert follows(tl, ["a", "b"])
    assert follows(tl, ["x", "a", "y", "b"])  # shots without clips do not count
    assert not follows(tl, ["b", "a"])


def test_an_intercut_shot_does_not_follow_and_story_order_gathers_it():
    tl = Timeline(
        items=(
            Clip("a1", "a", None, 0, 10),
            Clip("b1", "b", None, 0, 10),
            Gap("gap", 4),
            Clip("a2", "a", None, 10, 20),
        )
    )
    assert edit_order(tl) == ["a", "b", "a"]
    assert not follows(tl, ["a", "b"])
    ordered = in_story_order(tl, ["a", "b"])
    assert [i.id for i in ordered.items] == ["a1", "a2", "b1", "gap"]  # the gap goes with b1
    assert follows(ordered, ["a", "b"])
    assert in_story_order(ordered, ["a", "b"]) is ordered  # nothing moves: the same timeline


def test_story_order_keeps_a_leading_gap_first_and_resets_transitions_that_lose_their_clip():
    tl = Timeline(
        items=(
            Gap("lead", 6),
            Clip("b", "b", None, 0, 24),
            Clip("a", "a", None, 0, 24, xf(12)),
        )
    )
    ordered = in_story_order(tl, ["a", "b"])
    assert [i.id for i in ordered.items] == ["lead", "a", "b"]
    # "a" now follows a gap: its crossfade has no clip before it and becomes a cut.
    assert ordered.item("a").transition == Transition()
    assert ordered.duration == 6 + 48


def test_moving_a_shot_moves_its_clip_in_the_same_step_and_undo_restores_both():
    project = story(2, 3, 4)
    before = project.timeline
    command = apply(move_shot(project, 0, 2))
    assert isinstance(command, Macro)
    assert shots(project) == ["s1", "s2", "s0"]
    assert clip_shots(project) == ["s1", "s2", "s0"]
    command.undo()
    assert shots(project) == ["s0", "s1", "s2"] and project.timeline == before
    command.do()
    assert clip_shots(project) == ["s1", "s2", "s0"]


def test_a_rearranged_edit_keeps_its_order_when_shots_move_until_matched():
    project = story(2, 3, 4)
    apply(set_field(project, "timeline", project.timeline.move(2, 0)))  # the user's own cut
    assert clip_shots(project) == ["s2", "s0", "s1"]
    apply(move_shot(project, 0, 1))
    assert shots(project) == ["s1", "s0", "s2"]
    assert clip_shots(project) == ["s2", "s0", "s1"]  # untouched
    command = match_edit_to_storyboard(project)
    assert command is not None and command.text == "Match edit to storyboard"
    apply(command)
    assert clip_shots(project) == ["s1", "s0", "s2"]
    assert match_edit_to_storyboard(project) is None  # nothing left to match
    command.undo()
    assert clip_shots(project) == ["s2", "s0", "s1"]


def test_an_added_shot_brings_its_clip_where_the_story_puts_it():
    project = story(2, 3)
    apply(add_shot(project, Shot(id="mid", duration=1), 1, clip=True))
    assert clip_shots(project) == ["s0", "mid", "s1"]
    assert follows(project.timeline, shots(project))


# -- following the shot's length ------------------------------------------------------------


def test_a_duration_change_reaches_the_untrimmed_clip_in_one_undo_step():
    project = story(4, 2)
    assert clip_of(project, "s0").duration == 96
    shot = project.shots[0]
    command = apply(set_shot_duration(project, shot, 2.0))
    assert shot.duration == 2.0
    assert (clip_of(project, "s0").source_in, clip_of(project, "s0").source_out) == (0, 48)
    assert project.timeline.duration == 48 + 48
    command.undo()
    assert shot.duration == 4 and clip_of(project, "s0").duration == 96


def test_set_field_with_the_project_carries_the_clip_and_merges_a_held_spin_box():
    project = story(4)
    shot = project.shots[0]
    first = apply(set_field(shot, "duration", 3.0, merge=True, project=project))
    for seconds in (2.5, 2.0, 1.5):
        later = apply(set_field(shot, "duration", seconds, merge=True, project=project))
        assert first.merge_with(later)
    assert clip_of(project, "s0").duration == 36
    first.undo()
    assert shot.duration == 4 and clip_of(project, "s0").duration == 96
    first.do()
    assert clip_of(project, "s0").duration == 36
    # Back where it started: the merged step changes nothing and can be dropped.
    assert first.merge_with(apply(set_field(shot, "duration", 4.0, merge=True, project=project)))
    assert first.is_obsolete()


def test_a_trimmed_clip_keeps_its_range_when_the_shot_changes_length():
    project = story(4, 4)
    tl = project.timeline.trim("clip-s0", source_out=60)
    assert tl.item("clip-s0").trimmed
    apply(set_field(project, "timeline", tl))
    apply(set_shot_duration(project, project.shots[0], 2.0))
    assert (clip_of(project, "s0").source_in, clip_of(project, "s0").source_out) == (0, 60)


def test_trims_rolls_and_splits_mark_their_clips_trimmed():
    tl = Timeline(items=(Clip("a", "a", None, 0, 48), Clip("b", "b", None, 0, 48)))
    assert not any(c.trimmed for c in tl.clips())
    rolled = tl.roll(1, 6)
    assert rolled.item("a").trimmed and rolled.item("b").trimmed
    split = tl.split(20, "a-2")
    assert split.item("a").trimmed and split.item("a-2").trimmed
    assert not split.item("b").trimmed


def test_a_shorter_shot_drops_a_transition_that_no_longer_fits():
    tl = Timeline(items=(Clip("a", "a", None, 0, 48), Clip("b", "b", None, 0, 48, xf(24))))
    shorter = fit_to_shot(tl, "a", 12)
    assert shorter.item("a").duration == 12
    assert shorter.item("b").transition == Transition()
    kept = fit_to_shot(tl, "a", 30)
    assert kept.item("b").transition == xf(24)
    assert fit_to_shot(tl, "a", 48) is tl


def test_a_non_positive_duration_is_refused():
    project = story(2)
    with pytest.raises(EditError):
        set_shot_duration(project, project.shots[0], 0)


def test_the_trimmed_flag_is_saved_and_old_files_read_as_untrimmed():
    tl = Timeline(items=(Clip("a", "a", None, 0, 48, trimmed=True), Clip("b", "b", None, 0, 9)))
    data = timeline_to_dict(tl)
    assert data["items"][0]["trimmed"] is True and "trimmed" not in data["items"][1]
    assert timeline_from_dict(data) == tl
    del data["items"][0]["trimmed"]
    assert not timeline_from_dict(data).item("a").trimmed


def test_a_project_round_trips_with_its_trimmed_clips():
    project = story(4, 2)
    project.timeline = project.timeline.trim("clip-s1", source_in=4)
    again = project_from_dict(project_to_dict(project))
    assert again.timeline == project.timeline and again.timeline.item("clip-s1").trimmed
