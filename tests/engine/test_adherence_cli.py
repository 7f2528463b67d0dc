"""`gallop render --pick camera` keeps each shot's best-scoring variation and adopts its
seed; `gallop info --json` gives every take its adherence, the rig's expected values and
a chained take's colour jump. The variations differ by a backend that decides from the
seed how well a take follows its rig (tests/engine/render/adherence_backends.py)."""

from __future__ import annotations

import json

import pytest

from engine.cli import Exit, run_subcommand
from studio.commands import apply, set_field
from studio.project.io import load_project, update_project
from tests.projects import small_project

BACKENDS = "tests.engine.render.adherence_backends:by_seed"
MOVE_KEYS = {"pan_deg", "tilt_deg", "roll_deg", "zoom"}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("GALLOP_BACKENDS", BACKENDS)
    # Two shots, a pan left and a dolly in, a second each at 16 fps, 240 pixels square.
    return small_project(tmp_path / "Small.gallop", shots=2, seconds=1.0, size=240)


def info(folder, capsys) -> dict:
    capsys.readouterr()
    assert run_subcommand(["info", str(folder), "--json"]) == Exit.OK
    return json.loads(capsys.readouterr().out)


def test_pick_camera_keeps_the_variation_that_follows_its_rig(folder, capsys):
    code = run_subcommand(["render", str(folder), "--variations", "3", "--pick", "camera"])
    assert code == Exit.OK
    out = capsys.readouterr().out
    project = load_project(folder)
    for shot, base in zip(project.shots, (0, 1), strict=True):
        seeds = [t.request.seed for t in shot.takes]
        assert seeds == [base, base + 1, base + 2]
        scores = {t.request.seed: t.adherence.score for t in shot.takes}
        # Seed % 3: 0 still, 1 slowed down, 2 the rig's own path with grain.
        best = next(seed for seed in seeds if seed % 3 == 2)
        still = next(seed for seed in seeds if seed % 3 == 0)
        assert scores[best] >= 90 and scores[still] < 50
        assert scores[best] > scores[next(s for s in seeds if s % 3 == 1)] > scores[still]
        picked = shot.take(shot.selected_take)
        assert picked.request.seed == best and shot.seed == best  # the shot adopts its seed
        assert f"shot {shot.id}: picked seed {best}, camera {round(scores[best])}" in out

    # The shots are rendered as they are now: a second run renders and changes nothing.
    assert run_subcommand(["render", str(folder)]) == Exit.OK
    assert "0 rendered, 2 up to date" in capsys.readouterr().out
    assert load_project(folder).shots[0].selected_take == project.shots[0].selected_take


def test_without_pick_the_shots_own_seed_stays_selected(folder, capsys):
    assert run_subcommand(["render", str(folder), "--variations", "3"]) == Exit.OK
    project = load_project(folder)
    assert project.shots[0].seed == 0
    assert project.shot("s0").take(project.shot("s0").selected_take).request.seed == 0


def test_info_json_carries_each_takes_adherence_and_the_rigs_values(folder, capsys):
    assert run_subcommand(["render", str(folder), "--variations", "2"]) == Exit.OK
    document = info(folder, capsys)
    for shot in document["shots"]:
        assert len(shot["takes"]) == 2
        for take in shot["takes"]:
            adherence = take["adherence"]
            assert set(adherence) >= MOVE_KEYS | {"score", "expected"}
            assert set(adherence["expected"]) == MOVE_KEYS
            assert 0 <= adherence["score"] <= 100
            assert take["colour_jump"] is None  # not chained
    pan = document["shots"][0]["takes"][0]["adherence"]  # s0 pans left 30 degrees
    assert pan["expected"]["pan_deg"] == pytest.approx(-30.0, abs=1e-3)
    assert pan["score"] < 50  # seed 0: a still take
    dolly = document["shots"][1]["takes"][1]["adherence"]  # s1, seed 2: follows its dolly in
    assert dolly["expected"]["zoom"] == pytest.approx(1.6, rel=1e-3)
    assert dolly["zoom"] == pytest.approx(1.6, rel=0.02) and dolly["score"] >= 90


def test_info_json_gives_a_chained_take_its_colour_jump(folder, capsys):
    def chain(project) -> None:
        apply(set_field(project.shot("s1"), "continue_from_previous", True))

    update_project(folder, chain)
    assert run_subcommand(["render", str(folder)]) == Exit.OK
    shots = info(folder, capsys)["shots"]
    assert shots[0]["takes"][0]["colour_jump"] is None
    jump = shots[1]["takes"][0]["colour_jump"]
    assert isinstance(jump, float) and jump >= 0.0
    # The takes of the project file carry the same numbers.
    take = load_project(folder).shot("s1").takes[0]
    assert (
        take.colour_jump == jump and take.adherence.to_dict() == shots[1]["takes"][0]["adherence"]
    )


def test_pick_camera_leaves_a_shot_without_scores_alone(folder, capsys, monkeypatch):
    from engine.media import adherence

    monkeypatch.setattr(adherence, "measure_adherence", lambda *a, **k: 1 / 0)
    code = run_subcommand(["render", str(folder), "--variations", "2", "--pick", "camera"])
    assert code == Exit.OK
    assert "picked" not in capsys.readouterr().out
    project = load_project(folder)
    assert project.shots[0].seed == 0 and project.shots[1].seed == 1
