"""Shot statuses are planned once per shot until an edit names the shot, and input files
are hashed once while they stay the same."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from fractions import Fraction

import pytest

import engine.render.inputs
import engine.render.planning
from engine.render.inputs import FileHashes, ProjectFiles
from engine.render.planning import StatusCache, plan_shot, shot_status
from studio.project.io import save_project
from studio.project.model import Project, Take


def film(tmp_path, count: int, chained: bool = False) -> tuple[Project, object]:
    """`count` shots sharing one keyframe, each with the take its plan makes now."""
    project = Project(fps=Fraction(16), width=64, height=64)
    project.shots = [
        project.new_shot(
            id=f"s{i}",
            prompt=f"shot {i}",
            duration=0.5,
            keyframe="media/key.png",
            continue_from_previous=chained and i > 0,
        )
        for i in range(count)
    ]
    folder = tmp_path / "P.gallop"
    save_project(project, folder)
    (folder / "media" / "key.png").write_bytes(b"a keyframe")
    (folder / "takes" / "take.mp4").write_bytes(b"a take")
    files = ProjectFiles(folder)
    for shot in project.shots:
        request = plan_shot(project, folder, shot, backend="previz", files=files).request
        take = Take(request.hash, request, "takes/take.mp4", "2026-01-01T00:00:00+00:00")
        shot.takes, shot.selected_take = [take], take.id
    return project, folder


@pytest.fixture
def plans(monkeypatch):
    """The shots planned, in order."""
    planned: list[str] = []
    real = engine.render.planning.plan_shot

    def counting(project, folder, shot, **options):
        planned.append(shot.id)
        return real(project, folder, shot, **options)

    monkeypatch.setattr(engine.render.planning, "plan_shot", counting)
    return planned


@pytest.mark.parametrize("chained", [False, True])
def test_one_prompt_edit_replans_one_shot_of_1500(tmp_path, plans, chained):
    project, folder = film(tmp_path, 1500, chained)
    cache = StatusCache()
    assert {cache.status(project, folder, shot) for shot in project.shots} == {"rendered"}
    assert len(plans) == 1500
    plans.clear()
    edited = project.shots[700]
    edited.prompt = "another prompt"
    cache.invalidate([edited.id])
    statuses = [cache.status(project, folder, shot) for shot in project.shots]
    assert plans == [edited.id]
    assert statuses[700] == "stale"
    after = "stale" if chained else "rendered"
    assert statuses[:700] == ["rendered"] * 700
    assert statuses[701:] == [after] * 799
    fresh = StatusCache()
    assert statuses == [fresh.status(project, folder, shot) for shot in project.shots]
    assert statuses[-1] == shot_status(project, folder, project.shots[-1])


def test_a_new_upstream_take_rechecks_the_shot_after_it_only(tmp_path, plans):
    project, folder = film(tmp_path, 3, chained=True)
    cache = StatusCache()
    assert [cache.status(project, folder, s) for s in project.shots] == ["rendered"] * 3
    plans.clear()
    first = project.shots[0]
    first.seed += 1
    request = plan_shot(project, folder, first, backend="previz").request
    take = Take(request.hash, request, "takes/take.mp4", "2026-01-01T00:00:00+00:00")
    first.takes.append(take)
    first.selected_take = take.id
    plans.clear()
    cache.invalidate([first.id])
    # The first shot has its new take; the second now continues from another take.
    assert [cache.status(project, folder, s) for s in project.shots] == [
        "rendered",
        "stale",
        "stale",
    ]
    assert plans == ["s0", "s1"]


def test_no_file_is_hashed_twice_while_unchanged(tmp_path, monkeypatch):
    project, folder = film(tmp_path, 20)
    hashed: list[str] = []
    real = engine.render.inputs.file_hash

    def counting(path):
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(engine.render.inputs, "file_hash", counting)
    hashes = FileHashes()
    cache = StatusCache(hashes=hashes)
    for _ in range(3):
        assert {cache.status(project, folder, s) for s in project.shots} == {"rendered"}
        cache.invalidate()
    assert hashed == ["key.png"] and hashes.reads == 1
    key = folder / "media" / "key.png"
    key.write_bytes(b"another keyframe, longer")
    assert {cache.status(project, folder, s) for s in project.shots} == {"stale"}
    assert hashed == ["key.png", "key.png"]
    files = ProjectFiles(folder, hashes)
    plan_shot(project, folder, project.shots[0], backend="previz", files=files)
    assert hashes.reads == 2


def test_a_batch_render_hashes_a_shared_keyframe_once(tmp_path, monkeypatch):
    import cv2
    import numpy as np

    from engine.render.batch import BatchRenderer

    project, folder = film(tmp_path, 4)
    for shot in project.shots:
        shot.takes, shot.selected_take = [], None
    save_project(project, folder)
    cv2.imwrite(str(folder / "media" / "key.png"), np.full((64, 64, 3), 90, np.uint8))
    hashed: list[str] = []
    real = engine.render.inputs.file_hash

    def counting(path):
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(engine.render.inputs, "file_hash", counting)
    result = BatchRenderer(folder, backend="previz").run()
    assert sorted(result.rendered) == ["s0", "s1", "s2", "s3"]
    assert hashed.count("key.png") == 1


def test_a_fifo_is_never_hashed(tmp_path):
    import os

    project, folder = film(tmp_path, 2)
    key = folder / "media" / "key.png"
    key.unlink()
    os.mkfifo(key)
    cache = StatusCache()
    assert [cache.status(project, folder, s) for s in project.shots] == ["stale", "stale"]


def info_output(folder, capsys, *options) -> str:
    from engine.cli import Exit, run_subcommand

    assert run_subcommand(["info", str(folder), *options]) == Exit.OK
    return capsys.readouterr().out


@pytest.mark.parametrize("options", [(), ("--json",)])
def test_info_plans_each_of_1500_chained_shots_once(tmp_path, plans, capsys, options):
    project, folder = film(tmp_path, 1500, chained=True)
    save_project(project, folder)
    out = info_output(folder, capsys, *options)
    assert sorted(plans) == sorted(shot.id for shot in project.shots)
    if options:
        statuses = [shot["status"] for shot in json.loads(out)["shots"]]
    else:
        statuses = re.findall(r"\[([a-z ]+)\]$", out, re.MULTILINE)
    assert statuses == ["rendered"] * 1500


@pytest.mark.parametrize("options", [(), ("--json",)])
def test_info_says_what_each_shot_planned_alone_says(tmp_path, capsys, options):
    project, folder = film(tmp_path, 12, chained=True)
    project.shots[7].prompt = "another prompt"  # stale, and the shots chained after it
    project.shots[10].takes, project.shots[10].selected_take = [], None
    save_project(project, folder)
    expected = [shot_status(project, folder, shot) for shot in project.shots]
    assert set(expected) == {"rendered", "stale", "not rendered"}
    out = info_output(folder, capsys, *options)
    if options:
        statuses = [shot["status"] for shot in json.loads(out)["shots"]]
    else:
        statuses = re.findall(r"\[([a-z ]+)\]$", out, re.MULTILINE)
    assert statuses == expected


def test_a_stale_shot_says_why_and_a_picked_variation_is_rendered(tmp_path):
    from studio.commands import apply, pick_take

    project, folder = film(tmp_path, 3, chained=True)
    project.shots[1].title = "The ship"
    first = project.shots[0]
    # A variation of the first shot: its seed one up, picked without adopting the seed.
    variation = plan_shot(project, folder, first, backend="previz").request
    variation = replace(variation, seed=variation.seed + 1)
    take = Take(variation.hash, variation, "takes/take.mp4", "2026-01-01T00:00:00+00:00")
    first.takes.append(take)
    first.selected_take = take.id
    cache = StatusCache()
    assert [cache.status(project, folder, s) for s in project.shots] == ["stale"] * 3
    assert cache.reasons(project, folder, first) == ("seed differs (take 1, shot 0)",)
    # The next shot continues from the new take: its upstream changed, and it starts
    # from another frame than its take did.
    assert cache.reasons(project, folder, project.shots[1]) == ("upstream shot 's0' changed",)
    assert cache.reasons(project, folder, project.shots[2]) == ("upstream shot 'The ship' changed",)

    apply(pick_take(first, take.id))  # the pick as the window and the command line make it
    cache.invalidate([first.id])
    assert cache.status(project, folder, first) == "rendered"
    assert cache.reasons(project, folder, first) == ()

    project.shots[2].prompt = "another prompt"
    cache.invalidate([project.shots[2].id])
    assert "prompt changed since the take" in cache.reasons(project, folder, project.shots[2])
