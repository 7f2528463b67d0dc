"""A rig's cameras as matrices and Plücker ray maps, for camera-conditioned video models.

Conventions are the rig's (`studio.camera.rig`): OpenCV axes (x right, y down, z forward),
the world frame is the camera of frame 0 of a rig whose axes start neutral, pixels have
their origin at the top-left corner of the frame and the principal point at its centre.

- `camera_matrices` gives each frame's intrinsics K (3x3, in pixels of the frame) and
  extrinsics [R|t] (3x4, world to camera: x_camera = R x_world + t).
- `plucker` gives each frame's Plücker ray map, as CameraCtrl and its successors take it:
  for the pixel centre (u, v) the unit ray direction d = R^T K^-1 (u, v, 1) (normalised) in
  world coordinates and its moment o x d about the world origin, o the camera centre;
  six channels (o x d, d), channels first: (frames, 6, rows, columns).
- `camera_arrays` is what the engine saves beside a take's manifest (`<take>.camera.npz`):
  the matrices at the frame's size and the ray maps on a grid `stride` times coarser (the
  latent grid of the Wan, HunyuanVideo and CogVideoX autoencoders for the default 8),
  sampled at the centres of the grid's cells.
"""

from __future__ import annotations

import numpy as np

from studio.camera import rig as camera
from studio.camera.rig import CameraRig

CONVENTION = (
    "OpenCV axes (x right, y down, z forward), world = camera of frame 0; "
    "extrinsics world to camera [R|t]; plucker channels (o x d, d), d unit, per frame"
)
DEFAULT_STRIDE = 8


def camera_matrices(
    rig: CameraRig, frames: int, width: int, height: int, fps: float = 24.0
) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: intrinsics K (frames, 3, 3) and extrinsics [R|t] (frames, 3, 4), world to
    camera, float64."""
    if not (width > 0 and height > 0):
        raise ValueError("width and height must be positive")
    poses = camera.poses(rig, frames, fps)
    intrinsics = np.stack([pose.intrinsics(width, height) for pose in poses])
    extrinsics = np.stack([pose.world_to_camera()[:3] for pose in poses])
    return intrinsics, extrinsics


def plucker(
    intrinsics: np.ndarray,
    extrinsics: np.ndarray,
    width: int,
    height: int,
    stride: int = 1,
) -> np.ndarray:
    """Plücker ray maps (frames, 6, rows, columns), float32, of cameras given as
    `camera_matrices` gives them for a width x height frame; with `stride` > 1 on a grid of
    stride x stride pixel cells, each ray through its cell's centre."""
    if stride < 1:
        raise ValueError(f"stride must be at least 1, found {stride}")
    columns, rows = max(1, width // stride), max(1, height // stride)
    cell_x, cell_y = width / columns, height / rows
    u = (np.arange(columns) + 0.5) * cell_x
    v = (np.arange(rows) + 0.5) * cell_y
    pixels = np.stack(
        [np.broadcast_to(u, (rows, columns)), np.broadcast_to(v[:, None], (rows, columns))]
        + [np.ones((rows, columns))]
    ).reshape(3, -1)  # (3, rows * columns)
    rotations = extrinsics[:, :, :3]  # world to camera
    centres = -np.einsum("nji,nj->ni", rotations, extrinsics[:, :, 3])  # -R^T t
    bearings = np.linalg.inv(intrinsics) @ pixels  # camera coordinates, (n, 3, pixels)
    directions = np.swapaxes(rotations, 1, 2) @ bearings  # world coordinates
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    moments = np.cross(centres[:, :, None], directions, axis=1)
    maps = np.concatenate([moments, directions], axis=1)
    return maps.reshape(len(maps), 6, rows, columns).astype(np.float32)


def camera_arrays(
    rig: CameraRig,
    frames: int,
    width: int,
    height: int,
    fps: float = 24.0,
    stride: int = DEFAULT_STRIDE,
) -> dict[str, np.ndarray]:
    """What the take's camera file holds: `intrinsics`, `extrinsics` (float64), `plucker`
    (float16, on the `stride` grid), `size` (width, height), `fps`, `stride` and
    `convention` (a sentence)."""
    intrinsics, extrinsics = camera_matrices(rig, frames, width, height, fps)
    maps = plucker(intrinsics, extrinsics, width, height, stride)
    return {
        "intrinsics": intrinsics,
        "extrinsics": extrinsics,
        "plucker": maps.astype(np.float16),
        "size": np.array([width, height], np.int64),
        "fps": np.array(float(fps)),
        "stride": np.array(stride, np.int64),
        "convention": np.array(CONVENTION),
    }
