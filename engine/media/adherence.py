"""The camera a take's frames show, measured against the camera its rig asked for.

`track_camera` recovers the global motion of a clip: frames sampled along it (at most
`SAMPLES`, always the first and the last) are scaled to `TRACK_WIDTH` pixels wide in
grey; corners found in an anchor frame (`cv2.goodFeaturesToTrack`) are followed from
sampled frame to sampled frame by pyramidal Lucas-Kanade optical flow, each point checked by
tracking it back (a point that does not come back to within half a pixel is dropped), and
the homography from the anchor to each frame is fitted to the surviving points with
RANSAC (a similarity when too few points are left for a homography). Where the points
run low (the anchor's part of the picture has left the frame), the current frame becomes
the anchor with fresh corners and the transforms are chained. Where two sampled frames
are too far apart for the flow, the frames between them are tracked one by one; where
even that fails (a cut, a frame without texture) the motion is held and the track starts
again from that frame, which `Track.tracked` records. The homographies are given in the
take's own pixels (frame 0's to each frame's), as `studio.camera.rig.homographies` gives
the rig's.

`measure_adherence` compares them with the rig (`studio.camera.adherence.assess`: per-axis
pan, tilt, roll and zoom, and a 0-100 score). `colour_jump` is the CIEDE2000 difference
between two frames (the upstream take's last and a chained take's first), averaged over
the picture at `COLOUR_WIDTH` pixels wide. `record_measures` writes both into a take's
manifest after the engine has stored the take, and `measured` reads them back for the
take's `studio.project.model.Take` (measuring a take stored before there were
measurements, from its file).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from engine.media.continuity import mean_ciede2000
from studio.camera.adherence import Adherence, assess
from studio.camera.rig import CameraRig
from studio.errors import ProjectError
from studio.jobs import GenerationRequest
from studio.project.model import measures_from_dict
from studio.project.takes import TakeStore

log = logging.getLogger("gallop.adherence")

TRACK_WIDTH = 320  # pixels: frames are tracked at this width (never enlarged)
SAMPLES = 40  # at most this many frames of a take are measured
COLOUR_WIDTH = 160  # pixels: the colour jump is measured at this width
UNMEASURED_CHARS = 200  # of the reason a take's measurement failed, kept in its manifest
MIN_POINTS = 24  # fewer tracked points than this start a new anchor
_MIN_FIT = 8  # points needed for a homography; fewer take a similarity
_MAX_CORNERS = 200
_RANSAC_PIXELS = 1.0  # at the tracking width
# RANSAC stops early when most points agree (a real picture); a take of noise, where few
# do, would otherwise cost its full count of tries on every frame.
_RANSAC_ITERATIONS = 150
_GIVE_UP = 4  # samples lost in a row after which the rest of a take is not searched
_BACK_PIXELS = 0.5  # forward-backward tolerance of a tracked point
_MAX_DISTORTION = 0.1  # the anchor is renewed once the picture scaled or turned this much
_FAST_PIXELS = 24.0  # a camera expected to move more between two samples goes frame by frame
_LK = {
    "winSize": (11, 11),
    "maxLevel": 3,
    "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.01),
}


@dataclass(frozen=True)
class Track:
    """A clip's measured motion: for each frame of `indices`, the homography from frame 0's
    pixels to its pixels (`homographies`, (k, 3, 3)) and whether the motion into it was
    followed (`tracked`; False where it was held across a lost track)."""

    indices: np.ndarray
    homographies: np.ndarray
    tracked: np.ndarray
    width: int
    height: int

    @property
    def coverage(self) -> float:
        return float(self.tracked.mean()) if len(self.tracked) else 0.0


def sample_indices(count: int, samples: int = SAMPLES) -> np.ndarray:
    """Up to `samples` frame indices spread evenly over `count` frames, both ends included."""
    if count < 1:
        raise ValueError("a clip has at least one frame")
    return np.unique(np.round(np.linspace(0, count - 1, min(count, max(2, samples)))).astype(int))


class _Grey:
    """Frames as small grey pictures, made once each, and the maps between their pixels and
    the frame's (pixel centres at integers in both). A frame at least twice the tracking
    width is halved by Gaussian pyramid steps first (much faster than an area resize, and
    as free of aliasing), then scaled the rest of the way."""

    def __init__(self, frames: Sequence[np.ndarray], width: int) -> None:
        self.frames = frames
        first = np.asarray(frames[0])
        if first.ndim not in (2, 3) or first.size == 0:
            raise ValueError(f"frames must be pictures, got shape {first.shape}")
        self.height, self.width = first.shape[:2]
        small_w = min(self.width, max(16, int(width)))
        small_h = max(8, round(self.height * small_w / self.width))
        self.size = (small_w, small_h)
        self.halvings = 0
        w, h = self.width, self.height
        to_small = np.eye(3)
        while w >= 2 * small_w and h >= 2 * small_h:
            # cv2.pyrDown: pixel i of the result is centred on pixel 2i of its source.
            w, h = (w + 1) // 2, (h + 1) // 2
            to_small = np.diag([0.5, 0.5, 1.0]) @ to_small
            self.halvings += 1
        sx, sy = small_w / w, small_h / h
        # cv2.resize: x_small = s * (x + 0.5) - 0.5
        scale = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1.0]])
        self.to_small = scale @ to_small
        self.to_full = np.linalg.inv(self.to_small)
        self._cache: dict[int, np.ndarray] = {}

    def __getitem__(self, index: int) -> np.ndarray:
        grey = self._cache.get(index)
        if grey is None:
            frame = np.asarray(self.frames[index])
            if frame.dtype != np.uint8:
                frame = np.clip(frame, 0, 255).astype(np.uint8)
            if frame.ndim == 3:
                frame = cv2.cvtColor(frame[..., :3], cv2.COLOR_RGB2GRAY)
            for _ in range(self.halvings):
                frame = cv2.pyrDown(frame)
            grey = cv2.resize(frame, self.size, interpolation=cv2.INTER_LINEAR)
            if len(self._cache) > 4:
                self._cache.pop(next(iter(self._cache)))
            self._cache[index] = grey
        return grey

    def full(self, h: np.ndarray) -> np.ndarray:
        return self.to_full @ h @ self.to_small


def _corners(grey: np.ndarray) -> np.ndarray | None:
    h, w = grey.shape
    mask = np.zeros_like(grey)
    mask[4 : h - 4, 4 : w - 4] = 255
    spacing = max(4, round(min(w, h) / 40))
    found = cv2.goodFeaturesToTrack(grey, _MAX_CORNERS, 0.001, spacing, mask=mask, blockSize=7)
    if found is None or len(found) < _MIN_FIT:
        return None
    return found.reshape(-1, 2).astype(np.float32)


def _flow(
    anchor: np.ndarray, frame: np.ndarray, points: np.ndarray, guess: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The anchor's `points` found in `frame`, searched from `guess` (where they were in the
    frame reached last), and which of them lead back to where they started."""
    flags = cv2.OPTFLOW_USE_INITIAL_FLOW
    ahead, ok, _ = cv2.calcOpticalFlowPyrLK(anchor, frame, points, guess.copy(), flags=flags, **_LK)
    back, ok_back, _ = cv2.calcOpticalFlowPyrLK(
        frame, anchor, ahead, points.copy(), flags=flags, **_LK
    )
    error = np.linalg.norm(back - points, axis=1)
    good = ok.ravel().astype(bool) & ok_back.ravel().astype(bool) & (error < _BACK_PIXELS)
    return ahead, good


def _fit(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The homography (or, with few points, similarity) taking `source` to `target`, and
    which points agree with it; None when nothing fits."""
    if len(source) >= _MIN_FIT:
        h, inliers = cv2.findHomography(
            source, target, cv2.RANSAC, _RANSAC_PIXELS, maxIters=_RANSAC_ITERATIONS
        )
        if h is not None and inliers is not None and np.all(np.isfinite(h)):
            if abs(h[2, 2]) > 1e-12:
                h = h / h[2, 2]
            return h, inliers.ravel().astype(bool)
    if len(source) >= 3:
        m, inliers = cv2.estimateAffinePartial2D(
            source, target, method=cv2.RANSAC, ransacReprojThreshold=_RANSAC_PIXELS
        )
        if m is not None and inliers is not None:
            return np.vstack([m, [0.0, 0.0, 1.0]]), inliers.ravel().astype(bool)
    return None


def _spread(points: np.ndarray, shape: tuple[int, ...]) -> float:
    """The part of the frame's area that the points' bounding box covers."""
    span = points.max(axis=0) - points.min(axis=0)
    return float(span[0] * span[1]) / float(shape[0] * shape[1])


def _distortion(h: np.ndarray) -> float:
    """How much `h` scales or turns the picture (the larger of |log scale| and the angle
    in radians): patches that far from the anchor's no longer match it closely."""
    linear = h[:2, :2] / h[2, 2] if abs(h[2, 2]) > 1e-12 else h[:2, :2]
    scale = math.sqrt(abs(float(np.linalg.det(linear)))) or 1e-12
    angle = math.atan2(linear[1, 0] - linear[0, 1], linear[0, 0] + linear[1, 1])
    return max(abs(math.log(scale)), abs(angle))


class _Tracker:
    """Follows an anchor frame's corners through the frames (see the module docstring)."""

    def __init__(self, grey: _Grey) -> None:
        self.grey = grey
        self.to_anchor = np.eye(3)  # frame 0's small pixels to the anchor's
        self.current = np.eye(3)  # frame 0's small pixels to the last frame reached
        # The last step's motion (frame reached before to frame reached) and its length in
        # frames: the next step searches where that motion carries the points.
        self.motion, self.motion_frames = np.eye(3), 1
        self._anchor(0, np.eye(3))

    def _anchor(self, index: int, to_frame: np.ndarray) -> None:
        self.index = index
        self.to_anchor = to_frame
        self.current = to_frame
        self.anchor_grey = self.grey[index]
        corners = _corners(self.anchor_grey)
        self.anchor_points = corners if corners is not None else np.zeros((0, 2), np.float32)
        self.points = self.anchor_points.copy()

    def _guess(self, index: int) -> np.ndarray:
        """Where the points should be in frame `index` if the camera goes on as it went."""
        if len(self.points) == 0:
            return self.points
        moved = cv2.perspectiveTransform(self.points[None], self.motion)[0]
        share = (index - self.index) / self.motion_frames
        guess = self.points + share * (moved - self.points)
        return guess.astype(np.float32) if np.all(np.isfinite(guess)) else self.points.copy()

    def _step(self, index: int, predict: bool = True) -> bool:
        """Find the anchor's points in frame `index`, searched where the last motion carries
        them (or, without `predict`, where they were); False when too few agree on one
        motion (the track stays where it was then)."""
        if len(self.points) < _MIN_FIT:
            return False
        guess = self._guess(index) if predict else self.points
        ahead, good = _flow(self.anchor_grey, self.grey[index], self.anchor_points, guess)
        if good.sum() < _MIN_FIT:
            return False
        fitted = _fit(self.anchor_points[good], ahead[good])
        if fitted is None:
            return False
        h, agree = fitted
        # Most points must move together: else the flow jumped (too far a move) or the
        # picture changed (a cut).
        if agree.sum() < max(_MIN_FIT, 0.5 * good.sum()):
            return False
        reached = h @ self.to_anchor
        self.motion = reached @ np.linalg.inv(self.current)
        self.motion_frames = index - self.index
        self.anchor_points = self.anchor_points[good][agree]
        self.points = ahead[good][agree]
        self.index = index
        self.current = reached
        if (
            len(self.points) < MIN_POINTS
            or _spread(self.points, self.anchor_grey.shape) < 0.25
            or _distortion(h) > _MAX_DISTORTION
        ):
            self._anchor(index, self.current)
        return True

    def advance(self, index: int) -> bool:
        """Reach frame `index`: directly, else through every frame between; where the track
        is lost, hold the motion and start again there. Returns whether it was followed."""
        guess = self._guess(index)
        fast = len(guess) and np.median(np.abs(guess - self.points).max(axis=1)) > _FAST_PIXELS
        if not fast and self._step(index):
            return True
        for between in range(self.index + 1, index + 1):
            if not (self._step(between) or self._step(between, predict=False)):
                self.motion, self.motion_frames = np.eye(3), 1
                self._anchor(index, self.current)
                return False
        return True


def track_camera(
    frames: Sequence[np.ndarray], *, width: int = TRACK_WIDTH, samples: int = SAMPLES
) -> Track:
    """The global motion of `frames` (RGB or grey pictures of one size): see the module."""
    count = len(frames)
    indices = sample_indices(count, samples)
    grey = _Grey(frames, width)
    tracker = _Tracker(grey)
    homographies = [np.eye(3)]
    tracked = [True]
    lost = 0
    for index in indices[1:]:
        # A picture lost at several samples running (noise, flashes) is not searched on:
        # the rest of the take counts as not followed, holding the motion.
        followed = lost < _GIVE_UP and tracker.advance(int(index))
        lost = 0 if followed else lost + 1
        tracked.append(followed)
        homographies.append(grey.full(tracker.current))
    return Track(
        indices, _scaled(np.stack(homographies)), np.array(tracked), grey.width, grey.height
    )


def _scaled(h: np.ndarray) -> np.ndarray:
    """Homographies scaled as the rig's are: H[2, 2] == 1, or unit norm where H[2, 2]
    vanishes (frame 0's centre seen at infinity, after a quarter turn)."""
    norm = np.linalg.norm(h, axis=(1, 2))
    corner = h[:, 2, 2]
    return h / np.where(np.abs(corner) > 1e-9 * norm, corner, norm)[:, None, None]


def measure_adherence(
    frames: Sequence[np.ndarray],
    rig: CameraRig,
    fps: float = 24.0,
    *,
    width: int = TRACK_WIDTH,
    samples: int = SAMPLES,
) -> Adherence:
    """How well `frames` follow `rig` (`studio.camera.adherence.Adherence`)."""
    track = track_camera(frames, width=width, samples=samples)
    return assess(
        track.homographies,
        track.indices,
        rig,
        len(frames),
        track.width,
        track.height,
        fps,
        track.tracked,
    )


# --- colour --------------------------------------------------------------------------------


def _shrunk(frame: np.ndarray, width: int) -> np.ndarray:
    rgb = np.ascontiguousarray(np.asarray(frame)[..., :3])
    h, w = rgb.shape[:2]
    if w > width:
        size = (width, max(1, round(h * width / w)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return rgb


def colour_jump(before: np.ndarray, after: np.ndarray, *, width: int = COLOUR_WIDTH) -> float:
    """The mean CIEDE2000 difference between two RGB frames (the end of one take, the start
    of the next), both scaled to `width` pixels wide; frames of different sizes are
    compared at the first one's size."""
    before, after = np.asarray(before), np.asarray(after)
    if before.shape[:2] != after.shape[:2]:
        after = cv2.resize(after[..., :3], before.shape[1::-1], interpolation=cv2.INTER_AREA)
    return mean_ciede2000(_shrunk(before, width), _shrunk(after, width))


# --- the engine's step ---------------------------------------------------------------------


def take_measures(
    request: GenerationRequest, frames: Sequence[np.ndarray], continuity: np.ndarray | None
) -> dict[str, Any]:
    """What the engine records in a take's manifest: `adherence` (the camera against the
    request's rig) and, for a take that continues from another, `colour_jump`."""
    adherence = measure_adherence(frames, request.camera, float(request.fps))
    out: dict[str, Any] = {"adherence": adherence.to_dict()}
    if continuity is not None and len(frames):
        jump = colour_jump(continuity, frames[0])
        if math.isfinite(jump):
            out["colour_jump"] = round(jump, 4)
    return out


def measured(store: TakeStore, request: GenerationRequest) -> dict[str, Any]:
    """The `Take` fields (`adherence`, `colour_jump`) that the manifest of the request's
    stored take records. A take stored before cameras were measured is measured now from
    its file, once (its colour jump stays unknown: the frame it continued from is not at
    hand). A take whose measurement failed once (`unmeasured` in its manifest) is not
    measured again. A record that does not read (edited by hand) is left out."""
    take_id = request.hash
    recorded = store.measures(take_id)
    if "adherence" not in recorded and "unmeasured" not in recorded:
        recorded = {**recorded, **_measure_file(store, request)}
    try:
        return measures_from_dict(recorded, "manifest")
    except ProjectError as exc:
        log.warning("take %s: its measurements do not read: %s", take_id[:12], exc)
        return {}


def _measure_file(store: TakeStore, request: GenerationRequest) -> dict[str, Any]:
    from engine.media.video import read_frames

    media = store.find(request.hash)
    if media is None:
        return {}
    try:
        frames = read_frames(media)
    except Exception as exc:  # noqa: BLE001 - an unreadable file is the take's own problem
        log.warning("could not read take %s to measure it: %s", request.hash[:12], exc)
        return {}
    return record_measures(store, request, frames) if len(frames) else {}


def record_measures(
    store: TakeStore,
    request: GenerationRequest,
    frames: Sequence[np.ndarray],
    continuity: np.ndarray | None = None,
) -> dict[str, Any]:
    """Measure a stored take's frames and add the result to its manifest. A measurement
    that fails is logged and leaves the take good, only unscored: its manifest says why
    (`unmeasured`), so that finding the take again does not measure it again."""
    try:
        measures = take_measures(request, frames, continuity)
        store.record_measures(request.hash, measures)
    except Exception as exc:  # noqa: BLE001 - a take is never lost to its measurement
        log.warning("could not measure the camera of take %s: %s", request.hash[:12], exc)
        with contextlib.suppress(Exception):  # a manifest that cannot be written: next time
            store.record_measures(request.hash, {"unmeasured": str(exc)[:UNMEASURED_CHARS]})
        return {}
    return measures
