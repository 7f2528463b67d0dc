"""The previz obeys the rig: global motion measured with OpenCV matches the camera move."""

from __future__ import annotations

import math
from fractions import Fraction

import cv2
import numpy as np
import pytest

from engine.backends.base import JobCancelled, RenderError, RenderInputs
from engine.backends.previz import PrevizBackend
from studio import camera
from studio.camera import preset, with_move
from studio.jobs import GenerationRequest, Stage

W, H, FRAMES = 320, 192, 13


class Ctx:
    def __init__(self, cancel_after: int | None = None) -> None:
        self.cancel_after = cancel_after
        self.checks = 0
        self.steps: list[int] = []
        self.previews = 0

    def progress(self, step, total, stage, message=""):
        assert stage == Stage.RENDERING and total == FRAMES or total > 0
        self.steps.append(step)

    def preview(self, step, image):
        self.previews += 1

    def check_cancelled(self):
        self.checks += 1
        if self.cancel_after is not None and self.checks > self.cancel_after:
            raise JobCancelled("test")

    def log(self, message):
        pass


def textured(seed: int = 3, width: int = W, height: int = H) -> np.ndarray:
    """A picture with detail everywhere, so motion estimators have texture to lock onto."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (height // 8, width // 8, 3), dtype=np.uint8)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    noise = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
    return cv2.add(image, noise)


def render(rig, tmp_path=None, frames=FRAMES, keyframe=None, **kw) -> np.ndarray:
    request = GenerationRequest(
        prompt=kw.pop("prompt", "a lighthouse"),
        model_id="previz",
        backend="previz",
        width=W,
        height=H,
        frames=frames,
        fps=Fraction(24),
        camera=rig,
        **kw,
    )
    inputs = RenderInputs()
    if keyframe is not None:
        path = tmp_path / "key.png"
        cv2.imwrite(str(path), cv2.cvtColor(keyframe, cv2.COLOR_RGB2BGR))
        inputs.keyframe = path
    return PrevizBackend().generate(request, inputs, Ctx())


def gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)


def similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, float]:
    """(dx, dy, angle degrees, scale) of b relative to a about the image centre, from features."""
    orb = cv2.ORB_create(3000)
    ka, da = orb.detectAndCompute(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), None)
    kb, db = orb.detectAndCompute(cv2.cvtColor(b, cv2.COLOR_RGB2GRAY), None)
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(da, db)
    src = np.float32([ka[m.queryIdx].pt for m in matches])
    dst = np.float32([kb[m.trainIdx].pt for m in matches])
    centre = np.float32([W / 2, H / 2])
    m, inliers = cv2.estimateAffinePartial2D(src - centre, dst - centre, method=cv2.RANSAC)
    assert m is not None and inliers.sum() > 20
    scale = math.hypot(m[0, 0], m[1, 0])
    angle = math.degrees(math.atan2(m[1, 0], m[0, 0]))
    return float(m[0, 2]), float(m[1, 2]), angle, scale


def predicted_centre_shift(rig) -> tuple[float, float]:
    """Where the rig says the image centre of frame 0 lands in the last frame."""
    h = camera.homographies(rig, FRAMES, W, H)[-1]
    p = h @ np.array([W / 2, H / 2, 1.0])
    return p[0] / p[2] - W / 2, p[1] / p[2] - H / 2


@pytest.mark.parametrize("name", ["pan_left", "pan_right", "tilt_up", "tilt_down"])
def test_pan_and_tilt_move_the_picture_by_the_predicted_amount(tmp_path, name):
    rig = preset(name, 0.3)  # small enough that the picture stays largely in view
    frames = render(rig, tmp_path, keyframe=textured())
    (dx, dy), _ = cv2.phaseCorrelate(gray(frames[0]), gray(frames[-1]))
    px, py = predicted_centre_shift(rig)
    focal = camera.poses(rig, 1)[0].focal * W
    expected = {
        "pan": focal * math.tan(math.radians(9.0)),
        "tilt": focal * math.tan(math.radians(6.0)),
    }
    axis = name.split("_")[0]
    if axis == "pan":
        assert abs(py) < 1 and abs(dy) < 2
        assert np.sign(dx) == np.sign(px) == (1 if name == "pan_left" else -1)
        assert abs(abs(px) - expected["pan"]) / expected["pan"] < 0.05
        assert abs(dx - px) / abs(px) < 0.12
    else:
        assert abs(px) < 1 and abs(dx) < 2
        assert np.sign(dy) == np.sign(py) == (1 if name == "tilt_up" else -1)
        assert abs(dy - py) / abs(py) < 0.12


@pytest.mark.parametrize("degrees", [8.0, -8.0])
def test_roll_turns_the_picture_by_the_rig_angle(tmp_path, degrees):
    rig = with_move(camera.CameraRig(), "roll", 0.0, degrees)
    frames = render(rig, tmp_path, keyframe=textured())
    _, _, angle, scale = similarity(frames[0], frames[-1])
    # A clockwise camera roll turns the picture counterclockwise: negative in image coordinates
    # (y down), so the measured angle has the opposite sign of the rig's roll.
    assert angle == pytest.approx(-degrees, abs=1.0)
    assert scale == pytest.approx(1.0, abs=0.03)


@pytest.mark.parametrize(("name", "factor"), [("zoom_in", 1.3), ("zoom_out", 1 / 1.3)])
def test_zoom_scales_the_picture_by_the_zoom_factor(tmp_path, name, factor):
    rig = with_move(camera.CameraRig(), "zoom", 1.0, factor)
    frames = render(rig, tmp_path, keyframe=textured())
    dx, dy, angle, scale = similarity(frames[0], frames[-1])
    assert scale == pytest.approx(factor, rel=0.05)
    assert abs(angle) < 1.0 and abs(dx) < 3 and abs(dy) < 3


def test_dolly_in_enlarges_the_subject_plane(tmp_path):
    rig = preset("dolly_in", 0.5)
    frames = render(rig, tmp_path, keyframe=textured())
    _, _, _, scale = similarity(frames[0], frames[-1])
    d, dz = rig.subject_distance, rig.dolly[-1].value
    assert scale == pytest.approx(d / (d - dz), rel=0.06)
    assert scale > 1.05


@pytest.mark.parametrize("name", sorted(camera.PRESETS))
def test_no_black_borders_for_any_preset(name):
    frames = render(preset(name), frames=25)
    dark = frames.max(axis=-1) < 8
    for i, frame in enumerate(dark):
        for edge in (frame[0], frame[-1], frame[:, 0], frame[:, -1]):
            assert not edge.all(), f"{name}: frame {i} has a black edge"


def test_keyframe_is_frame_zero_and_title_card_otherwise(tmp_path):
    key = textured(7)
    with_key = render(preset("dolly_in"), tmp_path, keyframe=key)
    assert np.abs(with_key[0].astype(int) - key.astype(int)).mean() < 2
    card_a = render(preset("dolly_in"), prompt="a lighthouse at dusk")
    card_b = render(preset("dolly_in"), prompt="a fishing boat in the harbour")
    assert not np.array_equal(card_a[0], card_b[0])
    assert card_a[0].std() > 20  # textured, not a flat fill
    assert np.array_equal(card_a, render(preset("dolly_in"), prompt="a lighthouse at dusk"))


def test_continuity_frame_is_used_without_a_keyframe():
    previous = textured(11)
    request = GenerationRequest(
        prompt="x",
        model_id="previz",
        backend="previz",
        width=W,
        height=H,
        frames=3,
        camera=preset("static"),
    )
    frames = PrevizBackend().generate(request, RenderInputs(continuity=previous), Ctx())
    assert np.abs(frames[0].astype(int) - previous.astype(int)).mean() < 2


def test_unreadable_keyframe_is_a_render_error(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    request = GenerationRequest(
        prompt="x", model_id="previz", backend="previz", width=W, height=H, frames=3
    )
    with pytest.raises(RenderError, match="broken.png"):
        PrevizBackend().generate(request, RenderInputs(keyframe=broken), Ctx())


def test_cancel_stops_at_the_next_frame():
    request = GenerationRequest(
        prompt="x",
        model_id="previz",
        backend="previz",
        width=W,
        height=H,
        frames=FRAMES,
        camera=preset("pan_left"),
    )
    ctx = Ctx(cancel_after=5)
    with pytest.raises(JobCancelled):
        PrevizBackend().generate(request, RenderInputs(), ctx)
    assert ctx.steps == [1, 2, 3, 4, 5]


def test_frames_shape_progress_and_previews():
    ctx = Ctx()
    request = GenerationRequest(
        prompt="x", model_id="previz", backend="previz", width=W + 1, height=H + 1, frames=FRAMES
    )
    frames = PrevizBackend().generate(request, RenderInputs(), ctx)
    assert frames.shape == (FRAMES, H + 1, W + 1, 3) and frames.dtype == np.uint8
    assert ctx.steps == list(range(1, FRAMES + 1))
    assert ctx.previews == 2
