"""The planner makes the requests it always made: existing takes keep their ids, so the
example project's shots stay rendered after the planner moved into studio.render_plan."""

from __future__ import annotations

import shutil
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from engine.media.video import write_video
from engine.models.catalog import Catalog
from engine.render.planning import plan_render, shot_status
from studio.errors import StudioError
from studio.jobs import CameraMode
from studio.project.io import load_project
from studio.project.model import Take
from tests.engine.render import legacy_planning as legacy
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
    return (planned.request.hash, planned.notes)


@pytest.mark.parametrize("mode", [None, CameraMode.GUIDED, CameraMode.KEYFRAME])
def test_every_shot_plans_as_before_with_every_model(tmp_path, mode):
    project, folder = example(tmp_path)
    if mode is not None:
        project.shots = [replace(shot, camera_mode=mode) for shot in project.shots]
    with_takes(project, folder, legacy.plan_render)
    choices = [{}, {"backend": "previz"}] + [{"model_id": e.id} for e in Catalog()]
    for shot in project.shots:
        for options in choices:
            old = outcome(legacy.plan_render, project, folder, shot, **options)
            new = outcome(plan_render, project, folder, shot, **options)
            assert new == old, (shot.id, options)


def test_statuses_are_as_before(tmp_path):
    project, folder = example(tmp_path)
    with_takes(project, folder, legacy.plan_render)
    statuses = [shot_status(project, folder, shot) for shot in project.shots]
    assert statuses == ["rendered"] * len(project.shots)
    project.shots[1].prompt += " at night"
    project.shots[4].seed += 1  # `dawn` continues from it
    old = [legacy.shot_status(project, folder, shot) for shot in project.shots]
    new = [shot_status(project, folder, shot) for shot in project.shots]
    assert new == old == ["rendered", "stale", "rendered", "rendered", "stale", "stale"]
