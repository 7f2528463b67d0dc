"""The camera rig: presets move the picture the right way by the right amount."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.camera.rig import (
    AXES,
    AXIS_UNITS,
    NEUTRAL,
    PRESETS,
    CameraPose,
    CameraRig,
    Easing,
    Keyframe,
    Shake,
    axis_value,
    describe,
    homographies,
    homography,
    is_static,
    poses,
    preset,
    rig_from_dict,
    rig_to_dict,
    sample,
    shake_angles,
    validate_rig,
    with_axis,
    with_move,
)
from studio.errors import EditError, ProjectError

W, H = 640, 360
CX, CY = W / 2, H / 2
PRESET_NAMES = [
    "static",
    "dolly_in",
    "dolly_out",
    "pan_left",
    "pan_right",
    "tilt_up",
    "tilt_down",
    "crane_up",
    "crane_down",
    "orbit_left",
    "orbit_right",
    "zoom_in",
    "zoom_out",
    "dolly_zoom",
    "whip_pan",
    "handheld",
]


def f_px(fov_degrees: float = 50.0) -> float:
    return 0.5 / math.tan(math.radians(fov_degrees) / 2) * W


def warp(h: np.ndarray, x: float, y: float) -> np.ndarray:
    p = h @ np.array([x, y, 1.0])
    return p[:2] / p[2]


def last_h(rig: CameraRig, depth: float | None = None, frames: int = 25) -> np.ndarray:
    return homographies(rig, frames, W, H, depth)[-1]


def move(axis: str, end: float, start: float | None = None) -> CameraRig:
    return with_move(CameraRig(), axis, NEUTRAL[axis] if start is None else start, end)


# --- constants --------------------------------------------------------------------------


def test_axes_units_and_neutral() -> None:
    assert AXES == ("pan", "tilt", "roll", "truck", "pedestal", "dolly", "zoom", "orbit")
    assert AXIS_UNITS == {
        "pan": "°",
        "tilt": "°",
        "roll": "°",
        "truck": "units",
        "pedestal": "units",
        "dolly": "units",
        "zoom": "×",
        "orbit": "°",
    }
    assert {axis: 1.0 if axis == "zoom" else 0.0 for axis in AXES} == NEUTRAL
    assert set(PRESETS) == set(PRESET_NAMES)


# --- presets move the picture the right way by the right amount -------------------------


@pytest.mark.parametrize(("name", "sign"), [("pan_right", 1), ("pan_left", -1)])
def test_pan_shifts_the_centre_by_f_tan_theta(name: str, sign: int) -> None:
    x, y = warp(last_h(preset(name)), CX, CY)
    # Panning right by theta moves what was in the centre left by f * tan(theta).
    assert x == pytest.approx(CX - sign * f_px() * math.tan(math.radians(30.0)))
    assert y == pytest.approx(CY)


def test_amount_scales_the_move() -> None:
    x, _ = warp(last_h(preset("pan_right", 0.5)), CX, CY)
    assert x == pytest.approx(CX - f_px() * math.tan(math.radians(15.0)))
    assert preset("pan_right", 0.0) == CameraRig()
    assert preset("zoom_in", 0.0) == CameraRig()
    assert preset("dolly_zoom", 0.0) == CameraRig()
    assert preset("pan_right", -1.0) == preset("pan_left")


@pytest.mark.parametrize(("name", "sign"), [("tilt_up", 1), ("tilt_down", -1)])
def test_tilt_up_moves_content_down(name: str, sign: int) -> None:
    x, y = warp(last_h(preset(name)), CX, CY)
    assert x == pytest.approx(CX)
    assert y == pytest.approx(CY + sign * f_px() * math.tan(math.radians(20.0)))


def test_roll_clockwise_turns_the_picture_counterclockwise() -> None:
    h = last_h(move("roll", 10.0))
    assert warp(h, CX, CY) == pytest.approx([CX, CY])
    x, y = warp(h, CX + 100.0, CY)
    # y grows downwards, so a counterclockwise turn on screen has a negative angle.
    assert math.degrees(math.atan2(y - CY, x - CX)) == pytest.approx(-10.0)
    assert math.hypot(x - CX, y - CY) == pytest.approx(100.0)


@pytest.mark.parametrize(("name", "scale"), [("zoom_in", 1.6), ("zoom_out", 1 / 1.6)])
def test_zoom_scales_about_the_centre(name: str, scale: float) -> None:
    h = last_h(preset(name))
    expected = np.array([[scale, 0, CX * (1 - scale)], [0, scale, CY * (1 - scale)], [0, 0, 1]])
    assert np.allclose(h, expected)


@pytest.mark.parametrize(("name", "dz"), [("dolly_in", 1.5), ("dolly_out", -1.5)])
@pytest.mark.parametrize("depth", [None, 8.0, 2.5])
def test_dolly_scales_a_plane_by_d_over_d_minus_dz(name: str, dz: float, depth: float) -> None:
    d = 4.0 if depth is None else depth
    scale = d / (d - dz)
    h = last_h(preset(name), depth)
    assert warp(h, CX, CY) == pytest.approx([CX, CY])
    assert warp(h, CX + 50.0, CY - 30.0) == pytest.approx([CX + 50 * scale, CY - 30 * scale])


def test_truck_right_moves_content_left() -> None:
    rig = move("truck", 0.5)
    x, y = warp(last_h(rig), CX, CY)
    assert x == pytest.approx(CX - f_px() * 0.5 / 4.0)
    assert y == pytest.approx(CY)
    # Parallax: nearer planes move further.
    assert warp(last_h(rig, depth=2.0), CX, CY)[0] == pytest.approx(CX - f_px() * 0.5 / 2.0)


@pytest.mark.parametrize(("name", "sign"), [("crane_up", 1), ("crane_down", -1)])
def test_pedestal_up_moves_content_down(name: str, sign: int) -> None:
    x, y = warp(last_h(preset(name)), CX, CY)
    assert x == pytest.approx(CX)
    assert y == pytest.approx(CY + sign * f_px() * 1.0 / 4.0)


@pytest.mark.parametrize(("name", "sign"), [("orbit_right", 1), ("orbit_left", -1)])
def test_orbit_keeps_the_subject_centred(name: str, sign: int) -> None:
    rig = preset(name)
    for h in homographies(rig, 25, W, H):
        assert warp(h, CX, CY) == pytest.approx([CX, CY], abs=1e-9)
    track = poses(rig, 25)
    subject = np.array([0.0, 0.0, rig.subject_distance])
    for pose in track:
        offset = subject - pose.centre
        assert np.linalg.norm(offset) == pytest.approx(rig.subject_distance)
        assert pose.rotation_matrix[:, 2] == pytest.approx(offset / np.linalg.norm(offset))
    assert np.sign(track[-1].centre[0]) == sign
    angle = math.degrees(math.atan2(track[-1].centre[0], subject[2] - track[-1].centre[2]))
    assert angle == pytest.approx(sign * 30.0)
    # Around the subject: the foreground slides against the camera, the background with it.
    assert np.sign(warp(last_h(rig, depth=2.0), CX, CY)[0] - CX) == -sign
    assert np.sign(warp(last_h(rig, depth=8.0), CX, CY)[0] - CX) == sign


def test_dolly_zoom_keeps_the_subject_size_and_changes_the_background() -> None:
    rig = preset("dolly_zoom")
    for h in homographies(rig, 97, W, H):
        assert np.allclose(h[:2, :2], np.eye(2), atol=0.015)
        assert warp(h, CX, CY) == pytest.approx([CX, CY])
    track = poses(rig, 97)
    assert track[-1].translation == pytest.approx((0.0, 0.0, 1.5))
    assert track[-1].focal < track[0].focal
    assert last_h(rig)[0, 0] == pytest.approx(1.0, abs=1e-12)
    assert last_h(rig, depth=8.0)[0, 0] == pytest.approx(8 / 6.5 * 2.5 / 4)
    with pytest.raises(ValueError):
        preset("dolly_zoom", 3.0)


def test_whip_pan_is_fast_and_large() -> None:
    rig = preset("whip_pan")
    values = sample(rig, 11)["pan"]
    assert values[4] == 0.0 and values[6] == 90.0 and values[-1] == 90.0
    forward = poses(rig, 11)[-1].rotation_matrix[:, 2]
    assert forward == pytest.approx([1.0, 0.0, 0.0], abs=1e-12)


def test_handheld_shakes_smoothly_within_its_amplitude() -> None:
    rig = preset("handheld")
    assert is_static(rig.__class__()) and not is_static(rig)
    track = poses(rig, 120)
    assert poses(rig, 120) == track
    angles = [
        math.degrees(math.acos(min(1.0, (np.trace(p.rotation_matrix) - 1) / 2))) for p in track
    ]
    assert angles[0] == 0.0
    assert 0.1 < max(angles) <= rig.shake.amplitude * math.sqrt(3) + 1e-9
    assert all(p.translation == (0.0, 0.0, 0.0) for p in track)
    jitter = shake_angles(rig.shake, 120)
    assert np.abs(jitter).max() <= rig.shake.amplitude
    other = shake_angles(Shake(rig.shake.amplitude, rig.shake.frequency, seed=1), 120)
    assert not np.array_equal(jitter, other)
    assert not np.array_equal(jitter, shake_angles(rig.shake, 120, fps=30.0))


def test_shake_is_zero_without_amplitude_or_frequency() -> None:
    assert not shake_angles(Shake(0.0, 3.0, 5), 48).any()
    assert not shake_angles(Shake(2.0, 0.0, 5), 48).any()
    assert is_static(CameraRig(shake=Shake(0.0, 3.0, 5)))
    rig = CameraRig(shake=Shake(0.0, 3.0, 5))
    assert all(np.array_equal(p.rotation_matrix, np.eye(3)) for p in poses(rig, 10))


@pytest.mark.parametrize("name", PRESET_NAMES)
@pytest.mark.parametrize("frames", [1, 2, 49])
def test_every_preset_starts_at_the_identity_pose(name: str, frames: int) -> None:
    rig = preset(name)
    assert validate_rig(rig) is rig
    assert PRESETS[name]() == rig
    track = poses(rig, frames)
    assert len(track) == frames
    assert track[0].rotation == ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    assert track[0].translation == (0.0, 0.0, 0.0)
    assert track[0].focal == 0.5 / math.tan(math.radians(25.0))
    hs = homographies(rig, frames, W, H)
    assert hs.shape == (frames, 3, 3) and hs.dtype == np.float64
    assert np.allclose(hs[0], np.eye(3))
    assert np.all(hs[:, 2, 2] == 1.0)
    json.dumps(rig_to_dict(rig))


def test_unknown_preset_lists_the_names() -> None:
    with pytest.raises(ValueError) as info:
        preset("vertigo")
    assert "dolly_zoom" in str(info.value) and "handheld" in str(info.value)
    assert not isinstance(info.value, KeyError)
    with pytest.raises(ValueError):
        preset("pan_right", math.inf)
    with pytest.raises(ValueError):
        preset("pan_right", 1e6)


# --- poses and homographies in general --------------------------------------------------

moderate = {
    "pan": (-40.0, 40.0),
    "tilt": (-30.0, 30.0),
    "roll": (-30.0, 30.0),
    "truck": (-1.0, 1.0),
    "pedestal": (-1.0, 1.0),
    "dolly": (-1.0, 1.0),
    "zoom": (0.5, 2.0),
    "orbit": (-40.0, 40.0),
}


def keyframes(low: float, high: float, max_size: int = 4) -> st.SearchStrategy:
    key = st.tuples(st.floats(0.0, 1.0), st.floats(low, high), st.sampled_from(list(Easing)))
    return st.lists(key, max_size=max_size, unique_by=lambda k: k[0]).map(
        lambda ks: tuple(Keyframe(t, v, e) for t, v, e in sorted(ks))
    )


moderate_rigs = st.builds(
    CameraRig,
    **{axis: keyframes(*bounds) for axis, bounds in moderate.items()},
    shake=st.builds(Shake, st.floats(0.0, 3.0), st.floats(0.0, 5.0), st.integers(0, 99)),
    subject_distance=st.floats(2.0, 20.0),
    fov_degrees=st.floats(20.0, 90.0),
)


@settings(max_examples=60, deadline=None)
@given(rig=moderate_rigs, i=st.integers(0, 8), j=st.integers(0, 8))
def test_homography_matches_projecting_the_plane(rig: CameraRig, i: int, j: int) -> None:
    track = poses(rig, 9)
    a, b = track[i], track[j]
    for pose in (a, b):
        r = pose.rotation_matrix
        assert np.allclose(r @ r.T, np.eye(3)) and np.linalg.det(r) == pytest.approx(1.0)
    depth = rig.subject_distance
    h = homography(a, b, W, H, depth)
    assert h[2, 2] == 1.0
    grid = np.array([(x, y) for x in (-1.0, 0.0, 1.0) for y in (-0.6, 0.0, 0.6)]) * depth
    for x, y in grid:
        world = a.rotation_matrix @ np.array([x, y, depth]) + a.centre
        seen = b.rotation_matrix.T @ (world - b.centre)
        if seen[2] < 0.2:
            continue
        pixel_a = a.intrinsics(W, H) @ np.array([x / depth, y / depth, 1.0])
        pixel_b = b.intrinsics(W, H) @ (seen / seen[2])
        assert warp(h, *pixel_a[:2]) == pytest.approx(pixel_b[:2], rel=1e-7, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(rig=moderate_rigs, frames=st.integers(1, 30))
def test_the_track_of_homographies_is_each_frame_seen_from_the_first(
    rig: CameraRig, frames: int
) -> None:
    # The whole track is computed at once; each frame must be the single-pose homography.
    track = poses(rig, frames)
    hs = homographies(rig, frames, W, H)
    assert hs.shape == (frames, 3, 3)
    for i, pose in enumerate(track):
        single = homography(track[0], pose, W, H, rig.subject_distance)
        assert np.allclose(hs[i], single, rtol=1e-9, atol=1e-9)


def test_homography_of_the_same_pose_is_the_identity_and_composes_for_rotations() -> None:
    track = poses(with_move(move("pan", 25.0), "tilt", 0.0, -10.0), 5)
    assert np.allclose(homography(track[2], track[2], W, H, 3.0), np.eye(3))
    h02 = homography(track[0], track[2], W, H, 3.0)
    h24 = homography(track[2], track[4], W, H, 3.0)
    h04 = homography(track[0], track[4], W, H, 3.0)
    composed = h24 @ h02
    assert np.allclose(composed / composed[2, 2], h04)
    with pytest.raises(ValueError):
        homography(track[0], track[1], W, H, 0.0)
    with pytest.raises(ValueError):
        homography(track[0], track[1], 0, H, 1.0)


def test_camera_pose_matrices() -> None:
    pose = poses(preset("orbit_right"), 3)[-1]
    k = pose.intrinsics(W, H)
    assert k[0, 0] == k[1, 1] == pose.focal_pixels(W) == pytest.approx(f_px())
    assert (k[0, 2], k[1, 2]) == (CX, CY)
    extrinsic = pose.world_to_camera()
    assert extrinsic[:3, :] @ np.append(pose.centre, 1.0) == pytest.approx(np.zeros(3))
    assert extrinsic[:3, :3] @ pose.rotation_matrix == pytest.approx(np.eye(3))
    assert isinstance(pose, CameraPose)


def test_fps_only_matters_for_shake() -> None:
    rig = with_move(preset("dolly_in"), "pan", 0.0, 10.0)
    assert poses(rig, 30, fps=12.0) == poses(rig, 30, fps=60.0)
    with pytest.raises(ValueError):
        poses(preset("handheld"), 30, fps=0.0)
    with pytest.raises(ValueError):
        poses(rig, 0)


def test_zoom_focal_is_geometric() -> None:
    rig = with_move(CameraRig(), "zoom", 1.0, 4.0, Easing.LINEAR)
    track = poses(rig, 3)
    assert track[1].focal / track[0].focal == pytest.approx(2.0)
    assert track[2].focal / track[0].focal == pytest.approx(4.0)


# --- axes, sampling and editing ---------------------------------------------------------


def test_sample_puts_frame_i_at_i_over_n_minus_1() -> None:
    rig = with_move(with_move(CameraRig(), "pan", 0.0, 40.0, Easing.LINEAR), "zoom", 1.0, 4.0)
    values = sample(rig, 5)
    assert set(values) == set(AXES)
    assert values["pan"].tolist() == [0.0, 10.0, 20.0, 30.0, 40.0]
    assert values["zoom"][0] == 1.0 and values["zoom"][-1] == 4.0
    assert values["zoom"][2] == pytest.approx(2.0)
    assert values["tilt"].tolist() == [0.0] * 5
    assert sample(rig, 1)["pan"].tolist() == [0.0]
    assert axis_value(rig.zoom, 0.5, log=True) == pytest.approx(2.0)


def test_with_move_and_with_axis() -> None:
    rig = with_move(CameraRig(), "dolly", 0.0, 2.0, Easing.EASE_OUT)
    assert rig.dolly == (Keyframe(0.0, 0.0, Easing.EASE_OUT), Keyframe(1.0, 2.0, Easing.EASE_OUT))
    assert with_move(rig, "dolly", 0.0, 0.0) == CameraRig()
    assert with_move(CameraRig(), "zoom", 1.0, 1.0) == CameraRig()
    assert with_move(CameraRig(), "zoom", 2.0, 2.0).zoom[1].value == 2.0
    keys = [Keyframe(0.0, 1.0), Keyframe(0.5, 3.0, Easing.HOLD)]
    assert with_axis(CameraRig(), "tilt", keys).tilt == tuple(keys)
    with pytest.raises(EditError):
        with_axis(CameraRig(), "tilt", [Keyframe(0.5, 1.0), Keyframe(0.5, 3.0)])
    with pytest.raises(EditError):
        with_move(CameraRig(), "zoom", 1.0, 0.0)
    with pytest.raises(ValueError):
        with_axis(CameraRig(), "yaw", ())
    with pytest.raises(ValueError):
        with_move(CameraRig(), "yaw", 0.0, 1.0)


def test_is_static() -> None:
    assert is_static(CameraRig())
    assert is_static(CameraRig(pan=(Keyframe(0.0, 12.0),), zoom=(Keyframe(0.3, 2.0),)))
    assert is_static(with_move(CameraRig(), "pan", 5.0, 5.0))
    assert not is_static(preset("zoom_in"))
    assert not is_static(preset("handheld"))


# --- camera language --------------------------------------------------------------------

EXPECTED_WORDS = {
    "static": "static camera",
    "dolly_in": "dolly in",
    "dolly_out": "dolly out",
    "pan_left": "pan left",
    "pan_right": "pan right",
    "tilt_up": "tilt up",
    "tilt_down": "tilt down",
    "crane_up": "crane up",
    "crane_down": "crane down",
    "orbit_left": "orbit left around the subject",
    "orbit_right": "orbit right around the subject",
    "zoom_in": "zoom in",
    "zoom_out": "zoom out",
    "dolly_zoom": "dolly zoom",
    "whip_pan": "fast whip pan right",
    "handheld": "handheld camera shake",
}


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_describe_presets(name: str) -> None:
    assert describe(preset(name)) == EXPECTED_WORDS[name]
    assert describe(preset(name), 5.0) == EXPECTED_WORDS[name]


def test_describe_speed() -> None:
    assert describe(preset("dolly_in", 0.3)) == "slow dolly in"
    assert describe(preset("dolly_in"), 1.0) == "fast dolly in"
    assert describe(preset("dolly_in"), 20.0) == "slow dolly in"
    assert describe(preset("pan_right", 3.0)) == "fast whip pan right"
    assert describe(preset("pan_right", 3.0), 10.0) == "pan right"
    assert describe(preset("whip_pan"), 10.0) == "fast whip pan right"
    with pytest.raises(ValueError):
        describe(CameraRig(), 0.0)
    with pytest.raises(ValueError):
        describe(CameraRig(), math.nan)


def test_describe_combinations() -> None:
    rig = with_move(move("dolly", 0.6), "pan", 0.0, -6.0)
    assert describe(rig) == "slow dolly in while panning left"
    rig = with_move(with_move(preset("dolly_in"), "pan", 0.0, -10.0), "tilt", 0.0, 5.0)
    assert describe(rig) == "dolly in while panning left and tilting up"
    rig = with_move(move("tilt", 40.0), "pan", 0.0, 30.0)
    assert describe(rig) == "tilt up while panning right"
    rig = with_move(move("tilt", 20.0), "pan", 0.0, 30.0)
    assert describe(rig) == "pan right while tilting up"
    rig = CameraRig(shake=Shake(1.0, 1.2), dolly=preset("dolly_in").dolly)
    assert describe(rig) == "dolly in with handheld camera shake"
    assert describe(CameraRig(shake=Shake(0.2, 1.0))) == "subtle handheld camera shake"
    assert describe(CameraRig(shake=Shake(5.0, 1.0))) == "strong handheld camera shake"


def test_describe_other_moves() -> None:
    assert describe(move("roll", 15.0)) == "roll clockwise"
    assert describe(move("roll", -15.0)) == "roll counterclockwise"
    assert describe(move("truck", 1.0)) == "truck right"
    assert describe(move("truck", -1.0)) == "truck left"
    there_and_back = (Keyframe(0.0, 0.0), Keyframe(0.5, 20.0), Keyframe(1.0, 0.0))
    assert describe(with_axis(CameraRig(), "pan", there_and_back)) == "pan back and forth"
    reverse = with_move(move("dolly", -1.5), "zoom", 1.0, 5.5 / 4.0)
    assert describe(reverse) == "dolly zoom"
    constant = CameraRig(pan=(Keyframe(0.0, 30.0),), zoom=(Keyframe(0.0, 2.0),))
    assert describe(constant) == "static camera"
    assert describe(move("pan", 0.01)) == "static camera"


@settings(max_examples=50, deadline=None)
@given(rig=moderate_rigs, duration=st.one_of(st.none(), st.floats(0.1, 60.0)))
def test_describe_is_deterministic_lower_case_text(rig: CameraRig, duration: float) -> None:
    text = describe(rig, duration)
    assert text == describe(rig, duration)
    assert text == text.lower() == text.strip() and text
    assert "  " not in text


# --- persistence ------------------------------------------------------------------------


def full_keyframes(low: float, high: float) -> st.SearchStrategy:
    return keyframes(low, high, max_size=6)


valid_rigs = st.builds(
    CameraRig,
    **{
        axis: full_keyframes(*((1e-3, 1e3) if axis == "zoom" else (-limit, limit)))
        for axis, limit in [
            (a, 3600.0 if a in ("pan", "tilt", "roll", "orbit") else 1e4) for a in AXES
        ]
    },
    shake=st.builds(Shake, st.floats(0.0, 90.0), st.floats(0.0, 120.0), st.integers(0, 2**63 - 1)),
    subject_distance=st.floats(1e-3, 1e4),
    fov_degrees=st.floats(1.0, 179.0, exclude_max=True),
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(rig=valid_rigs)
def test_round_trip_is_exact(rig: CameraRig) -> None:
    assert validate_rig(rig) is rig
    data = rig_to_dict(rig)
    assert rig_from_dict(data) == rig
    text = json.dumps(data, allow_nan=False)
    back = rig_from_dict(json.loads(text))
    assert back == rig
    assert rig_to_dict(back) == data
    for axis in AXES:
        for a, b in zip(getattr(back, axis), getattr(rig, axis), strict=True):
            assert math.copysign(1, a.value) == math.copysign(1, b.value)


def test_dict_shape() -> None:
    assert rig_to_dict(CameraRig()) == {"subject_distance": 4.0, "fov_degrees": 50.0}
    data = rig_to_dict(with_move(preset("handheld"), "pan", 0.0, 30.0, Easing.LINEAR))
    assert data == {
        "pan": [
            {"t": 0.0, "value": 0.0, "easing": "linear"},
            {"t": 1.0, "value": 30.0, "easing": "linear"},
        ],
        "shake": {"amplitude": 1.0, "frequency": 1.2, "seed": 0},
        "subject_distance": 4.0,
        "fov_degrees": 50.0,
    }
    assert type(data["pan"][0]["easing"]) is str
    rig = rig_from_dict({"zoom": [{"t": 0, "value": 2}], "shake": {"amplitude": 1}})
    assert rig.zoom == (Keyframe(0.0, 2.0, Easing.EASE_IN_OUT),)
    assert type(rig.zoom[0].t) is float and type(rig.zoom[0].value) is float
    assert rig.shake == Shake(1.0, 0.0, 0)
    assert rig_from_dict({}) == CameraRig()


def kf(t: Any = 0.0, value: Any = 0.0, **extra: Any) -> dict[str, Any]:
    return {"t": t, "value": value, **extra}


BAD_INPUT = [
    ("x", "$.camera"),
    (None, "$.camera"),
    ([], "$.camera"),
    ({"bogus": 1}, "$.camera.bogus"),
    ({"axes": {}}, "$.camera.axes"),
    ({"pan": {}}, "$.camera.pan"),
    ({"pan": [1]}, "$.camera.pan[0]"),
    ({"pan": [{"t": 0}]}, "$.camera.pan[0].value"),
    ({"pan": [{"value": 0}]}, "$.camera.pan[0].t"),
    ({"pan": [kf(0.0), kf(0.0, 1)]}, "$.camera.pan[1].t"),
    ({"pan": [kf(0.5), kf(0.2, 1)]}, "$.camera.pan[1].t"),
    ({"tilt": [kf(1.5)]}, "$.camera.tilt[0].t"),
    ({"tilt": [kf(-0.0), kf(-1e-9)]}, "$.camera.tilt[1].t"),
    ({"zoom": [kf(0.0, 0)]}, "$.camera.zoom[0].value"),
    ({"zoom": [kf(0.0, 1), kf(1.0, -2)]}, "$.camera.zoom[1].value"),
    ({"dolly": [kf(0.0, True)]}, "$.camera.dolly[0].value"),
    ({"dolly": [kf(0.0, "1")]}, "$.camera.dolly[0].value"),
    ({"dolly": [kf(None, 1)]}, "$.camera.dolly[0].t"),
    ({"truck": [kf(0.0, 1e300)]}, "$.camera.truck[0].value"),
    ({"pan": [kf(0.0, 10**400)]}, "$.camera.pan[0].value"),
    ({"pan": [kf(0.0, math.nan)]}, "$.camera.pan[0].value"),
    ({"pan": [kf(0.0, -math.inf)]}, "$.camera.pan[0].value"),
    ({"roll": [kf(0.0, 1, easing="bounce")]}, "$.camera.roll[0].easing"),
    ({"roll": [kf(0.0, 1, easing=None)]}, "$.camera.roll[0].easing"),
    ({"roll": [kf(0.0, 1, easing=["linear"])]}, "$.camera.roll[0].easing"),
    ({"roll": [kf(0.0, 1, extra=2)]}, "$.camera.roll[0].extra"),
    ({"shake": []}, "$.camera.shake"),
    ({"shake": {"amplitude": -1}}, "$.camera.shake.amplitude"),
    ({"shake": {"frequency": math.inf}}, "$.camera.shake.frequency"),
    ({"shake": {"seed": 1.5}}, "$.camera.shake.seed"),
    ({"shake": {"seed": -1}}, "$.camera.shake.seed"),
    ({"shake": {"seed": 2**70}}, "$.camera.shake.seed"),
    ({"shake": {"wobble": 1}}, "$.camera.shake.wobble"),
    ({"subject_distance": 0}, "$.camera.subject_distance"),
    ({"subject_distance": None}, "$.camera.subject_distance"),
    ({"fov_degrees": 179}, "$.camera.fov_degrees"),
    ({"fov_degrees": 0.5}, "$.camera.fov_degrees"),
    ({"fov_degrees": 10**400}, "$.camera.fov_degrees"),
]


@pytest.mark.parametrize(("data", "path"), BAD_INPUT)
def test_bad_input_names_its_json_path(data: Any, path: str) -> None:
    with pytest.raises(ProjectError) as info:
        rig_from_dict(data)
    assert info.value.path == path
    with pytest.raises(ProjectError) as info:
        rig_from_dict(data, "$.shots[2].camera")
    assert info.value.path == path.replace("$.camera", "$.shots[2].camera", 1)


def test_validate_rig_names_the_field_of_a_hand_built_rig() -> None:
    cases = [
        (CameraRig(pan=[Keyframe(0.0, 1.0)]), "$.camera.pan"),  # type: ignore[arg-type]
        (CameraRig(orbit=(Keyframe(0.0, 1.0), Keyframe(0.0, 2.0))), "$.camera.orbit[1].t"),
        (CameraRig(shake=Shake(1.0, 1.0, True)), "$.camera.shake.seed"),  # type: ignore[arg-type]
        (CameraRig(shake=None), "$.camera.shake"),  # type: ignore[arg-type]
        (CameraRig(subject_distance=-1.0), "$.camera.subject_distance"),
        (CameraRig(fov_degrees=math.nan), "$.camera.fov_degrees"),
    ]
    for rig, path in cases:
        with pytest.raises(ProjectError) as info:
            validate_rig(rig)
        assert info.value.path == path
    with pytest.raises(ProjectError):
        validate_rig("rig")  # type: ignore[arg-type]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
numbers = st.one_of(
    st.floats(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([0, 1, -1, 0.5, 1e-320, 179, 2**63]),
)
slot = st.one_of(json_values, numbers, st.sampled_from([e.value for e in Easing]))
keyframe_like = st.dictionaries(
    st.sampled_from(["t", "value", "easing", "other"]), slot, max_size=4
) | st.fixed_dictionaries({"t": numbers, "value": numbers}, optional={"easing": slot})
rig_like = st.fixed_dictionaries(
    {},
    optional={
        **{axis: st.lists(keyframe_like, max_size=4) | json_values for axis in AXES},
        "shake": st.dictionaries(
            st.sampled_from(["amplitude", "frequency", "seed", "x"]), slot, max_size=4
        )
        | json_values,
        "subject_distance": slot,
        "fov_degrees": slot,
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(json_values, rig_like))
def test_rig_from_dict_only_ever_raises_project_error(data: Any) -> None:
    try:
        rig = rig_from_dict(data)
    except ProjectError as error:
        assert error.path.startswith("$.camera")
        return
    assert validate_rig(rig) is rig
    assert rig_from_dict(rig_to_dict(rig)) == rig
    poses(rig, 3)
    describe(rig)
