"""The end keyframe from the project to the backend: read for a model that can end on a
given frame, and given to the last segment of a long shot only."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import cv2
import numpy as np

from engine.backends.base import RenderInputs
from engine.backends.previz import PrevizBackend
from engine.render.extend import render_extended
from engine.render.planning import file_hash, plan_render
from studio.camera.rig import preset
from studio.jobs import GenerationRequest
from studio.project.io import save_project
from studio.project.model import Project


def project_with_keyframes(tmp_path) -> tuple[Project, object]:
    project = Project(fps=Fraction(16), width=64, height=64)
    project.shots = [
        project.new_shot(
            id="a",
            prompt="sea",
            duration=0.5,
            keyframe="media/first.png",
            end_keyframe="media/last.png",
        )
    ]
    folder = tmp_path / "P.gallop"
    save_project(project, folder)
    for name, value in (("first", 30), ("last", 220)):
        cv2.imwrite(str(folder / "media" / f"{name}.png"), np.full((8, 8, 3), value, np.uint8))
    return project, folder


def test_a_first_and_last_frame_model_gets_the_end_keyframe(tmp_path):
    project, folder = project_with_keyframes(tmp_path)
    plan = plan_render(project, folder, project.shots[0], model_id="tiny-wan-flf2v")
    last = (folder / "media" / "last.png").resolve()
    assert plan.inputs.last_frame == last
    assert plan.request.end_keyframe_hash == file_hash(last)
    cv2.imwrite(str(last), np.full((8, 8, 3), 90, np.uint8))
    again = plan_render(project, folder, project.shots[0], model_id="tiny-wan-flf2v")
    assert again.request.hash != plan.request.hash  # another end keyframe, another take


def test_a_model_that_cannot_end_on_a_frame_is_not_given_it(tmp_path):
    project, folder = project_with_keyframes(tmp_path)
    plan = plan_render(project, folder, project.shots[0], model_id="tiny-wan")
    assert plan.inputs.last_frame is None and plan.request.end_keyframe_hash is None
    assert any("end keyframe not used" in note for note in plan.notes)


class Recording(PrevizBackend):
    """The previz in clips of 20 frames, remembering each segment's end keyframe."""

    def __init__(self) -> None:
        super().__init__(max_frames=20)
        self.last_frames: list[object] = []

    def generate(self, request, inputs, ctx):
        self.last_frames.append(inputs.last_frame)
        return super().generate(request, inputs, ctx)


class NullCtx:
    def progress(self, step, total, stage, message=""):
        pass

    def preview(self, step, image):
        pass

    def check_cancelled(self):
        pass

    def log(self, message):
        pass


def test_only_the_last_segment_of_a_long_shot_ends_on_the_end_keyframe(tmp_path):
    backend = Recording()
    end = tmp_path / "last.png"
    cv2.imwrite(str(end), np.full((8, 8, 3), 200, np.uint8))  # the previz shows it
    request = GenerationRequest(
        prompt="a lighthouse",
        model_id="previz",
        backend="previz",
        width=96,
        height=64,
        frames=50,
        fps=Fraction(24),
        camera=preset("pan_left"),
    )
    frames = render_extended(backend, request, RenderInputs(last_frame=end), NullCtx())
    assert frames.shape[0] == 50
    assert len(backend.last_frames) >= 3
    assert backend.last_frames[-1] == end
    assert all(frame is None for frame in backend.last_frames[:-1])
    one = Recording()
    render_extended(one, replace(request, frames=17), RenderInputs(last_frame=end), NullCtx())
    assert one.last_frames == [end]
