"""The previz through a shot's pictures: the start picture moves along the rig and dissolves
into keyframes inside the shot and the end picture, each seen from its frame's camera."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest

from engine.backends.base import NullContext, RenderInputs
from engine.backends.previz import PrevizBackend, PrevizRenderer
from engine.backends.previz_keys import KeyedPreviz
from studio.camera.rig import CameraRig, preset
from studio.jobs import GenerationRequest

W, H = 96, 64


def picture(seed: int) -> np.ndarray:
    """A picture with detail at every scale, RGB uint8 of the previz's size."""
    rng = np.random.default_rng(seed)
    return cv2.resize(rng.integers(0, 255, (8, 12, 3), dtype=np.uint8), (W, H))


def png(tmp_path, name: str, image: np.ndarray):
    path = tmp_path / name
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def request(rig: CameraRig, frames: int = 25) -> GenerationRequest:
    return GenerationRequest(
        prompt="a lighthouse",
        model_id="previz",
        backend="previz",
        width=W,
        height=H,
        frames=frames,
        fps=Fraction(24),
        camera=rig,
    )


def difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_a_static_previz_with_an_end_keyframe_ends_on_it(tmp_path):
    start, end = picture(1), picture(2)
    inputs = RenderInputs(
        keyframe=png(tmp_path, "s.png", start), last_frame=png(tmp_path, "e.png", end)
    )
    frames = PrevizBackend().generate(request(CameraRig()), inputs, NullContext())
    assert frames.shape == (25, H, W, 3)
    assert difference(frames[0], start) < 0.5 and difference(frames[-1], end) < 0.5
    # It dissolves: halfway, half of each picture; the way there is gradual.
    mix = cv2.addWeighted(start, 0.5, end, 0.5, 0.0)
    assert difference(frames[12], mix) < 1.0
    to_end = [difference(frame, end) for frame in frames]
    assert all(a >= b for a, b in zip(to_end, to_end[1:], strict=False))


def test_a_moving_camera_sees_the_end_picture_from_its_final_pose(tmp_path):
    start, end = picture(3), picture(4)
    rig = preset("pan_right")
    inputs = RenderInputs(
        keyframe=png(tmp_path, "s.png", start), last_frame=png(tmp_path, "e.png", end)
    )
    frames = PrevizBackend().generate(request(rig), inputs, NullContext())
    assert difference(frames[-1], end) < 0.5  # the final pose sees it straight on
    # Before the end the end picture is seen from the camera of that frame: as the end's
    # previz anchored at the last frame draws it, dissolved with the start's.
    seen = PrevizRenderer(end, rig, 25, 24.0, anchor=24).render(18)
    moved = PrevizRenderer(start, rig, 25, 24.0).render(18)
    weight = KeyedPreviz([(0, start), (24, end)], rig, 25, 24.0).weights(18)[2]
    assert 0.5 < weight < 1.0
    expected = cv2.addWeighted(moved, 1.0 - weight, seen, weight, 0.0)
    assert difference(frames[18], expected) < 0.5
    assert difference(seen, end) > 10  # the end picture has not come into place yet


def test_keyframes_inside_the_shot_show_at_their_frames(tmp_path):
    start, middle, end = picture(5), picture(6), picture(7)
    inputs = RenderInputs(
        keyframe=png(tmp_path, "s.png", start),
        middle=(png(tmp_path, "m.png", middle),),
        middle_frames=(10,),
        last_frame=png(tmp_path, "e.png", end),
    )
    frames = PrevizBackend().generate(request(preset("dolly_in")), inputs, NullContext())
    assert difference(frames[10], middle) < 0.5 and difference(frames[-1], end) < 0.5
    assert difference(frames[0], start) < 0.5
    # Between the middle and the end, the start picture is gone.
    assert difference(frames[17], start) > difference(frames[17], middle)


def test_without_an_end_the_last_keyframe_carries_on_along_the_rig(tmp_path):
    start, middle = picture(8), picture(9)
    rig = preset("pan_left")
    inputs = RenderInputs(
        keyframe=png(tmp_path, "s.png", start),
        middle=(png(tmp_path, "m.png", middle),),
        middle_frames=(12,),
    )
    frames = PrevizBackend().generate(request(rig), inputs, NullContext())
    after = PrevizRenderer(middle, rig, 25, 24.0, anchor=12)
    for i in (12, 18, 24):
        assert difference(frames[i], after.render(i)) < 0.5


def test_a_previz_without_keyframes_is_as_it_was(tmp_path):
    start = picture(10)
    inputs = RenderInputs(keyframe=png(tmp_path, "s.png", start))
    rig = preset("orbit_left")
    frames = PrevizBackend().generate(request(rig), inputs, NullContext())
    plain = PrevizRenderer(start, rig, 25, 24.0)
    assert all(np.array_equal(frames[i], plain.render(i)) for i in (0, 9, 24))


def test_an_anchor_outside_the_shot_is_refused():
    with pytest.raises(ValueError, match="anchor frame 9"):
        PrevizRenderer(picture(1), CameraRig(), 9, anchor=9)
    with pytest.raises(ValueError, match="starts from a picture at frame 0"):
        KeyedPreviz([(3, picture(1))], CameraRig(), 9)
