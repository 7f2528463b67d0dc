"""The planner makes the requests it always made: existing takes keep their ids, so the
example project's shots stay rendered after the planner moved into studio.render_plan.

The expected values were recorded with the planner of engine/render/planning.py as it was
before that move (and checked against it while both existed), with the models of the
catalog then. Since then the prompt of a diffusion model ends with the camera move in the
words of its family's prompt guide (studio.camera.words): the digest compares those
requests with the prompt they had before, and `test_diffusion_prompts_end_with_camera_words`
checks the words themselves. Previz requests, and so the takes, are as they were."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from engine.media.video import write_video
from engine.models.catalog import Catalog
from engine.render.inputs import model_rules
from engine.render.planning import plan_render, shot_status
from studio.camera.rig import describe, is_static
from studio.errors import StudioError
from studio.jobs import CameraMode
from studio.project.io import load_project
from studio.project.model import Take
from studio.render_plan import bible_prompt, model_prompt
from tests.projects import EXAMPLE


def example(tmp_path):
    """The example project with a keyframe, a reference and a character's picture."""
    folder = tmp_path / "Lighthouse.gallop"
    shutil.copytree(EXAMPLE, folder)
    project = load_project(folder)
    for name in ("key.png", "ref.png", "keeper.png"):
        (folder / "media" / name).write_bytes(f"picture {name}".encode())
    keeper = project.character("keeper")
    assert keeper is not None
    keeper.references = ["media/keeper.png"]
    project.shots[1].keyframe = "media/key.png"
    project.shots[1].references = ["media/ref.png"]
    return project, folder


def with_takes(project, folder, plan):
    """Each shot gets a take made from its previz request, in order (chains need it)."""
    for shot in project.shots:
        request = plan(project, folder, shot, backend="previz").request
        media = f"takes/{request.hash}.mp4"
        write_video(folder / media, np.zeros((2, 16, 16, 3), np.uint8), Fraction(24))
        take = Take(request.hash, request, media, "2026-01-01T00:00:00+00:00")
        shot.takes.append(take)
        shot.selected_take = take.id
    return project


def outcome(plan, project, folder, shot, **options):
    try:
        planned = plan(project, folder, shot, **options)
    except StudioError as exc:
        return ("error", type(exc).__name__, str(exc))
    request = planned.request
    if request.backend != "previz":  # the prompt as it was before the camera words
        request = replace(request, prompt=bible_prompt(project, shot))
    return (request.hash, planned.notes)


# The catalog when the values below were recorded: a model added since has no takes from
# before to keep.
RECORDED_MODELS = (
    "previz",
    "wan2.1-t2v-1.3b",
    "wan2.1-t2v-14b",
    "wan2.1-i2v-14b-480p",
    "wan2.2-ti2v-5b",
    "wan2.2-t2v-a14b",
    "ltx-video",
    "cogvideox-2b",
    "cogvideox-5b",
    "cogvideox-5b-i2v",
    "hunyuanvideo",
    "hunyuanvideo-i2v",
    "tiny-wan",
    "tiny-wan-i2v",
    "tiny-ltx",
    "tiny-cogvideox",
    "tiny-cogvideox-i2v",
    "tiny-hunyuan",
    "tiny-hunyuan-i2v",
)


# Per camera mode: the digest of every shot's request hash and notes (or error) with every
# model, and the start of each shot's take id.
RECORDED = {
    None: (
        "5e5d4512ae6a3306ffe50d8e316c6b2063f070682e7637a3a124e0c54e3e8913",
        [
            "5698cc679fc5",
            "1a23b22d8dad",
            "0d1a25653e4b",
            "097ba06a1263",
            "1dfe808c58ec",
            "dbfe9142a1d4",
        ],
    ),
    CameraMode.GUIDED: (
        "bdea66c781142059c9cdeb2219db5c6a7d1dca8abaa5b367a066ee392ddd8c83",
        [
            "424b0facb53b",
            "25cb7c6b29be",
            "b88d163ec955",
            "7476fa1b4367",
            "44e765f12293",
            "a1af01455655",
        ],
    ),
    CameraMode.KEYFRAME: (
        "a594dc4c15858e06e9a7c7846a3bdf8af228814fd01261bc2d77120a8dabf767",
        [
            "2740db6b03c8",
            "542b00f43651",
            "c94114c32b08",
            "a82e351ff49a",
            "add0827c2319",
            "2915fa12735c",
        ],
    ),
}


@pytest.mark.parametrize("mode", list(RECORDED))
def test_every_shot_plans_as_before_with_every_model(tmp_path, mode):
    project, folder = example(tmp_path)
    if mode is not None:
        project.shots = [replace(shot, camera_mode=mode) for shot in project.shots]
    with_takes(project, folder, plan_render)
    choices = [{}, {"backend": "previz"}] + [{"model_id": m} for m in RECORDED_MODELS]
    digest = hashlib.sha256()
    for shot in project.shots:
        for options in choices:
            digest.update(repr(outcome(plan_render, project, folder, shot, **options)).encode())
    takes = [shot.selected_take[:12] for shot in project.shots]
    assert (digest.hexdigest(), takes) == RECORDED[mode]


def test_diffusion_prompts_end_with_camera_words(tmp_path):
    project, folder = example(tmp_path)
    with_takes(project, folder, plan_render)
    catalog = Catalog()
    moving = [shot for shot in project.shots if not is_static(shot.camera)]
    assert moving  # the example's shots move their cameras
    for shot in project.shots:
        bible = bible_prompt(project, shot)
        assert plan_render(project, folder, shot, backend="previz").request.prompt == bible
        for model_id in RECORDED_MODELS[1:]:
            entry = catalog.get(model_id)
            request = plan_render(project, folder, shot, model_id=model_id).request
            assert request.prompt == model_prompt(project, shot, model_rules(entry))
            if shot in moving:
                words = describe(shot.camera, float(request.duration_seconds), entry.family)
                sep = ", " if entry.family == "wan" else ". "
                assert request.prompt == bible.rstrip(".,") + sep + words
            else:
                assert request.prompt == bible


def test_statuses_are_as_before(tmp_path):
    project, folder = example(tmp_path)
    with_takes(project, folder, plan_render)
    statuses = [shot_status(project, folder, shot) for shot in project.shots]
    assert statuses == ["rendered"] * len(project.shots)
    project.shots[1].prompt += " at night"
    project.shots[4].seed += 1  # `dawn` continues from it
    statuses = [shot_status(project, folder, shot) for shot in project.shots]
    assert statuses == ["rendered", "stale", "rendered", "rendered", "stale", "stale"]
