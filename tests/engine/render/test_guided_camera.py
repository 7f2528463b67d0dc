"""Camera control kept with each take: a guided render follows the previz of its shot (its
hash in the take's manifest), VACE as its control video with the keyframes kept and the
references given, another family video-to-video over it; every take has its camera file."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import replace
from fractions import Fraction

import cv2
import numpy as np
import pytest

from engine.backends.base import NullContext, RenderInputs
from engine.backends.diffusers import DiffusersBackend
from engine.backends.previz import PrevizBackend
from engine.render.worker import Engine
from studio.camera.rig import preset
from studio.jobs import CameraMode, Finished, GenerationRequest


@pytest.fixture(scope="module")
def backend():
    yield (instance := DiffusersBackend())
    instance.unload()


@pytest.fixture
def engine(store, recorder, backend):
    def backends(name: str):
        return PrevizBackend() if name == "previz" else backend

    engine = Engine(store, recorder, backends).start()
    yield engine
    engine.shutdown(30)


def received(monkeypatch, class_name: str) -> list[dict]:
    """The keyword arguments of each call of the pipeline class, as it is called."""
    import diffusers

    cls = getattr(diffusers, class_name)
    calls: list[dict] = []
    original = cls.__call__

    @functools.wraps(original)  # its signature stays the one the backend reads
    def spy(self, *args, **kwargs):
        calls.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, "__call__", spy)
    return calls


def texture(tmp_path, name: str, seed: int):
    rng = np.random.default_rng(seed)
    path = tmp_path / name
    cv2.imwrite(str(path), cv2.resize(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), (64, 64)))
    return path


def guided(model_id: str, tmp_path, **fields) -> tuple[GenerationRequest, RenderInputs]:
    request = GenerationRequest(
        prompt="a lighthouse",
        model_id=model_id,
        width=64,
        height=64,
        frames=9,
        fps=Fraction(16),
        seed=3,
        steps=2,
        camera=preset("pan_left"),
        camera_mode=CameraMode.GUIDED,
        strength=0.6,
        keyframe_hash="1" * 64,
        **fields,
    )
    return request, RenderInputs(keyframe=texture(tmp_path, "first.png", 1))


def previz_of(request: GenerationRequest, inputs: RenderInputs) -> np.ndarray:
    previz = replace(request, backend="previz", model_id="previz")
    return PrevizBackend().generate(previz, inputs, NullContext())


def manifest(store, request) -> dict:
    return json.loads(store.manifest_path(request.hash).read_text("utf-8"))


def test_vace_follows_the_previz_keeping_the_keyframes(
    engine, recorder, store, tmp_path, monkeypatch
):
    calls = received(monkeypatch, "WanVACEPipeline")
    request, inputs = guided(
        "tiny-wan-vace",
        tmp_path,
        end_keyframe_hash="2" * 64,
        middle_keyframes=((4, "3" * 64),),
        reference_hashes=("4" * 64,),
    )
    inputs.last_frame = texture(tmp_path, "last.png", 2)
    inputs.middle, inputs.middle_frames = (texture(tmp_path, "middle.png", 3),), (4,)
    inputs.references = (texture(tmp_path, "mara.png", 4),)
    done = recorder.wait_done(engine.submit(request, inputs), 300)
    assert isinstance(done, Finished), getattr(done, "detail", done)
    previz = previz_of(request, inputs)
    (call,) = calls
    video = np.stack([np.asarray(frame) for frame in call["video"]])
    assert np.array_equal(video, previz)  # the control video is the shot's previz...
    masks = [int(np.asarray(mask).mean()) for mask in call["mask"]]
    assert masks == [0, 255, 255, 255, 0, 255, 255, 255, 0]  # ...its keyframes kept
    assert call["conditioning_scale"] == 0.6
    reference = cv2.cvtColor(cv2.imread(str(inputs.references[0])), cv2.COLOR_BGR2RGB)
    assert np.array_equal(np.asarray(call["reference_images"][0]), reference)
    record = manifest(store, request)["guide"]
    assert record == {
        "sha256": hashlib.sha256(previz.tobytes()).hexdigest(),
        "frames": 9,
        "width": 64,
        "height": 64,
    }
    assert store.measures(request.hash)["guide"] == record  # what a farm node sends back


def test_a_family_without_a_control_input_renders_over_the_previz(
    engine, recorder, store, tmp_path, monkeypatch
):
    calls = received(monkeypatch, "WanVideoToVideoPipeline")
    request, inputs = guided("tiny-wan", tmp_path)
    done = recorder.wait_done(engine.submit(request, inputs), 300)
    assert isinstance(done, Finished), getattr(done, "detail", done)
    previz = previz_of(request, inputs)
    video = np.stack([np.asarray(frame) for frame in calls[0]["video"]])
    assert np.array_equal(video, previz) and calls[0]["strength"] == 0.6
    assert manifest(store, request)["guide"]["sha256"] == hashlib.sha256(previz).hexdigest()


def test_a_fast_guided_render_turns_the_cache_off_for_a_pipeline_without_its_contexts(
    engine, recorder, tmp_path
):
    """The fast profile's first-block cache needs the cache contexts Wan's video-to-video
    pipeline does not open: the guided render goes on with the cache off, and it is back
    for the text-to-video render that shares the transformer."""
    from studio.jobs import Profile

    request, inputs = guided("tiny-wan", tmp_path)
    fast = replace(request, profile=Profile.FAST)
    done = recorder.wait_done(engine.submit(fast, inputs), 300)
    assert isinstance(done, Finished), getattr(done, "detail", done)
    plain = replace(fast, camera_mode=CameraMode.PROMPT, strength=None, seed=4)
    done = recorder.wait_done(engine.submit(plain, RenderInputs()), 300)
    assert isinstance(done, Finished), getattr(done, "detail", done)


def test_every_take_has_its_camera_file(engine, recorder, store, tmp_path):
    request = GenerationRequest(
        prompt="a lighthouse",
        model_id="previz",
        backend="previz",
        width=96,
        height=64,
        frames=12,
        fps=Fraction(24),
        camera=preset("pan_right"),
    )
    done = recorder.wait_done(engine.submit(request), 60)
    assert isinstance(done, Finished)
    assert "guide" not in manifest(store, request)  # the previz follows no guide
    with np.load(store.camera_path(request.hash)) as camera:
        assert camera["intrinsics"].shape == (12, 3, 3)
        assert camera["extrinsics"].shape == (12, 3, 4)
        assert camera["plucker"].shape == (12, 6, 8, 12)
        assert camera["size"].tolist() == [96, 64] and float(camera["fps"]) == 24.0
        turn = camera["extrinsics"][-1, :, :3]
        assert np.isclose(np.degrees(np.arctan2(turn[2, 0], turn[0, 0])), 30.0)
    assert store.find(request.hash).suffix == ".mp4"  # the camera file is not the take
    store.remove(request.hash)
    assert not store.camera_path(request.hash).exists()
