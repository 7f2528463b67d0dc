"""The camera rig: keyframed camera moves turned into per-frame poses, homographies and words.

One rig drives every engine (previz warps, prompt language, guided generation, camera
embeddings), so its conventions are fixed here once.

Coordinates are OpenCV's: x right, y down, z forward. The world frame is the camera frame of
frame 0 of a rig whose axes start at their neutral values, so such a frame 0 is the identity
pose. Axes and sign conventions:

- pan (degrees): + pans right (the view turns towards +x).
- tilt (degrees): + tilts up (the view turns towards -y).
- roll (degrees): + rolls the camera clockwise as seen from behind it, so the picture turns
  counterclockwise.
- truck (scene units): + moves right, along the initial x axis.
- pedestal (scene units): + moves up, along the initial -y axis ("crane up").
- dolly (scene units): + moves forward (in), along the initial z axis.
- zoom (focal length ratio): 1 is no zoom, > 1 is tighter; interpolated in log space.
- orbit (degrees): + carries the camera to the right on a horizontal circle around the
  subject point (0, 0, subject_distance) while yawing to keep that point centred.
- shake: smooth rotation jitter (yaw, pitch and a little roll) of at most `amplitude`
  degrees, zero at frame 0.

Each pose's camera-to-world rotation is R_y(pan - orbit) R_x(tilt) R_z(roll) (shake added
to the angles) and its centre is the orbit circle point plus (truck, -pedestal, dolly).

An axis with no keyframes is neutral (0, zoom 1); one keyframe is a constant. Keyframe times
are fractions of the shot: frame i of n is at t = i / (n - 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from studio.camera.easing import (
    Easing,
    Keyframe,
    axis_values,
    check_keyframes,
    check_number,
    curve_motion,
    ease,
    frame_times,
    smooth_noise,
)
from studio.camera.easing import axis_value as axis_value  # part of this module's API
from studio.camera.words import Move, join_prompt, phrase
from studio.errors import EditError, ProjectError
from studio.project import validate as jv

AXES: tuple[str, ...] = ("pan", "tilt", "roll", "truck", "pedestal", "dolly", "zoom", "orbit")
_ANGLES = ("pan", "tilt", "roll", "orbit")
AXIS_UNITS: dict[str, str] = {
    axis: "°" if axis in _ANGLES else "×" if axis == "zoom" else "units" for axis in AXES
}
NEUTRAL: dict[str, float] = {axis: 1.0 if axis == "zoom" else 0.0 for axis in AXES}

# Generous bounds: they only keep the trigonometry and the interpolation finite.
_MAX_ANGLE = 3600.0
_MIN_DISTANCE, _MAX_DISTANCE = 1e-3, 1e4
_ZOOM_RANGE = (1e-3, 1e3)
_MAX_SHAKE_AMPLITUDE = 90.0
_MAX_SHAKE_FREQUENCY = 120.0
_MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class Shake:
    """Smooth rotation jitter: at most `amplitude` degrees, around `frequency` Hz."""

    amplitude: float = 0.0
    frequency: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class CameraRig:
    """Keyframed camera axes over one shot (see the module docstring for units and signs)."""

    pan: tuple[Keyframe, ...] = ()
    tilt: tuple[Keyframe, ...] = ()
    roll: tuple[Keyframe, ...] = ()
    truck: tuple[Keyframe, ...] = ()
    pedestal: tuple[Keyframe, ...] = ()
    dolly: tuple[Keyframe, ...] = ()
    zoom: tuple[Keyframe, ...] = ()
    orbit: tuple[Keyframe, ...] = ()
    shake: Shake = Shake()
    subject_distance: float = 4.0
    fov_degrees: float = 50.0


# --- validation -------------------------------------------------------------------------


def _axis_range(axis: str) -> tuple[float, float]:
    if axis == "zoom":
        return _ZOOM_RANGE
    limit = _MAX_ANGLE if axis in _ANGLES else _MAX_DISTANCE
    return -limit, limit


def validate_rig(rig: CameraRig, path: str = "$.camera") -> CameraRig:
    """Return `rig` if it is valid, else raise ProjectError naming the bad value's path."""
    if not isinstance(rig, CameraRig):
        raise ProjectError(path, "expected a camera rig")
    for axis in AXES:
        check_keyframes(getattr(rig, axis), f"{path}.{axis}", *_axis_range(axis))
    shake = rig.shake
    if not isinstance(shake, Shake):
        raise ProjectError(f"{path}.shake", "expected a shake")
    check_number(shake.amplitude, f"{path}.shake.amplitude", 0.0, _MAX_SHAKE_AMPLITUDE)
    check_number(shake.frequency, f"{path}.shake.frequency", 0.0, _MAX_SHAKE_FREQUENCY)
    jv.check_int(shake.seed, f"{path}.shake.seed", min_value=0, max_value=_MAX_SEED)
    check_number(rig.subject_distance, f"{path}.subject_distance", _MIN_DISTANCE, _MAX_DISTANCE)
    fov = check_number(rig.fov_degrees, f"{path}.fov_degrees", 1.0)
    if fov >= 179.0:
        raise ProjectError(f"{path}.fov_degrees", f"must be less than 179, found {fov}")
    return rig


# --- editing ----------------------------------------------------------------------------


def with_axis(rig: CameraRig, axis: str, keyframes: Iterable[Keyframe]) -> CameraRig:
    """A copy of `rig` with `axis` set to `keyframes`; EditError if they are invalid."""
    if axis not in AXES:
        raise ValueError(f"unknown camera axis {axis!r}; axes are {', '.join(AXES)}")
    keys = tuple(keyframes)
    try:
        check_keyframes(keys, f"$.camera.{axis}", *_axis_range(axis))
    except ProjectError as error:
        raise EditError(str(error)) from None
    return replace(rig, **{axis: keys})


def with_move(
    rig: CameraRig,
    axis: str,
    start: float,
    end: float,
    easing: Easing = Easing.EASE_IN_OUT,
) -> CameraRig:
    """The slider case: `axis` goes from `start` at t=0 to `end` at t=1 (neutral clears it)."""
    if axis not in AXES:
        raise ValueError(f"unknown camera axis {axis!r}; axes are {', '.join(AXES)}")
    if start == end == NEUTRAL[axis]:
        return with_axis(rig, axis, ())
    kind = Easing(easing)
    return with_axis(
        rig, axis, (Keyframe(0.0, float(start), kind), Keyframe(1.0, float(end), kind))
    )


def _shake_active(shake: Shake) -> bool:
    return shake.amplitude != 0.0 and shake.frequency != 0.0


def is_static(rig: CameraRig) -> bool:
    """True when the camera does not move during the shot (constant offsets are allowed)."""
    constant = all(len({k.value for k in getattr(rig, axis)}) <= 1 for axis in AXES)
    return constant and not _shake_active(rig.shake)


# --- sampling and poses -----------------------------------------------------------------


def sample(rig: CameraRig, frames: int) -> dict[str, np.ndarray]:
    """Per-axis values for each frame; frame i is at t = i / (frames - 1)."""
    ts = frame_times(frames)
    return {axis: axis_values(getattr(rig, axis), ts, log=axis == "zoom") for axis in AXES}


_SHAKE_CHANNEL_GAIN = np.array([[1.0], [1.0], [0.5]])  # yaw, pitch, roll: a hand rolls less


def shake_angles(shake: Shake, frames: int, fps: float = 24.0) -> np.ndarray:
    """Jitter in degrees, shape (3, frames): yaw, pitch and roll added to pan, tilt and roll."""
    count = len(frame_times(frames))
    if not _shake_active(shake):
        return np.zeros((3, count))
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, found {fps!r}")
    seconds = np.arange(count, dtype=np.float64) / fps
    noise = smooth_noise(shake.seed, shake.frequency, seconds, channels=3)
    return noise * _SHAKE_CHANNEL_GAIN * shake.amplitude


@dataclass(frozen=True)
class CameraPose:
    """One frame's camera.

    `rotation` is camera-to-world (its columns are the camera's x, y, z axes in world
    coordinates), `translation` the camera centre in world coordinates, and `focal` the
    focal length per pixel of image width (f_px = focal * width).
    """

    rotation: tuple[tuple[float, float, float], ...]
    translation: tuple[float, float, float]
    focal: float

    @property
    def rotation_matrix(self) -> np.ndarray:
        return np.array(self.rotation, dtype=np.float64)

    @property
    def centre(self) -> np.ndarray:
        return np.array(self.translation, dtype=np.float64)

    def focal_pixels(self, width: float) -> float:
        return self.focal * width

    def intrinsics(self, width: float, height: float) -> np.ndarray:
        """K with square pixels and the principal point at the image centre."""
        f = self.focal * width
        return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])

    def world_to_camera(self) -> np.ndarray:
        """The 4x4 extrinsic matrix [R^T | -R^T C]."""
        r_t = self.rotation_matrix.T
        out = np.eye(4)
        out[:3, :3] = r_t
        out[:3, 3] = -r_t @ self.centre
        return out


def _turn(angle: np.ndarray, i: int, j: int) -> np.ndarray:
    """Rotations by `angle` (radians) taking axis i towards axis j, stacked."""
    out = np.tile(np.eye(3), (len(angle), 1, 1))
    c, s = np.cos(angle), np.sin(angle)
    out[:, i, i], out[:, j, j], out[:, j, i], out[:, i, j] = c, c, s, -s
    return out


def _rotations(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Camera-to-world rotations R_y(yaw) R_x(pitch) R_z(roll), angles in radians."""
    # Yaw takes z towards x (right), pitch takes z towards -y (up), roll takes x towards y.
    return _turn(yaw, 2, 0) @ _turn(pitch, 1, 2) @ _turn(roll, 0, 1) + 0.0  # no -0.0


def _pose_arrays(
    rig: CameraRig, frames: int, fps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The poses of `poses` as arrays: rotations (n, 3, 3), centres (n, 3), focals (n,)."""
    values = sample(rig, frames)
    jitter = shake_angles(rig.shake, frames, fps)
    orbit = np.radians(values["orbit"])
    yaw = np.radians(values["pan"] + jitter[0]) - orbit
    pitch = np.radians(values["tilt"] + jitter[1])
    roll = np.radians(values["roll"] + jitter[2])
    rotations = _rotations(yaw, pitch, roll)
    d = float(rig.subject_distance)
    # Orbit centre path: subject + d * (sin phi, 0, -cos phi); 1 - cos phi = 2 sin^2(phi/2)
    # keeps small orbits accurate.
    x = d * np.sin(orbit) + values["truck"]
    y = -values["pedestal"] + 0.0
    z = 2.0 * d * np.sin(orbit / 2.0) ** 2 + values["dolly"]
    focal = values["zoom"] * (0.5 / math.tan(math.radians(rig.fov_degrees) / 2.0))
    centres = np.stack([x, y, z], axis=1).astype(np.float64)
    return rotations, centres, np.asarray(focal, dtype=np.float64)


def poses(rig: CameraRig, frames: int, fps: float = 24.0) -> list[CameraPose]:
    """One pose per frame; `fps` only sets the time base of the shake."""
    rotations, centres, focal = _pose_arrays(rig, frames, fps)
    return [
        CameraPose(
            rotation=tuple(tuple(row) for row in r),
            translation=tuple(c),
            focal=f,
        )
        for r, c, f in zip(rotations.tolist(), centres.tolist(), focal.tolist(), strict=True)
    ]


def _intrinsics(focal: np.ndarray, width: float, height: float) -> np.ndarray:
    """K of each focal (n,) -> (n, 3, 3), as `CameraPose.intrinsics`."""
    k = np.zeros((len(focal), 3, 3))
    k[:, 0, 0] = k[:, 1, 1] = focal * width
    k[:, 0, 2], k[:, 1, 2], k[:, 2, 2] = width / 2.0, height / 2.0, 1.0
    return k


def _plane_maps(
    start: tuple[np.ndarray, np.ndarray, float],
    rotations: np.ndarray,
    centres: np.ndarray,
    focal: np.ndarray,
    width: float,
    height: float,
    depth: float,
) -> np.ndarray:
    """`homography` from one pose (rotation, centre, focal) to each of n poses at once."""
    r_from, c_from, f_from = start
    relative = np.swapaxes(rotations, 1, 2) @ r_from
    t = np.einsum("nji,nj->ni", rotations, centres - c_from)  # R_to^T (C_to - C_from)
    plane = relative
    plane[:, :, 2] -= t / depth  # R - t n^T / depth with n = (0, 0, 1)
    k_from_inv = np.linalg.inv(_intrinsics(np.array([f_from]), width, height)[0])
    h = _intrinsics(focal, width, height) @ plane @ k_from_inv
    # H[2, 2] vanishes when the image centre maps to infinity (a 90° turn); then the
    # matrix is scaled to unit norm instead, which maps points the same way.
    norm = np.linalg.norm(h, axis=(1, 2))
    corner = h[:, 2, 2]
    scale = np.where(np.abs(corner) > 1e-12 * norm, corner, norm)
    return h / scale[:, None, None]


def _check_plane(width: float, height: float, depth: float) -> None:
    if not (width > 0 and height > 0):
        raise ValueError("width and height must be positive")
    if not (math.isfinite(depth) and depth > 0):
        raise ValueError(f"depth must be a positive number, found {depth!r}")


def homography(
    pose_from: CameraPose, pose_to: CameraPose, width: float, height: float, depth: float
) -> np.ndarray:
    """The 3x3 map of pixels seen from `pose_from` to pixels seen from `pose_to`.

    Exact for the fronto-parallel plane `depth` units in front of `pose_from`:
    H = K_to (R - t n^T / depth) K_from^-1 with R = R_to^T R_from, t = R_to^T (C_to - C_from)
    and n = (0, 0, 1). Pixels: x right, y down, origin at the top-left corner of the image,
    principal point at (width / 2, height / 2). Scaled so that H[2, 2] == 1.
    """
    _check_plane(width, height, depth)
    start = (pose_from.rotation_matrix, pose_from.centre, pose_from.focal)
    to = pose_to.rotation_matrix[None], pose_to.centre[None], np.array([pose_to.focal])
    return _plane_maps(start, *to, width, height, depth)[0]


def homographies(
    rig: CameraRig,
    frames: int,
    width: float,
    height: float,
    depth: float | None = None,
    fps: float = 24.0,
) -> np.ndarray:
    """(frames, 3, 3): frame 0's image to each frame's, for a plane at `depth` (default:
    the subject distance)."""
    plane = float(rig.subject_distance if depth is None else depth)
    _check_plane(width, height, plane)
    rotations, centres, focal = _pose_arrays(rig, frames, fps)
    start = (rotations[0].copy(), centres[0].copy(), float(focal[0]))
    return _plane_maps(start, rotations, centres, focal, width, height, plane)


# --- presets ----------------------------------------------------------------------------


def _move(axis: str, end: float, easing: Easing = Easing.EASE_IN_OUT) -> CameraRig:
    return with_move(CameraRig(), axis, NEUTRAL[axis], end, easing)


def _dolly_zoom(amount: float) -> CameraRig:
    rig = CameraRig()
    d, travel = rig.subject_distance, 1.5 * amount
    if travel == 0.0:
        return rig
    if travel >= 0.9 * d:
        raise ValueError(f"dolly zoom amount {amount} would bring the camera onto the subject")
    # Subject-plane scale is d / (d - dolly) * zoom; zoom keyframes follow the eased dolly
    # so the product stays close to 1 between keyframes too.
    steps = 8
    zoom = []
    for i in range(steps + 1):
        t = i / steps
        zoom.append(Keyframe(t, (d - travel * ease(Easing.EASE_IN_OUT, t)) / d, Easing.LINEAR))
    return replace(with_move(rig, "dolly", 0.0, travel), zoom=tuple(zoom))


def _whip_pan(amount: float) -> CameraRig:
    angle = 90.0 * amount
    if angle == 0.0:
        return CameraRig()
    # Hold, then a whip through the middle fifth of the shot, then hold.
    keys = (
        Keyframe(0.0, 0.0, Easing.LINEAR),
        Keyframe(0.4, 0.0, Easing.EASE_IN_OUT),
        Keyframe(0.6, angle, Easing.LINEAR),
        Keyframe(1.0, angle, Easing.LINEAR),
    )
    return with_axis(CameraRig(), "pan", keys)


def _handheld(amount: float) -> CameraRig:
    if amount == 0.0:
        return CameraRig()
    return CameraRig(shake=Shake(amplitude=abs(1.0 * amount), frequency=1.2, seed=0))


_BUILDERS: dict[str, Callable[[float], CameraRig]] = {
    "static": lambda a: CameraRig(),
    "dolly_in": lambda a: _move("dolly", 1.5 * a),
    "dolly_out": lambda a: _move("dolly", -1.5 * a),
    "pan_left": lambda a: _move("pan", -30.0 * a),
    "pan_right": lambda a: _move("pan", 30.0 * a),
    "tilt_up": lambda a: _move("tilt", 20.0 * a),
    "tilt_down": lambda a: _move("tilt", -20.0 * a),
    "crane_up": lambda a: _move("pedestal", 1.0 * a),
    "crane_down": lambda a: _move("pedestal", -1.0 * a),
    "orbit_left": lambda a: _move("orbit", -30.0 * a),
    "orbit_right": lambda a: _move("orbit", 30.0 * a),
    "zoom_in": lambda a: _move("zoom", 1.6**a),
    "zoom_out": lambda a: _move("zoom", 1.6 ** (-a)),
    "dolly_zoom": _dolly_zoom,
    "whip_pan": _whip_pan,
    "handheld": _handheld,
}

PRESETS: dict[str, Callable[[], CameraRig]] = {
    name: partial(build, 1.0) for name, build in _BUILDERS.items()
}


def preset(name: str, amount: float = 1.0) -> CameraRig:
    """The named preset with its move scaled by `amount` (1 = the default film-like move)."""
    build = _BUILDERS.get(name)
    if build is None:
        raise ValueError(f"unknown camera preset {name!r}; presets are {', '.join(_BUILDERS)}")
    if not math.isfinite(amount):
        raise ValueError(f"preset amount must be finite, found {amount!r}")
    try:
        return validate_rig(build(float(amount)))
    except (ProjectError, EditError, OverflowError) as error:
        raise ValueError(f"preset {name!r} with amount {amount}: {error}") from None


# --- camera language --------------------------------------------------------------------

# The move each axis makes in its default preset counts as one unit of strength, so that
# axes in different units can be compared and ranked.
_REFERENCE = {"pan": 30.0, "tilt": 20.0, "roll": 15.0, "orbit": 30.0, "zoom": math.log(1.6)}
_REFERENCE_OF_DISTANCE = {"truck": 0.25, "pedestal": 0.25, "dolly": 0.375}
_MIN_STRENGTH = 0.02
_WHIP_DEGREES = 60.0


@dataclass(frozen=True)
class _Motion:
    net: float  # end minus start, in axis units (log ratio for zoom)
    travel: float  # total distance covered, same units
    strength: float  # travel in reference units
    rate: float  # fastest segment, reference units per whole shot


def _motion(rig: CameraRig, axis: str) -> _Motion:
    curve = curve_motion(getattr(rig, axis), log=axis == "zoom")
    reference = _REFERENCE.get(axis) or _REFERENCE_OF_DISTANCE[axis] * rig.subject_distance
    return _Motion(curve.net, curve.travel, curve.travel / reference, curve.peak_rate / reference)


def _speed(motion: _Motion, duration: float | None) -> str:
    if duration is None:
        return "slow" if motion.strength < 0.5 else "fast" if motion.strength > 2.0 else ""
    per_second = motion.rate / duration
    return "slow" if per_second < 0.1 else "fast" if per_second > 0.5 else ""


def _as_move(kind: str, motion: _Motion, duration: float | None) -> Move:
    sign = 0 if abs(motion.net) < 0.1 * motion.travel else 1 if motion.net > 0 else -1
    speed = _speed(motion, duration)
    if kind == "pan" and speed == "fast" and motion.travel >= _WHIP_DEGREES:
        kind = "whip_pan"
    return Move(kind, sign, speed)


def describe(
    rig: CameraRig, duration_seconds: float | None = None, family: str | None = None
) -> str:
    """Camera language for prompts, dominant move first: "slow dolly in while panning left",
    or in the words of a model family's prompt guide ("camera slowly pushes in, camera pans
    left" for "wan"; see `studio.camera.words`).

    Speed words come from the fastest segment's rate per second when the shot's duration
    is known, else from the total amount of the move.
    """
    if duration_seconds is not None and not (
        math.isfinite(duration_seconds) and duration_seconds > 0
    ):
        raise ValueError(f"duration must be a positive number, found {duration_seconds!r}")
    motions = {axis: _motion(rig, axis) for axis in AXES}
    moves: list[tuple[float, int, Move]] = []
    merged: set[str] = set()
    dolly, zoom = motions["dolly"], motions["zoom"]
    d = rig.subject_distance
    if dolly.strength > 0 and zoom.strength > 0 and dolly.net < d:
        # A dolly zoom: the dolly's change of subject size is cancelled by the zoom.
        by_dolly, by_zoom = math.log(d / (d - dolly.net)), zoom.net
        if by_dolly * by_zoom < 0 and abs(by_dolly + by_zoom) < 0.5 * max(
            abs(by_dolly), abs(by_zoom)
        ):
            strength, rate = max(dolly.strength, zoom.strength), max(dolly.rate, zoom.rate)
            both = replace(dolly, strength=strength, rate=rate)
            moves.append(
                (strength, AXES.index("dolly"), _as_move("dolly_zoom", both, duration_seconds))
            )
            merged = {"dolly", "zoom"}
    for order, axis in enumerate(AXES):
        motion = motions[axis]
        if axis not in merged and motion.strength >= _MIN_STRENGTH:
            moves.append((motion.strength, order, _as_move(axis, motion, duration_seconds)))
    moves = [m for m in moves if m[0] >= _MIN_STRENGTH]
    moves.sort(key=lambda m: (-m[0], m[1]))
    shake = None
    if _shake_active(rig.shake):
        amplitude = abs(rig.shake.amplitude)
        shake = "subtle" if amplitude < 0.4 else "strong" if amplitude > 3.0 else ""
    return phrase([m[2] for m in moves], shake, family)


def with_camera_words(
    prompt: str, rig: CameraRig, duration_seconds: float | None, family: str | None = None
) -> str:
    """`prompt` with the rig's move said in `family`'s words (`describe`) after it, the way
    that family reads them; a static camera adds nothing (the prompt may say the camera)."""
    if is_static(rig):
        return prompt
    return join_prompt(prompt, describe(rig, duration_seconds, family), family)


# --- persistence ------------------------------------------------------------------------

_RIG_KEYS = (*AXES, "shake", "subject_distance", "fov_degrees")


def rig_to_dict(rig: CameraRig) -> dict[str, Any]:
    """Plain JSON types; empty axes and a default shake are left out."""
    out: dict[str, Any] = {}
    for axis in AXES:
        keys = getattr(rig, axis)
        if keys:
            out[axis] = [
                {"t": float(k.t), "value": float(k.value), "easing": Easing(k.easing).value}
                for k in keys
            ]
    if rig.shake != Shake():
        out["shake"] = {
            "amplitude": float(rig.shake.amplitude),
            "frequency": float(rig.shake.frequency),
            "seed": int(rig.shake.seed),
        }
    out["subject_distance"] = float(rig.subject_distance)
    out["fov_degrees"] = float(rig.fov_degrees)
    return out


def _read_keyframe(value: object, path: str) -> Keyframe:
    data = jv.expect_dict(value, path, ("t", "value", "easing"))
    return Keyframe(
        t=jv.get_float(data, "t", path),
        value=jv.get_float(data, "value", path),
        easing=jv.get_enum(data, "easing", path, Easing, Easing.EASE_IN_OUT),
    )


def _read_shake(value: object, path: str) -> Shake:
    data = jv.expect_dict(value, path, ("amplitude", "frequency", "seed"))
    return Shake(
        amplitude=jv.get_float(data, "amplitude", path, 0.0),
        frequency=jv.get_float(data, "frequency", path, 0.0),
        seed=jv.get_int(data, "seed", path, 0, min_value=0, max_value=_MAX_SEED),
    )


def rig_from_dict(data: object, path: str = "$.camera") -> CameraRig:
    """A validated rig from JSON; any fault raises ProjectError with its JSON path."""
    obj = jv.expect_dict(data, path, _RIG_KEYS)
    axes = {axis: tuple(jv.get_list_of(obj, axis, path, _read_keyframe, ())) for axis in AXES}
    shake = _read_shake(obj["shake"], f"{path}.shake") if "shake" in obj else Shake()
    rig = CameraRig(
        **axes,
        shake=shake,
        subject_distance=jv.get_float(obj, "subject_distance", path, 4.0),
        fov_degrees=jv.get_float(obj, "fov_degrees", path, 50.0),
    )
    return validate_rig(rig, path)
