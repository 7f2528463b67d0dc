"""A shot's end keyframe: kept in the project only when set, part of the request's hash for a
model that can end on a given frame, and a note for one that cannot."""

from __future__ import annotations

from fractions import Fraction

import pytest

from studio.errors import ProjectError
from studio.jobs import GenerationRequest
from studio.project.model import Project, Take, shot_from_dict, shot_to_dict
from studio.render_plan import ModelRules, plan_shot


class Files:
    """Project files as a planner sees them: each hash names its file."""

    def file_hash(self, relative_path: str) -> str:
        return f"hash of {relative_path}"

    def continuity_source(self, take: Take) -> str:
        return take.id


def rules(last_frame: bool) -> ModelRules:
    return ModelRules(
        id="flf",
        name="First-last",
        backend="diffusers",
        fps=Fraction(16),
        frame_multiple=4,
        size_multiple=16,
        max_frames=81,
        steps=2,
        last_frame=last_frame,
    )


def project(**fields) -> Project:
    project = Project(fps=Fraction(16), width=64, height=64)
    project.shots = [project.new_shot(id="a", prompt="sea", duration=1.0, **fields)]
    return project


def test_a_shot_keeps_its_end_keyframe_and_old_files_are_unchanged():
    shot = project(keyframe="media/first.png", end_keyframe="media/last.png").shots[0]
    data = shot_to_dict(shot)
    assert data["end_keyframe"] == "media/last.png"
    assert shot_from_dict(data, "$.shots[0]").end_keyframe == "media/last.png"
    plain = shot_to_dict(project().shots[0])
    assert "end_keyframe" not in plain  # a project without one writes what it always did
    assert shot_from_dict(plain, "$.shots[0]").end_keyframe is None
    with_both = project(keyframe="media/first.png", end_keyframe="media/last.png")
    assert {"media/first.png", "media/last.png"} <= with_both.media_paths()


@pytest.mark.parametrize("bad", ["/etc/passwd", "../outside.png", 7])
def test_an_end_keyframe_outside_the_project_is_refused(bad):
    data = shot_to_dict(project().shots[0])
    data["end_keyframe"] = bad
    with pytest.raises(ProjectError, match="end_keyframe"):
        shot_from_dict(data, "$.shots[0]")


def test_the_end_keyframe_is_in_the_request_of_a_model_that_ends_on_it():
    shots = project(keyframe="media/first.png", end_keyframe="media/last.png")
    plan = plan_shot(shots, shots.shots[0], rules(True), Files())
    assert plan.request.end_keyframe_hash == "hash of media/last.png"
    assert plan.end_keyframe == "media/last.png"
    assert not any("end keyframe" in note for note in plan.notes)
    again = GenerationRequest.from_dict(plan.request.to_dict())
    assert again == plan.request and again.hash == plan.request.hash
    without = plan_shot(
        project(keyframe="media/first.png"), project().shots[0], rules(True), Files()
    )
    assert without.request.end_keyframe_hash is None
    assert "end_keyframe_hash" not in without.request.to_dict()  # earlier takes keep their hash
    assert without.request.hash != plan.request.hash


def test_a_model_that_cannot_end_on_a_frame_notes_it_and_keeps_its_hash():
    shots = project(keyframe="media/first.png", end_keyframe="media/last.png")
    plan = plan_shot(shots, shots.shots[0], rules(False), Files())
    assert plan.request.end_keyframe_hash is None and plan.end_keyframe is None
    assert "end keyframe not used: First-last cannot end on a given frame" in plan.notes
    plain = project(keyframe="media/first.png")
    assert plan.request.hash == plan_shot(plain, plain.shots[0], rules(False), Files()).request.hash
