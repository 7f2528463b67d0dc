"""From shot to request: snapping to the model's grid, input hashes, chained shots."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest

from engine.backends.base import RenderError
from engine.render.planning import file_hash, plan_render
from studio.project.io import save_project
from studio.project.model import Project, Take


def project_with(tmp_path, **shot_fields) -> tuple[Project, object]:
    project = Project(fps=Fraction(24), width=100, height=70)
    project.shots = [
        project.new_shot(id="a", prompt="first", duration=1.0),
        project.new_shot(id="b", prompt="second", duration=1.0, **shot_fields),
    ]
    folder = tmp_path / "P.gallop"
    save_project(project, folder)
    return project, folder


def test_sizes_and_frames_snap_to_the_model_with_notes(tmp_path):
    project, folder = project_with(tmp_path)
    plan = plan_render(project, folder, project.shots[0], model_id="tiny-wan")
    assert (plan.request.width, plan.request.height) == (96, 64)
    assert plan.request.frames == 17  # 1 s at Wan's 16 fps, 4n+1
    assert plan.request.fps == 16
    assert any("100x70 -> 96x64" in note for note in plan.notes)
    assert any("16 frames -> 17" in note for note in plan.notes)
    previz = plan_render(project, folder, project.shots[0], backend="previz")
    assert (previz.request.frames, previz.request.fps) == (24, 24)
    assert previz.request.backend == "previz" and previz.request.steps is None


def test_keyframe_hash_is_in_the_request(tmp_path):
    project, folder = project_with(tmp_path, keyframe="media/key.png")
    cv2.imwrite(str(folder / "media" / "key.png"), np.zeros((8, 8, 3), np.uint8))
    shot = project.shots[1]
    first = plan_render(project, folder, shot, backend="previz")
    assert first.request.keyframe_hash == file_hash(folder / "media" / "key.png")
    assert first.inputs.keyframe == (folder / "media" / "key.png").resolve()
    cv2.imwrite(str(folder / "media" / "key.png"), np.full((8, 8, 3), 9, np.uint8))
    second = plan_render(project, folder, shot, backend="previz")
    assert second.request.hash != first.request.hash  # a new keyframe is a new take


def test_missing_keyframe_is_a_clear_error(tmp_path):
    project, folder = project_with(tmp_path, keyframe="media/missing.png")
    with pytest.raises(RenderError, match="cannot read missing.png"):
        plan_render(project, folder, project.shots[1], backend="previz")


def test_a_chained_shot_needs_its_upstream_take_and_carries_its_hash(tmp_path):
    project, folder = project_with(tmp_path, continue_from_previous=True)
    with pytest.raises(RenderError, match="continues from"):
        plan_render(project, folder, project.shots[1], backend="previz")
    from engine.media.video import write_video

    upstream = plan_render(project, folder, project.shots[0], backend="previz").request
    frames = np.zeros((4, 64, 64, 3), np.uint8)
    frames[-1] = 200
    write_video(folder / "takes" / f"{upstream.hash}.mp4", frames, Fraction(24))
    take = Take(upstream.hash, upstream, f"takes/{upstream.hash}.mp4", "2026-01-01T00:00:00+00:00")
    project.shots[0].takes.append(take)
    project.shots[0].selected_take = take.id
    plan = plan_render(project, folder, project.shots[1], backend="previz")
    assert plan.request.continuity_source == take.id
    assert plan.inputs.continuity.shape == (64, 64, 3)
    assert abs(int(plan.inputs.continuity.mean()) - 200) <= 3


def test_diffusers_backend_needs_a_diffusion_model(tmp_path):
    project, folder = project_with(tmp_path)
    with pytest.raises(RenderError, match="--model"):
        plan_render(project, folder, project.shots[0], backend="diffusers")


def test_the_engine_and_the_planner_snap_frames_alike():
    from engine.protocol import Capabilities
    from studio.render_plan import ModelRules

    for multiple in range(1, 17):
        for limit in (None, 1, 2, 5, 9, 16, 17, 33, 49, 81, 121, 257):
            rules = ModelRules("m", "M", "diffusers", Fraction(16), multiple, 16, limit)
            capabilities = Capabilities(frame_multiple=multiple, max_frames=limit)
            for frames in range(-3, 300):
                assert capabilities.snap_frames(frames) == rules.snap_frames(frames), (
                    frames,
                    multiple,
                    limit,
                )
