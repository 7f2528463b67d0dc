"""Camera adherence: how closely a take's camera followed its rig, in the rig's own terms.

The engine recovers a take's global motion from its frames (`engine.media.adherence`): one
3x3 homography per measured frame, taking frame 0's pixels to that frame's, in the pixel
convention of `studio.camera.rig.homographies` (x right, y down, the principal point at
the picture centre). This module compares those with the rig's homographies; it is plain
numpy, so a take's result can be read, stored and ranked anywhere.

Pan, tilt, roll and zoom of a homography (`decompose`): about the picture centre and in
units of the focal length the rig assumes (its horizontal field of view and its zoom at
frame 0), the homography is s * diag(z, z, 1) * R^T, with z the zoom ratio (focal length of
the frame over that of frame 0) and R the camera's turn since frame 0. R is the nearest
rotation to what is left once z is divided out, read as R_y(pan) R_x(tilt) R_z(roll), the
rig's order and signs. A pure pan, tilt, roll or zoom is read back exactly; moves of the
camera's position read as the turn and zoom that look the same (a dolly in as a zoom in,
a truck right as a pan right), and the rig's expected values come from the same reading
of its own homography, so both sides are always compared alike.

The score (0 to 100) compares the whole path, not only the end: for each measured frame i,
the relative map D_i = H_measured,i * H_rig,i^-1 takes where the rig would put the picture
to where the take put it; e_i is the mean distance D_i moves the frame's four corners, as
a fraction of the picture's diagonal (at most 1: a corner sent to infinity counts as a
whole diagonal). With E = (mean of e_i over the measured frames + e_last) / 2,

    score = 100 * max(0, 1 - E / 0.2)

so a take that puts the picture where the rig says scores 100, one whose picture sits a
fiftieth of the diagonal off on average scores 90, and one that is a fifth of the diagonal
off scores 0 (a static take of a 30 degree pan is about half a diagonal off at its end).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from studio.camera import rig as camera
from studio.camera.rig import CameraRig
from studio.errors import ProjectError
from studio.project import validate as jv

TOLERANCE = 0.2  # a mean corner error of this fraction of the diagonal scores 0
_MOVE_KEYS = ("pan_deg", "tilt_deg", "roll_deg", "zoom")
_ADHERENCE_KEYS = (
    *_MOVE_KEYS,
    "score",
    "expected",
    "path_error",
    "end_error",
    "coverage",
    "frames",
)


def _rounded(value: float, digits: int) -> float:
    return round(float(value), digits) + 0.0  # no -0.0


@dataclass(frozen=True)
class CameraMove:
    """A camera's motion from the first frame to a later one: pan, tilt and roll in degrees
    (the rig's signs: + right, + up, + clockwise) and zoom as a focal length ratio (> 1 in)."""

    pan_deg: float = 0.0
    tilt_deg: float = 0.0
    roll_deg: float = 0.0
    zoom: float = 1.0

    def to_dict(self) -> dict[str, float]:
        """Rounded to a ten-thousandth of a degree and a millionth of the zoom."""
        out = {key: _rounded(getattr(self, key), 4) for key in _MOVE_KEYS[:3]}
        return {**out, "zoom": _rounded(self.zoom, 6)}

    @classmethod
    def from_dict(cls, data: object, path: str) -> CameraMove:
        d = jv.expect_dict(data, path, _MOVE_KEYS)
        angles = {
            key: jv.get_float(d, key, path, min_value=-360.0, max_value=360.0)
            for key in _MOVE_KEYS[:3]
        }
        zoom = jv.get_float(d, "zoom", path, min_value=0.0)
        if zoom <= 0.0:
            raise ProjectError(f"{path}.zoom", f"must be more than 0, found {zoom}")
        return cls(**angles, zoom=zoom)


@dataclass(frozen=True)
class Adherence:
    """A take's camera measured from its frames against its rig.

    `pan_deg`, `tilt_deg`, `roll_deg` and `zoom` are the measured move from the first to
    the last frame, `expected` the rig's; `score` is 0 to 100 (see the module docstring),
    from `path_error` (the mean corner error over the measured frames, a fraction of the
    diagonal) and `end_error` (the same at the last frame). `coverage` is the fraction of
    the measured frames whose motion could be followed (the rest were held where the
    track was lost: a cut, a frame without texture), and `frames` how many were measured.
    """

    pan_deg: float
    tilt_deg: float
    roll_deg: float
    zoom: float
    score: float
    expected: CameraMove = CameraMove()
    path_error: float = 0.0
    end_error: float = 0.0
    coverage: float = 1.0
    frames: int = 0

    @property
    def measured(self) -> CameraMove:
        return CameraMove(self.pan_deg, self.tilt_deg, self.roll_deg, self.zoom)

    @property
    def errors(self) -> CameraMove:
        """Per axis: measured minus expected (degrees), and the zoom measured over expected."""
        return CameraMove(
            self.pan_deg - self.expected.pan_deg,
            self.tilt_deg - self.expected.tilt_deg,
            self.roll_deg - self.expected.roll_deg,
            self.zoom / self.expected.zoom,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.measured.to_dict(),
            "score": _rounded(self.score, 2),
            "expected": self.expected.to_dict(),
            "path_error": _rounded(self.path_error, 6),
            "end_error": _rounded(self.end_error, 6),
            "coverage": _rounded(self.coverage, 4),
            "frames": int(self.frames),
        }

    @classmethod
    def from_dict(cls, data: object, path: str) -> Adherence:
        d = jv.expect_dict(data, path, _ADHERENCE_KEYS)
        move = CameraMove.from_dict({k: d[k] for k in _MOVE_KEYS if k in d}, path)
        return cls(
            **move.to_dict(),
            score=jv.get_float(d, "score", path, min_value=0.0, max_value=100.0),
            expected=CameraMove.from_dict(d.get("expected", {}), f"{path}.expected"),
            path_error=jv.get_float(d, "path_error", path, 0.0, min_value=0.0, max_value=1.0),
            end_error=jv.get_float(d, "end_error", path, 0.0, min_value=0.0, max_value=1.0),
            coverage=jv.get_float(d, "coverage", path, 1.0, min_value=0.0, max_value=1.0),
            frames=jv.get_int(d, "frames", path, 0, min_value=0),
        )

    def summary(self) -> str:
        """One line for people: "camera 94: pan +29.4° (rig +30.0°), zoom ×1.00 (rig
        ×1.20)", naming the axes that the rig moves or the take moves otherwise (by half a
        degree, or a zoom of 1 %), and how much of the take could be followed when the
        track was lost on the way."""
        parts = []
        expected, measured = self.expected, self.measured
        for key, name in (("pan_deg", "pan"), ("tilt_deg", "tilt"), ("roll_deg", "roll")):
            got, want = getattr(measured, key), getattr(expected, key)
            if abs(want) >= 0.05 or abs(got - want) >= 0.5:
                parts.append(f"{name} {got:+.1f}° (rig {want:+.1f}°)")
        got, want = math.log(measured.zoom), math.log(expected.zoom)
        if abs(want) >= 0.001 or abs(got - want) >= 0.01:
            parts.append(f"zoom ×{measured.zoom:.2f} (rig ×{expected.zoom:.2f})")
        moves = ", ".join(parts) if parts else "no camera move (the rig has none)"
        if self.coverage < 0.95:
            moves += f"; followed over {self.coverage:.0%} of the take"
        return f"camera {round(self.score)}: {moves}"


# --- geometry -----------------------------------------------------------------------------


def rig_focal(rig: CameraRig, frames: int, width: float, fps: float = 24.0) -> float:
    """Frame 0's focal length in pixels, as the rig (its field of view and zoom) sets it."""
    return camera.poses(rig, max(1, frames), fps)[0].focal_pixels(width)


def _normaliser(width: float, height: float, focal: float) -> np.ndarray:
    """Pixels to coordinates about the picture centre in units of the focal length."""
    cx, cy = width / 2.0, height / 2.0
    return np.array([[1.0 / focal, 0.0, -cx / focal], [0.0, 1.0 / focal, -cy / focal], [0, 0, 1]])


def _turn(pan: float, tilt: float, roll: float) -> np.ndarray:
    """The rig's camera turn R_y(pan) R_x(tilt) R_z(roll), angles in radians."""
    (cp, sp), (ct, st), (cr, sr) = [(math.cos(a), math.sin(a)) for a in (pan, tilt, roll)]
    yaw = np.array([[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]])
    pitch = np.array([[1.0, 0.0, 0.0], [0.0, ct, -st], [0.0, st, ct]])
    spin = np.array([[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]])
    return yaw @ pitch @ spin


def _project(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    moved = m @ points
    return moved[:2] / moved[2]


def _fit_move(a: np.ndarray, grid: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Gauss-Newton on (pan, tilt, roll, log zoom): the turn and zoom whose map of `grid`
    (normalised points, (3, k)) comes closest to that of `a`."""
    target = _project(a, grid)

    def residual(p: np.ndarray) -> np.ndarray:
        model = np.diag([math.exp(p[3]), math.exp(p[3]), 1.0]) @ _turn(*p[:3]).T
        return (_project(model, grid) - target).ravel()

    p = start.astype(np.float64).copy()
    for _ in range(12):
        r = residual(p)
        jacobian = np.empty((len(r), 4))
        for k in range(4):
            step = np.zeros(4)
            step[k] = 1e-6
            jacobian[:, k] = (residual(p + step) - r) / 1e-6
        delta = np.linalg.lstsq(jacobian, -r, rcond=None)[0]
        p += delta
        if np.abs(delta).max() < 1e-10:
            break
    return p


def decompose(h: np.ndarray, width: float, height: float, focal: float) -> CameraMove:
    """The pan, tilt, roll and zoom that best explain the homography `h` (frame 0's pixels
    to a later frame's), for a camera of `focal` pixels at frame 0 (see the module): the
    turn and zoom that move a grid of points over the picture most nearly as `h` does,
    found from the nearest rotation to `h` about the picture centre."""
    n = _normaliser(width, height, focal)
    a = n @ np.asarray(h, dtype=np.float64) @ np.linalg.inv(n)
    rows = np.linalg.norm(a, axis=1)
    if not (np.all(np.isfinite(a)) and rows[2] > 0.0 and rows[0] > 0.0 and rows[1] > 0.0):
        raise ValueError("the homography is degenerate")
    zoom = float((rows[0] + rows[1]) / (2.0 * rows[2]))
    b = np.diag([1.0 / zoom, 1.0 / zoom, 1.0]) @ a / rows[2]
    if np.linalg.det(b) < 0.0:
        b = -b
    u, _, vt = np.linalg.svd(b)
    turn = (u @ vt).T  # the nearest rotation is R_to^T R_from: the rig's turn transposed
    start = np.array(
        [
            math.atan2(turn[0, 2], turn[2, 2]),
            math.asin(max(-1.0, min(1.0, -turn[1, 2]))),
            math.atan2(turn[1, 0], turn[1, 1]),
            math.log(zoom),
        ]
    )
    xs = np.linspace(-width / 2.0, width / 2.0, 5) / focal
    ys = np.linspace(-height / 2.0, height / 2.0, 5) / focal
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel(), np.ones(gx.size)])
    if np.all((a @ grid)[2] > 0.0):
        fitted = _fit_move(a, grid, start)
        if np.all(np.isfinite(fitted)):
            start = fitted
    pan, tilt, roll = (math.degrees(math.remainder(x, math.tau)) for x in start[:3])
    return CameraMove(pan + 0.0, tilt + 0.0, roll + 0.0, math.exp(start[3]))


def corner_errors(
    measured: np.ndarray, expected: np.ndarray, width: float, height: float
) -> np.ndarray:
    """Per frame (n,): the mean distance, as a fraction of the diagonal (at most 1), that
    D = measured * expected^-1 moves the frame's corners: how far the take put the picture
    from where the rig puts it."""
    measured = np.asarray(measured, dtype=np.float64).reshape(-1, 3, 3)
    expected = np.asarray(expected, dtype=np.float64).reshape(-1, 3, 3)
    diagonal = math.hypot(width, height)
    corners = np.array([[0.0, 0.0, 1.0], [width, 0.0, 1.0], [0.0, height, 1.0]])
    corners = np.vstack([corners, [width, height, 1.0]]).T  # (3, 4)
    try:
        relative = measured @ np.linalg.inv(expected)
    except np.linalg.LinAlgError:
        return np.ones(len(measured))
    # A homography is defined up to its scale, sign included: D and -D map alike, and D
    # near the identity must read as such whatever sign its two factors had.
    sign = np.sign(np.einsum("nj,jk->n", relative[:, 2, :], corners))
    relative = relative * np.where(sign < 0, -1.0, 1.0)[:, None, None]
    moved = relative @ corners  # (n, 3, 4)
    w = moved[:, 2, :]
    scale = np.linalg.norm(moved, axis=1)
    ahead = w > 1e-9 * np.maximum(scale, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        points = moved[:, :2, :] / np.where(ahead, w, 1.0)[:, None, :]
        distance = np.linalg.norm(points - corners[None, :2, :], axis=1) / diagonal
    distance = np.where(ahead & np.isfinite(distance), np.minimum(distance, 1.0), 1.0)
    return distance.mean(axis=1)


def score_of(path_error: float, end_error: float) -> float:
    """The 0-100 score of a path error and an end error (fractions of the diagonal)."""
    error = 0.5 * (path_error + end_error)
    return 100.0 * max(0.0, 1.0 - error / TOLERANCE)


def assess(
    measured: np.ndarray,
    indices: Iterable[int],
    rig: CameraRig,
    frames: int,
    width: int,
    height: int,
    fps: float = 24.0,
    tracked: Iterable[bool] | None = None,
) -> Adherence:
    """Compare a take's measured homographies (frame 0 to each frame of `indices`, which
    ends at the take's last frame) with what `rig` asks of a take of `frames` frames."""
    index = np.asarray(list(indices), dtype=np.int64)
    measured = np.asarray(measured, dtype=np.float64).reshape(-1, 3, 3)
    if len(index) == 0 or len(index) != len(measured):
        raise ValueError("one measured homography per frame index is needed")
    if index.min() < 0 or index.max() >= frames:
        raise ValueError(f"frame indices must be within the take's {frames} frames")
    expected = camera.homographies(rig, frames, width, height, fps=fps)[index]
    errors = corner_errors(measured, expected, width, height)
    focal = rig_focal(rig, frames, width, fps)
    try:
        move = decompose(measured[-1], width, height, focal)
    except ValueError:
        move = CameraMove()
    rig_move = decompose(expected[-1], width, height, focal)
    followed = np.ones(len(index), bool) if tracked is None else np.asarray(list(tracked), bool)
    path_error, end_error = float(errors.mean()), float(errors[-1])
    return Adherence(
        **move.to_dict(),
        score=round(score_of(path_error, end_error), 2),
        expected=rig_move,
        path_error=path_error,
        end_error=end_error,
        coverage=float(followed.mean()) if len(followed) else 0.0,
        frames=len(index),
    )


T = TypeVar("T")


def best_scoring(takes: Iterable[T]) -> T | None:
    """The take (anything with an `adherence`) whose camera scored best; the first of
    equals; None when none was measured."""
    best, best_score = None, -1.0
    for take in takes:
        adherence = getattr(take, "adherence", None)
        if adherence is not None and adherence.score > best_score:
            best, best_score = take, adherence.score
    return best
