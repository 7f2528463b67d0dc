"""Keyframes inside a shot and ending on the next shot's start picture: kept in the project
only when set, validated, and in the request only for a model that takes them (each
keyframe's hash at its frame); any other model says what it leaves out."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from studio.errors import EditError, ProjectError
from studio.jobs import GenerationRequest
from studio.project.keyframes import ShotKeyframe, with_keyframe, without_keyframe
from studio.project.model import (
    Character,
    Project,
    project_from_dict,
    project_to_dict,
    shot_from_dict,
    shot_to_dict,
)
from studio.render_plan import ModelRules, plan_shot, request_changes


class Files:
    """Project files as a planner sees them: each hash names its file."""

    def file_hash(self, relative_path: str) -> str:
        return f"hash of {relative_path}"

    def continuity_source(self, take) -> str:
        return take.id

    def lora_hash(self, file: str) -> str:
        return "0" * 64


def rules(**fields) -> ModelRules:
    base = dict(
        id="m",
        name="Model M",
        backend="diffusers",
        fps=Fraction(16),
        frame_multiple=4,
        size_multiple=16,
        max_frames=81,
        steps=2,
    )
    base.update(fields)
    return ModelRules(**base)


FRAMES = rules(last_frame=True, middle_frames=True)  # VACE, LTX-Video 0.9.8, the previz
FIRST_LAST = rules(name="First-last", last_frame=True)  # Wan FLF2V
PLAIN = rules(name="Plain")


def project(*shots: dict) -> Project:
    project = Project(fps=Fraction(16), width=64, height=64)
    project.shots = [
        project.new_shot(id=f"s{i}", prompt="sea", duration=2.0, **fields)
        for i, fields in enumerate(shots)
    ]
    return project


def plan(project: Project, model: ModelRules, index: int = 0):
    return plan_shot(project, project.shots[index], model, Files())


# --- the project ----------------------------------------------------------------------------


def test_keyframes_and_end_on_next_are_saved_only_when_set():
    keys = (ShotKeyframe(1.0, "media/mid.png"), ShotKeyframe(0.5, "media/early.png"))
    shots = project({"keyframes": with_keyframe(keys, 1.5, "media/late.png"), "end_on_next": True})
    data = shot_to_dict(shots.shots[0])
    assert data["keyframes"] == [
        {"time": 0.5, "image": "media/early.png"},
        {"time": 1.0, "image": "media/mid.png"},
        {"time": 1.5, "image": "media/late.png"},
    ]
    assert data["end_on_next"] is True
    again = shot_from_dict(json.loads(json.dumps(data)), "$.shots[0]")
    assert again.keyframes == shots.shots[0].keyframes and again.end_on_next
    assert {"media/early.png", "media/mid.png", "media/late.png"} <= shots.media_paths()


def test_an_old_project_loads_and_saves_unchanged():
    old = project_to_dict(project({"keyframe": "media/a.png"}, {}))
    assert "keyframes" not in old["shots"][0] and "end_on_next" not in old["shots"][0]
    loaded = project_from_dict(json.loads(json.dumps(old)))
    assert loaded.shots[0].keyframes == () and not loaded.shots[0].end_on_next
    assert project_to_dict(loaded) == old


@pytest.mark.parametrize(
    ("keyframes", "problem"),
    [
        ([{"time": -1, "image": "media/a.png"}], "keyframes[0].time"),
        ([{"time": 1, "image": "../a.png"}], "keyframes[0].image"),
        ([{"time": 1, "image": "/etc/passwd"}], "keyframes[0].image"),
        ([{"time": 1, "image": "a.png", "speed": 2}], "keyframes[0]"),
        ([{"time": 1, "image": "a.png"}, {"time": 1.0, "image": "b.png"}], "two keyframes at 1 s"),
        ("media/a.png", "keyframes"),
    ],
)
def test_bad_keyframes_are_refused_with_their_path(keyframes, problem):
    data = shot_to_dict(project({}).shots[0])
    data["keyframes"] = keyframes
    with pytest.raises(ProjectError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        shot_from_dict(data, "$.shots[0]")


def test_a_keyframe_at_a_time_replaces_the_one_there_and_can_be_removed():
    keys = with_keyframe((), 1.0, "media/a.png")
    keys = with_keyframe(keys, 1.0, "media/b.png")
    assert keys == (ShotKeyframe(1.0, "media/b.png"),)
    assert without_keyframe(keys, 1.0) == ()
    assert without_keyframe(keys, 2.0) == keys
    with pytest.raises(EditError, match="0 to 3600"):
        with_keyframe(keys, float("nan"), "media/c.png")


# --- the request ----------------------------------------------------------------------------


def test_keyframes_inside_the_shot_enter_the_request_at_their_frames():
    keys = (ShotKeyframe(0.5, "media/a.png"), ShotKeyframe(1.25, "media/b.png"))
    shots = project({"keyframe": "media/start.png", "keyframes": keys})
    planned = plan(shots, FRAMES)
    request = planned.request
    assert request.frames == 33  # two seconds at 16 fps, on the 4n+1 rule
    assert request.middle_keyframes == ((8, "hash of media/a.png"), (20, "hash of media/b.png"))
    assert planned.middle == ((8, "media/a.png"), (20, "media/b.png"))
    again = GenerationRequest.from_dict(json.loads(request.canonical_json()))
    assert again == request and again.hash == request.hash
    plain = plan(project({"keyframe": "media/start.png"}), FRAMES).request
    assert "middle_keyframes" not in plain.to_dict()  # earlier takes keep their hashes
    assert plain.hash != request.hash
    assert request_changes(plain, request) == ("keyframes inside the shot changed",)


@pytest.mark.parametrize(
    ("model", "said"),
    [
        (PLAIN, "keyframes inside the shot not used: Plain takes only a start picture"),
        (FIRST_LAST, "not used: First-last takes only a start and an end picture"),
    ],
)
def test_a_model_that_cannot_take_them_says_so_and_keeps_its_hash(model, said):
    keyed = project({"keyframe": "media/s.png", "keyframes": (ShotKeyframe(1, "media/m.png"),)})
    planned = plan(keyed, model)
    assert any(said in note for note in planned.notes), planned.notes
    assert planned.request.middle_keyframes == () and planned.middle == ()
    plain = project({"keyframe": "media/s.png"})
    assert planned.request.hash == plan(plain, model).request.hash


def test_keyframes_off_the_clip_are_left_out_with_a_reason():
    keys = (
        ShotKeyframe(0.0, "media/first.png"),
        ShotKeyframe(1.0, "media/one.png"),
        ShotKeyframe(1.01, "media/same-frame.png"),
        ShotKeyframe(2.0, "media/last.png"),
        ShotKeyframe(9.0, "media/late.png"),
    )
    planned = plan(project({"keyframes": keys, "end_keyframe": "media/end.png"}), FRAMES)
    assert planned.middle == ((16, "media/one.png"),)
    notes = "\n".join(planned.notes)
    assert "keyframe at 0 s not used: it is the first frame" in notes
    assert "keyframe at 1.01 s not used: another keyframe is at frame 16" in notes
    assert "keyframe at 2 s not used: the end picture is shown at that frame" in notes
    assert "keyframe at 9 s not used: the shot ends at 2.0625 s" in notes


# --- ending on the next shot's start picture -----------------------------------------------


def test_a_shot_can_end_on_the_next_shots_start_picture():
    shots = project({"end_on_next": True, "end_keyframe": "media/own.png"}, {"keyframe": "n.png"})
    planned = plan(shots, FIRST_LAST)
    assert planned.end_keyframe == "n.png"
    assert planned.request.end_keyframe_hash == "hash of n.png"
    shots.shots[1].keyframe = "other.png"  # the next shot's picture changes: so does this take
    assert plan(shots, FIRST_LAST).request.hash != planned.request.hash


def test_the_next_shots_character_picture_counts_as_its_start():
    shots = project({"end_on_next": True}, {"characters": ["mara"]})
    shots.characters = [Character("mara", "Mara", references=["media/mara.png"])]
    assert plan(shots, FIRST_LAST).end_keyframe == "media/mara.png"


def test_no_next_start_picture_is_said():
    last = project({}, {"end_on_next": True})
    assert "last shot: no next shot to end on" in plan(last, FIRST_LAST, 1).notes
    bare = project({"end_on_next": True, "title": "Sea"}, {"title": "Cliff"})
    planned = plan(bare, FIRST_LAST)
    assert "the next shot 'Cliff' has no start picture to end on" in planned.notes
    assert planned.request.end_keyframe_hash is None


# --- reference images ------------------------------------------------------------------------


def test_a_model_that_takes_references_gets_the_characters_pictures_too():
    shots = project({"characters": ["mara"], "references": ["media/boat.png"]})
    shots.characters = [Character("mara", "Mara", references=["media/mara.png", "media/boat.png"])]
    vace = plan(shots, rules(reference_images=True))
    assert vace.references == ("media/boat.png", "media/mara.png")
    assert vace.request.reference_hashes == ("hash of media/boat.png", "hash of media/mara.png")
    other = plan(shots, PLAIN)
    assert other.references == ("media/boat.png",)
    assert other.request.reference_hashes == ("hash of media/boat.png",)
