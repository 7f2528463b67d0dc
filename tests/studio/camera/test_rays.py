"""A rig's camera matrices and Plücker ray maps: shapes, a pan turns about the vertical
axis alone, a dolly moves along the view, the rays are the pixels' rays."""

from __future__ import annotations

import math

import numpy as np

from studio.camera.rays import camera_arrays, camera_matrices, plucker
from studio.camera.rig import CameraRig, preset, with_move


def yaw(degrees: float) -> np.ndarray:
    """Camera-to-world rotation of a pan right by `degrees` (z turns towards x)."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def test_matrices_have_one_camera_per_frame():
    intrinsics, extrinsics = camera_matrices(preset("dolly_in"), 17, 64, 48)
    assert intrinsics.shape == (17, 3, 3) and extrinsics.shape == (17, 3, 4)
    focal = 0.5 / math.tan(math.radians(25.0)) * 64  # the rig's 50 degrees across the width
    np.testing.assert_allclose(intrinsics[0], [[focal, 0, 32], [0, focal, 24], [0, 0, 1]])
    np.testing.assert_allclose(extrinsics[0], np.eye(3, 4), atol=1e-12)


def test_a_pure_pan_turns_about_the_vertical_axis_alone():
    rig = with_move(CameraRig(), "pan", 0.0, 40.0)
    _, extrinsics = camera_matrices(rig, 9, 64, 48)
    rotations, translations = extrinsics[:, :, :3], extrinsics[:, :, 3]
    np.testing.assert_allclose(translations, 0.0, atol=1e-12)  # the camera stays put
    for rotation in rotations:
        assert np.allclose(rotation[1], [0, 1, 0]) and np.allclose(rotation[:, 1], [0, 1, 0])
        angle = math.degrees(math.atan2(rotation[2, 0], rotation[0, 0]))  # world to camera
        np.testing.assert_allclose(rotation, yaw(angle).T, atol=1e-12)
    end = math.degrees(math.atan2(rotations[-1][2, 0], rotations[-1][0, 0]))
    assert math.isclose(end, 40.0)  # all the way right at the last frame


def test_plucker_maps_are_each_pixels_ray_and_its_moment():
    rig = with_move(with_move(CameraRig(), "pan", 0.0, 30.0), "truck", 0.0, 1.0)
    intrinsics, extrinsics = camera_matrices(rig, 5, 64, 48)
    maps = plucker(intrinsics, extrinsics, 64, 48)
    assert maps.shape == (5, 6, 48, 64) and maps.dtype == np.float32
    moments, directions = maps[:, :3], maps[:, 3:]
    np.testing.assert_allclose(np.linalg.norm(directions, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose((moments * directions).sum(axis=1), 0.0, atol=1e-6)
    # The centre ray of the last frame looks where the camera looks: 30 degrees right.
    centre = directions[-1, :, 24, 32].astype(np.float64)
    ray = yaw(30.0) @ np.linalg.solve(intrinsics[-1], [32.5, 24.5, 1.0])
    np.testing.assert_allclose(centre, ray / np.linalg.norm(ray), atol=1e-6)
    # Its moment is the camera centre (one unit right) crossed with the ray.
    np.testing.assert_allclose(moments[-1, :, 24, 32], np.cross([1.0, 0, 0], centre), atol=1e-6)
    still = plucker(*camera_matrices(CameraRig(), 2, 64, 48), 64, 48)
    np.testing.assert_allclose(still[:, :3], 0.0, atol=1e-7)  # a camera at the origin


def test_the_take_file_holds_the_matrices_and_coarse_maps():
    arrays = camera_arrays(preset("orbit_left"), 9, 832, 480, fps=16.0)
    assert arrays["intrinsics"].shape == (9, 3, 3) and arrays["extrinsics"].shape == (9, 3, 4)
    assert arrays["plucker"].shape == (9, 6, 60, 104) and arrays["plucker"].dtype == np.float16
    assert arrays["size"].tolist() == [832, 480] and float(arrays["fps"]) == 16.0
    assert int(arrays["stride"]) == 8 and "OpenCV" in str(arrays["convention"])
    fine = plucker(arrays["intrinsics"], arrays["extrinsics"], 832, 480)
    # A cell's ray is the ray through its centre pixel corner: between the fine rays.
    coarse = arrays["plucker"][:, 3:, 10, 20].astype(np.float32)
    around = fine[:, 3:, 83:85, 163:165].mean(axis=(2, 3))
    np.testing.assert_allclose(coarse, around / np.linalg.norm(around, axis=1)[:, None], atol=2e-3)
