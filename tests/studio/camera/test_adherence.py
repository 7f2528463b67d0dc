"""Camera adherence in plain numpy: the rig's homographies read back as pan, tilt, roll and
zoom, the corner error and score, the stored form on a take, and ranking by score."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from studio.camera import rig as camera
from studio.camera.adherence import (
    TOLERANCE,
    Adherence,
    CameraMove,
    assess,
    best_scoring,
    corner_errors,
    decompose,
    rig_focal,
    score_of,
)
from studio.camera.rig import CameraRig, with_move
from studio.errors import ProjectError
from studio.jobs import GenerationRequest
from studio.project.io import decode_project, encode_project
from studio.project.model import Project, Shot, Take

W, H, FRAMES = 832, 480, 25


def end_move(rig: CameraRig) -> CameraMove:
    hs = camera.homographies(rig, FRAMES, W, H)
    return decompose(hs[-1], W, H, rig_focal(rig, FRAMES, W))


@pytest.mark.parametrize(
    ("axis", "start", "end", "expected"),
    [
        ("pan", 0.0, 30.0, CameraMove(pan_deg=30.0)),
        ("pan", 10.0, -25.0, CameraMove(pan_deg=-35.0)),
        ("tilt", 0.0, 20.0, CameraMove(tilt_deg=20.0)),
        ("tilt", 0.0, -12.5, CameraMove(tilt_deg=-12.5)),
        ("roll", 0.0, 15.0, CameraMove(roll_deg=15.0)),
        ("roll", 0.0, -8.0, CameraMove(roll_deg=-8.0)),
        ("zoom", 1.0, 1.6, CameraMove(zoom=1.6)),
        ("zoom", 1.0, 0.625, CameraMove(zoom=0.625)),
        ("zoom", 2.0, 3.0, CameraMove(zoom=1.5)),  # a ratio to frame 0's focal length
    ],
)
def test_the_rigs_own_moves_read_back_exactly(axis, start, end, expected):
    move = end_move(with_move(CameraRig(), axis, start, end))
    for key in ("pan_deg", "tilt_deg", "roll_deg"):
        assert getattr(move, key) == pytest.approx(getattr(expected, key), abs=1e-6)
    assert move.zoom == pytest.approx(expected.zoom, rel=1e-9)


def test_combined_turns_read_back_in_the_rigs_order():
    rig = with_move(with_move(with_move(CameraRig(), "pan", 0, 25), "tilt", 0, -10), "roll", 0, 6)
    rig = with_move(rig, "zoom", 1.0, 1.25)
    move = end_move(rig)
    assert (move.pan_deg, move.tilt_deg, move.roll_deg) == pytest.approx((25, -10, 6), abs=1e-6)
    assert move.zoom == pytest.approx(1.25)


def test_a_dolly_reads_as_the_zoom_that_looks_the_same():
    move = end_move(camera.preset("dolly_in"))  # 1.5 units in on a subject 4 units away
    assert move.zoom == pytest.approx(4.0 / 2.5)
    assert abs(move.pan_deg) < 1e-9 and abs(move.tilt_deg) < 1e-9


def test_the_rigs_own_path_scores_100_and_a_static_take_of_a_move_scores_0():
    rig = camera.preset("pan_right")
    hs = camera.homographies(rig, FRAMES, W, H)
    perfect = assess(hs, range(FRAMES), rig, FRAMES, W, H)
    assert perfect.score == 100.0 and perfect.path_error < 1e-9
    assert perfect.pan_deg == pytest.approx(30.0) and perfect.expected.pan_deg == pytest.approx(30)

    static = assess(np.tile(np.eye(3), (FRAMES, 1, 1)), range(FRAMES), rig, FRAMES, W, H)
    assert static.score == 0.0
    assert static.pan_deg == 0.0 and static.expected.pan_deg == pytest.approx(30.0)
    assert static.errors.pan_deg == pytest.approx(-30.0)
    # A 30 degree pan puts the picture about half a diagonal away by the end.
    assert static.end_error > 0.4


def test_the_corner_error_is_the_distance_the_picture_lands_from_the_rigs():
    shift = np.array([[1.0, 0.0, 9.6], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    diagonal = math.hypot(W, H)
    hs = camera.homographies(camera.preset("tilt_up"), 5, W, H)
    errors = corner_errors(shift @ hs, hs, W, H)
    assert errors == pytest.approx(np.full(5, 9.6 / diagonal))
    # A homography and its negative are the same map.
    assert corner_errors(-hs, hs, W, H) == pytest.approx(np.zeros(5), abs=1e-12)
    # A corner sent behind the camera counts a whole diagonal.
    away = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-1.0 / W, 0.0, 0.5]])
    assert corner_errors(away, np.eye(3), W, H)[0] > 0.25


@pytest.mark.parametrize(
    ("path", "end", "score"),
    [(0.0, 0.0, 100.0), (0.02, 0.02, 90.0), (0.01, 0.03, 90.0), (0.2, 0.2, 0.0), (0.5, 0.9, 0.0)],
)
def test_the_score_formula(path, end, score):
    assert score_of(path, end) == pytest.approx(score)
    assert TOLERANCE == 0.2


def test_a_static_take_of_a_zoom_scores_under_50():
    rig = camera.preset("zoom_in")
    result = assess(np.tile(np.eye(3), (FRAMES, 1, 1)), range(FRAMES), rig, FRAMES, W, H)
    assert result.score < 50 and result.expected.zoom == pytest.approx(1.6)
    assert "zoom ×1.00 (rig ×1.60)" in result.summary()
    assert "followed" not in result.summary()
    lost = Adherence(**{**result.to_dict(), "expected": result.expected, "coverage": 0.5})
    assert lost.summary().endswith("; followed over 50% of the take")


def adherence(score: float) -> Adherence:
    return Adherence(
        29.5, -0.25, 0.125, 1.01, score, CameraMove(30.0, 0.0, 0.0, 1.0), 0.004, 0.006, 0.95, 40
    )


def test_adherence_round_trips_through_json_and_refuses_nonsense():
    result = adherence(93.75)
    data = json.loads(json.dumps(result.to_dict()))
    assert set(data) >= {"pan_deg", "tilt_deg", "roll_deg", "zoom", "score", "expected"}
    assert set(data["expected"]) == {"pan_deg", "tilt_deg", "roll_deg", "zoom"}
    assert Adherence.from_dict(data, "$") == result
    for key, value, where in [
        ("score", 101, "$.score"),
        ("zoom", 0, "$.zoom"),
        ("pan_deg", "left", "$.pan_deg"),
        ("coverage", -0.5, "$.coverage"),
        ("wobble", 1, "$.wobble"),
    ]:
        with pytest.raises(ProjectError) as caught:
            Adherence.from_dict({**data, key: value}, "$")
        assert where in str(caught.value)
    with pytest.raises(ProjectError, match="missing"):
        Adherence.from_dict({k: v for k, v in data.items() if k != "score"}, "$")


def make_take(seed: int, **measured) -> Take:
    request = GenerationRequest(
        prompt="waves", model_id="previz", width=64, height=48, frames=9, seed=seed
    )
    return Take(
        request.hash, request, f"takes/{request.hash}.mp4", "2026-11-21T00:00:00+00:00", **measured
    )


def test_a_take_keeps_what_was_measured_and_older_takes_load_without_it():
    measured = make_take(1, adherence=adherence(88.5), colour_jump=2.75)
    older = make_take(2)
    shot = Shot(id="opening", takes=[measured, older], selected_take=measured.id)
    project = Project(title="Sample", shots=[shot])
    text = encode_project(project)
    again, _ = decode_project(text)
    assert again == project
    takes = json.loads(text)["shots"][0]["takes"]
    assert takes[0]["adherence"]["score"] == 88.5 and takes[0]["colour_jump"] == 2.75
    assert "adherence" not in takes[1] and "colour_jump" not in takes[1]  # the file it had
    assert again.shots[0].takes[1].adherence is None

    document = json.loads(text)
    document["shots"][0]["takes"][0]["colour_jump"] = -1
    with pytest.raises(ProjectError, match=r"takes\[0\]\.colour_jump"):
        decode_project(json.dumps(document).encode())


def test_best_scoring_picks_the_highest_score_and_skips_unmeasured_takes():
    takes = [
        make_take(1),
        make_take(2, adherence=adherence(71)),
        make_take(3, adherence=adherence(94)),
    ]
    takes.append(make_take(4, adherence=adherence(94)))
    assert best_scoring(takes) is takes[2]  # the first of equals
    assert best_scoring(takes[:1]) is None and best_scoring([]) is None
