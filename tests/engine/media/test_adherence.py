"""The camera measured from a take's frames: exact synthetic camera moves over a real
photograph (tests/data/coffee.jpg, CC0 by Rachel Michetti, from scikit-image's sample
data), warped by homographies built here from first principles, read back within 0.2
degrees and 0.5 % of zoom; a cut and a clip without texture are reported as such; and the
CIEDE2000 colour jump against published reference values."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.backends.pictures import load_image
from engine.media.adherence import (
    colour_jump,
    measure_adherence,
    sample_indices,
    track_camera,
)
from engine.media.continuity import ciede2000
from studio.camera.adherence import corner_errors
from studio.camera.easing import Easing
from studio.camera.rig import CameraRig, with_move

PHOTO = Path(__file__).resolve().parents[2] / "data" / "coffee.jpg"
W, H, FRAMES, FOV = 480, 270, 24, 50.0
FOCAL = 0.5 / math.tan(math.radians(FOV) / 2.0) * W


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """The photograph, enlarged so that the camera's moves stay on it."""
    picture = load_image(PHOTO)
    assert picture.shape == (400, 600, 3) and picture.std() > 30  # a photograph, not a card
    return cv2.resize(picture, (900, 600), interpolation=cv2.INTER_CUBIC)


def turn(pan: float, tilt: float, roll: float) -> np.ndarray:
    """Camera-to-world: yaw to the right, then pitch up, then roll clockwise (degrees)."""
    p, t, r = (math.radians(a) for a in (pan, tilt, roll))
    yaw = np.array([[math.cos(p), 0, math.sin(p)], [0, 1, 0], [-math.sin(p), 0, math.cos(p)]])
    pitch = np.array([[1, 0, 0], [0, math.cos(t), -math.sin(t)], [0, math.sin(t), math.cos(t)]])
    spin = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return yaw @ pitch @ spin


def camera_homography(pan: float, tilt: float, roll: float, zoom: float) -> np.ndarray:
    """Frame 0's pixels to those of a camera turned and zoomed so, about its own centre:
    K_zoom R^T K^-1, the principal point at the picture centre."""
    k = np.array([[FOCAL, 0, W / 2], [0, FOCAL, H / 2], [0, 0, 1.0]])
    kz = np.array([[FOCAL * zoom, 0, W / 2], [0, FOCAL * zoom, H / 2], [0, 0, 1.0]])
    return kz @ turn(pan, tilt, roll).T @ np.linalg.inv(k)


def clip(photo: np.ndarray, pan=0.0, tilt=0.0, roll=0.0, zoom=1.0) -> tuple[np.ndarray, list]:
    """Frames of a W x H camera that starts on the photo's centre and moves linearly to the
    given turn and zoom; and the homography of each frame."""
    ox, oy = (photo.shape[1] - W) / 2, (photo.shape[0] - H) / 2
    window = np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1.0]])
    homographies, frames = [], []
    for i in range(FRAMES):
        t = i / (FRAMES - 1)
        h = camera_homography(pan * t, tilt * t, roll * t, zoom**t)
        homographies.append(h)
        frames.append(cv2.warpPerspective(photo, h @ window, (W, H), flags=cv2.INTER_LINEAR))
    return np.stack(frames), homographies


def rig_of(pan=0.0, tilt=0.0, roll=0.0, zoom=1.0) -> CameraRig:
    """The rig of the same move (linear, as `clip` moves)."""
    rig = CameraRig(fov_degrees=FOV)
    for axis, start, end in (
        ("pan", 0, pan),
        ("tilt", 0, tilt),
        ("roll", 0, roll),
        ("zoom", 1, zoom),
    ):
        rig = with_move(rig, axis, start, end, Easing.LINEAR)
    return rig


MOVES = [
    {"pan": 12.0},
    {"pan": -15.0},
    {"tilt": 10.0},
    {"tilt": -8.0},
    {"roll": 10.0},
    {"roll": -7.0},
    {"zoom": 1.3},
    {"zoom": 0.8},
    {"pan": 8.0, "tilt": -5.0, "roll": 4.0},
]


@pytest.mark.parametrize("move", MOVES, ids=lambda m: ",".join(f"{k}{v:+g}" for k, v in m.items()))
def test_exact_camera_moves_over_a_photograph_are_recovered(photo, move):
    frames, _ = clip(photo, **move)
    result = measure_adherence(frames, rig_of(**move), 24.0)
    assert result.pan_deg == pytest.approx(move.get("pan", 0.0), abs=0.2)
    assert result.tilt_deg == pytest.approx(move.get("tilt", 0.0), abs=0.2)
    assert result.roll_deg == pytest.approx(move.get("roll", 0.0), abs=0.2)
    assert result.zoom == pytest.approx(move.get("zoom", 1.0), rel=0.005)
    # The rig was given the same move: that is what it expects, and the take obeys it.
    assert result.expected.pan_deg == pytest.approx(move.get("pan", 0.0), abs=1e-6)
    assert result.expected.zoom == pytest.approx(move.get("zoom", 1.0), rel=1e-9)
    assert result.score >= 95 and result.coverage == 1.0


def test_the_whole_path_is_tracked_not_only_its_end(photo):
    frames, homographies = clip(photo, pan=-12.0, roll=5.0, zoom=1.2)
    track = track_camera(frames)
    assert list(track.indices) == list(range(FRAMES))
    truth = np.stack(homographies)[track.indices]
    errors = corner_errors(track.homographies, truth, W, H)
    assert errors.max() * math.hypot(W, H) < 2.0  # pixels, at every frame


def test_a_take_that_misses_its_rig_scores_low(photo):
    frames, _ = clip(photo, pan=12.0)
    static = np.repeat(frames[:1], FRAMES, axis=0)
    result = measure_adherence(static, rig_of(pan=12.0), 24.0)
    assert result.score < 50
    assert result.pan_deg == pytest.approx(0.0, abs=0.05)
    assert result.expected.pan_deg == pytest.approx(12.0)
    # The move the other way round is no better than none.
    backwards = measure_adherence(frames[::-1], rig_of(pan=12.0), 24.0)
    assert backwards.pan_deg == pytest.approx(-12.0, abs=0.2) and backwards.score < 10


def test_a_cut_loses_the_track_and_frames_without_texture_are_never_followed(photo):
    frames, _ = clip(photo, pan=6.0)
    noise = np.random.default_rng(7).integers(0, 256, frames.shape, dtype=np.uint8)
    cut = np.concatenate([frames[:12], noise[12:]])
    track = track_camera(cut)
    assert track.tracked[:12].all() and not track.tracked[12:].all()
    assert 0.4 < track.coverage < 1.0
    flat = np.full((10, 90, 160, 3), 128, np.uint8)
    result = measure_adherence(flat, CameraRig(), 24.0)
    assert result.coverage == pytest.approx(0.1)  # frame 0 alone
    assert result.score == 100.0  # a static rig, and nothing moved


def test_a_picture_lost_at_several_samples_running_is_searched_no_further(monkeypatch):
    """Noise cannot be followed: after a few lost samples in a row the rest of the take
    counts as not followed, rather than every sample being searched frame by frame."""
    from engine.media import adherence

    calls: list[int] = []
    advance = adherence._Tracker.advance

    def counted(self, index):
        calls.append(index)
        return advance(self, index)

    monkeypatch.setattr(adherence._Tracker, "advance", counted)
    noise = np.random.default_rng(3).integers(0, 256, (40, 90, 160, 3), dtype=np.uint8)
    track = track_camera(noise)
    assert not track.tracked[1:].any()
    assert len(calls) == adherence._GIVE_UP  # then it stopped searching


def test_long_takes_are_sampled_evenly_with_both_ends():
    assert list(sample_indices(5)) == [0, 1, 2, 3, 4]
    picked = sample_indices(121, 40)
    assert len(picked) == 40 and picked[0] == 0 and picked[-1] == 120
    assert np.diff(picked).max() - np.diff(picked).min() <= 1
    assert list(sample_indices(1)) == [0]


# Pairs of the CIEDE2000 test data of Sharma, Wu and Dalal (2005), with their differences.
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
]


def test_ciede2000_matches_the_published_test_data():
    first = np.array([pair[0] for pair in SHARMA])
    second = np.array([pair[1] for pair in SHARMA])
    expected = np.array([pair[2] for pair in SHARMA])
    assert ciede2000(first, second) == pytest.approx(expected, abs=1e-4)
    assert ciede2000(second, first) == pytest.approx(expected, abs=1e-4)  # symmetric


def test_the_colour_jump_between_two_frames(photo):
    frame = photo[:270, :480]
    assert colour_jump(frame, frame) == 0.0
    warmer = np.clip(frame.astype(int) + [18, 0, -18], 0, 255).astype(np.uint8)
    jump = colour_jump(frame, warmer)
    assert 3.0 < jump < 20.0
    # Scaled the same way whatever the second frame's size.
    assert colour_jump(frame, cv2.resize(warmer, (960, 540))) == pytest.approx(jump, abs=0.3)
