"""Start, end and inner keyframes reach the tiny twin of every class that takes them, read
off the pipeline's own call, and frames come out; a class that cannot take them refuses
before it renders."""

from __future__ import annotations

import functools
import json

import cv2
import numpy as np
import pytest

from engine.backends.base import RenderError, RenderInputs
from engine.backends.diffusers import DiffusersBackend
from engine.models.catalog import Catalog
from studio.camera.rig import preset
from studio.jobs import CameraMode, GenerationRequest, Profile


class Ctx:
    def __init__(self) -> None:
        self.logs: list[str] = []

    def progress(self, step, total, stage, message=""):
        pass

    def preview(self, step, image):
        pass

    def check_cancelled(self):
        pass

    def log(self, message):
        self.logs.append(message)


@pytest.fixture(scope="module")
def backend():
    yield (instance := DiffusersBackend())
    instance.unload()


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


def png(tmp_path, name: str, value: int):
    path = tmp_path / name
    cv2.imwrite(str(path), np.full((64, 64, 3), value, np.uint8))
    return path


def pictures(tmp_path, middle: bool = True) -> RenderInputs:
    """A start (grey 40), a keyframe at frame 4 (grey 90) and an end (grey 200)."""
    return RenderInputs(
        keyframe=png(tmp_path, "first.png", 40),
        last_frame=png(tmp_path, "last.png", 200),
        middle=(png(tmp_path, "middle.png", 90),) if middle else (),
        middle_frames=(4,) if middle else (),
    )


def request(model_id: str, **fields) -> GenerationRequest:
    base = dict(
        prompt="a lighthouse",
        model_id=model_id,
        width=64,
        height=64,
        frames=9,
        fps=Catalog().get(model_id).fps,
        seed=3,
        steps=2,
        camera=preset("pan_left"),
        camera_mode=CameraMode.KEYFRAME,
        profile=Profile.FAST,
    )
    base.update(fields)
    return GenerationRequest(**base)


def grey(image) -> int:
    return int(round(np.asarray(image, dtype=np.float64).mean()))


def test_first_and_last_frame_wan_receives_the_end_picture(backend, tmp_path, monkeypatch):
    calls = received(monkeypatch, "WanImageToVideoPipeline")
    inputs = pictures(tmp_path, middle=False)
    frames = backend.generate(request("tiny-wan-flf2v"), inputs, Ctx())
    assert frames.shape == (9, 64, 64, 3) and frames.dtype == np.uint8
    (call,) = calls
    assert (grey(call["image"]), grey(call["last_image"])) == (40, 200)


def test_ltx_condition_receives_every_keyframe_at_its_frame(backend, tmp_path, monkeypatch):
    calls = received(monkeypatch, "LTXConditionPipeline")
    frames = backend.generate(request("tiny-ltx-condition"), pictures(tmp_path), Ctx())
    assert frames.shape == (9, 64, 64, 3)
    conditions = calls[0]["conditions"]
    assert [c.frame_index for c in conditions] == [0, 4, 8]
    assert [grey(c.image) for c in conditions] == [40, 90, 200]


def test_vace_keeps_every_keyframe_and_generates_the_rest(backend, tmp_path, monkeypatch):
    calls = received(monkeypatch, "WanVACEPipeline")
    frames = backend.generate(request("tiny-wan-vace"), pictures(tmp_path), Ctx())
    assert frames.shape == (9, 64, 64, 3)
    (call,) = calls
    assert [grey(f) for f in call["video"]] == [40, 128, 128, 128, 90, 128, 128, 128, 200]
    assert [grey(m) for m in call["mask"]] == [0, 255, 255, 255, 0, 255, 255, 255, 0]


# HunyuanVideo Framepack's twin is built where it is needed (tools.tiny_framepack).
@pytest.fixture(scope="module")
def framepack(tmp_path_factory):
    from tools import tiny_models

    folder = tmp_path_factory.mktemp("framepack")
    tiny_models.build_all(folder, ["tiny-framepack"])
    entry = dict(
        id="tiny-framepack",
        name="Tiny HunyuanVideo Framepack",
        family="hunyuan",
        backend="diffusers",
        repo=None,
        path=str(folder / "tiny-framepack"),
        pipelines={"i2v": "HunyuanVideoFramepackPipeline"},
        width=64,
        height=64,
        fps=30,
        frames=9,
        frame_multiple=4,
        size_multiple=16,
        max_frames=37,
        steps=2,
        guidance=10.0,
        vram_gb=0.1,
        licence="GPL-3.0-or-later",
        accept_licence=False,
        test=True,
        last_frame=True,
    )
    (folder / "catalog.json").write_text(json.dumps({"models": [entry]}))
    instance = DiffusersBackend(Catalog(folder / "catalog.json"))
    yield instance
    instance.unload()


@pytest.mark.parametrize("frames", [9, 17])
def test_framepack_receives_the_end_picture_in_one_section(
    framepack, tmp_path, monkeypatch, frames
):
    calls = received(monkeypatch, "HunyuanVideoFramepackPipeline")
    fields = dict(prompt="a lighthouse", model_id="tiny-framepack", width=64, height=64)
    request = GenerationRequest(
        **fields,
        frames=frames,
        fps=30,
        seed=3,
        steps=2,
        camera=preset("pan_left"),
        camera_mode=CameraMode.KEYFRAME,
    )
    out = framepack.generate(request, pictures(tmp_path, middle=False), Ctx())
    assert out.shape == (frames, 64, 64, 3)  # exactly the clip: one section of its length
    (call,) = calls
    assert (grey(call["image"]), grey(call["last_image"])) == (40, 200)
    assert call["latent_window_size"] == (frames - 1) // 4


def test_a_class_that_cannot_take_inner_keyframes_refuses_before_it_renders(
    backend, tmp_path, monkeypatch
):
    calls = received(monkeypatch, "WanImageToVideoPipeline")
    with pytest.raises(RenderError, match="cannot take pictures inside the clip") as error:
        backend.generate(request("tiny-wan-flf2v"), pictures(tmp_path), Ctx())
    assert "keyframes at frames 4" in str(error.value) and "VACE" in str(error.value)
    assert calls == []  # nothing was rendered
