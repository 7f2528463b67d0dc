"""Every family's tiny pipeline renders through the real diffusers code path in the engine."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest

from engine.backends.base import RenderError, RenderInputs
from engine.backends.diffusers import DiffusersBackend, camera_prompt
from engine.media.video import probe, read_frames
from engine.models.catalog import Catalog, check_safetensors
from engine.render.worker import Engine
from studio.camera.rig import describe, preset
from studio.jobs import (
    CameraMode,
    Cancelled,
    Failed,
    Finished,
    GenerationRequest,
    Profile,
    Progress,
    Stage,
)

FAMILY_MODELS = {
    "tiny-wan": Fraction(16),
    "tiny-ltx": Fraction(24),
    "tiny-cogvideox": Fraction(8),
    "tiny-hunyuan": Fraction(24),
}


class Ctx:
    def __init__(self) -> None:
        self.stages: list[Stage] = []
        self.previews = 0
        self.logs: list[str] = []

    def progress(self, step, total, stage, message=""):
        self.stages.append(stage)

    def preview(self, step, image):
        assert image.dtype == np.uint8 and image.ndim == 3
        self.previews += 1

    def check_cancelled(self):
        pass

    def log(self, message):
        self.logs.append(message)


def request(model_id: str, **kw) -> GenerationRequest:
    entry = Catalog().get(model_id)
    base = dict(
        prompt="a lighthouse on a rock in a storm",
        negative_prompt="blurry",
        model_id=model_id,
        width=entry.width // 2 if entry.family != "ltx" else 32,
        height=entry.height // 2 if entry.family != "ltx" else 32,
        frames=9,
        fps=entry.fps,
        seed=11,
        steps=2,
        camera=preset("pan_left"),
    )
    base.update(kw)
    return GenerationRequest(**base)


@pytest.fixture(scope="module")
def backend():
    yield (instance := DiffusersBackend())
    instance.unload()


@pytest.fixture
def engine(store, recorder, backend):
    engine = Engine(store, recorder, lambda name: backend).start()
    yield engine
    engine.shutdown(30)


def keyframe_png(tmp_path) -> object:
    rng = np.random.default_rng(5)
    image = cv2.resize(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), (64, 64))
    path = tmp_path / "keyframe.png"
    cv2.imwrite(str(path), image)
    return path


@pytest.mark.parametrize("model_id", list(FAMILY_MODELS))
def test_text_to_video_in_the_engine(engine, recorder, store, model_id):
    req = request(model_id)
    job = engine.submit(req)
    done = recorder.wait_done(job, 300)
    assert isinstance(done, Finished), getattr(done, "detail", done)
    info = probe(store.find(req.hash))
    assert (info.frames, info.width, info.height) == (9, req.width, req.height)
    assert info.fps == FAMILY_MODELS[model_id]
    stages = [e.stage for e in recorder.of(job) if isinstance(e, Progress)]
    for stage in (Stage.LOADING, Stage.ENCODING_PROMPT, Stage.DENOISING, Stage.DECODING):
        assert stage in stages
    assert stages.index(Stage.DENOISING) < stages.index(Stage.DECODING)


@pytest.mark.parametrize("model_id", ["tiny-wan", "tiny-ltx", "tiny-cogvideox", "tiny-hunyuan"])
def test_image_to_video_from_a_keyframe(engine, recorder, store, tmp_path, model_id):
    req = request(model_id, camera_mode=CameraMode.KEYFRAME, keyframe_hash="k" * 64)
    job = engine.submit(req, RenderInputs(keyframe=keyframe_png(tmp_path)))
    done = recorder.wait_done(job, 300)
    assert isinstance(done, Finished), getattr(done, "detail", done)
    assert probe(store.find(req.hash)).frames == 9


@pytest.mark.parametrize("model_id", ["tiny-wan", "tiny-ltx", "tiny-cogvideox"])
def test_guided_video_to_video_follows_the_previz(engine, recorder, store, model_id):
    req = request(model_id, camera_mode=CameraMode.GUIDED, strength=0.6)
    job = engine.submit(req)
    done = recorder.wait_done(job, 300)
    assert isinstance(done, Finished), getattr(done, "detail", done)
    assert probe(store.find(req.hash)).frames == 9


def test_same_seed_same_frames_other_seed_other_frames(backend):
    ctx = Ctx()
    a = backend.generate(request("tiny-wan"), RenderInputs(), ctx)
    b = backend.generate(request("tiny-wan"), RenderInputs(), Ctx())
    c = backend.generate(request("tiny-wan", seed=12), RenderInputs(), Ctx())
    assert a.shape == (9, 32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert ctx.previews >= 1


@pytest.mark.parametrize("model_id", list(FAMILY_MODELS))
def test_every_family_gives_previews_while_denoising(backend, model_id):
    ctx = Ctx()
    backend.generate(request(model_id, steps=4), RenderInputs(), ctx)
    assert ctx.previews == 2  # every second step


def test_cancel_stops_before_the_vae_decode(store, recorder, backend):
    engine = Engine(store, lambda e: (recorder(e), cancel_on_first_step(e)), lambda n: backend)

    def cancel_on_first_step(event):
        if isinstance(event, Progress) and event.stage == Stage.DENOISING:
            engine.cancel(event.job_id)

    engine.start()
    try:
        req = request("tiny-wan", steps=4)
        job = engine.submit(req)
        assert isinstance(recorder.wait_done(job, 300), Cancelled)
    finally:
        engine.shutdown(30)
    stages = [e.stage for e in recorder.of(job) if isinstance(e, Progress)]
    assert Stage.DECODING not in stages
    denoise = [
        e.step for e in recorder.of(job) if isinstance(e, Progress) and e.stage == "denoising"
    ]
    assert denoise == [1]
    assert not store.has(req.hash)


def test_takes_decode_to_the_rendered_frames(engine, recorder, store, backend):
    req = request("tiny-ltx")
    recorder.wait_done(engine.submit(req), 300)
    frames = read_frames(store.find(req.hash))
    direct = backend.generate(req, RenderInputs(), Ctx())
    assert frames.shape == direct.shape

    def luma(video: np.ndarray) -> np.ndarray:
        return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in video]).astype(int)

    # Pixel noise loses its colour to 4:2:0 chroma subsampling; brightness survives.
    assert np.abs(luma(frames) - luma(direct)).mean() < 8
    other = backend.generate(request("tiny-ltx", seed=99), RenderInputs(), Ctx())
    assert (
        np.abs(luma(frames) - luma(other)).mean() > 2 * np.abs(luma(frames) - luma(direct)).mean()
    )


def test_camera_language_joins_the_prompt():
    req = request("tiny-wan", camera=preset("dolly_in"))
    assert (
        camera_prompt(req) == f"a lighthouse on a rock in a storm, {describe(req.camera, 0.5625)}"
    )
    assert "dolly in" in camera_prompt(req)
    assert camera_prompt(request("tiny-wan", camera=preset("static"))) == req.prompt


def test_errors_are_clear(engine, recorder):
    job = engine.submit(request("tiny-hunyuan", camera_mode=CameraMode.GUIDED))
    failed = recorder.wait_done(job, 300)
    assert isinstance(failed, Failed) and "no video-to-video pipeline" in failed.message
    job = engine.submit(request("tiny-wan", camera_mode=CameraMode.KEYFRAME))
    failed = recorder.wait_done(job, 300)
    assert isinstance(failed, Failed) and "needs a keyframe image" in failed.message
    with pytest.raises(RenderError, match="unknown model"):
        Catalog().get("no-such-model")


def test_pickle_checkpoints_are_refused(tmp_path):
    (tmp_path / "model_index.json").write_text("{}")
    (tmp_path / "diffusion_pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(RenderError, match="only safetensors"):
        check_safetensors(tmp_path)
    (tmp_path / "diffusion_pytorch_model.bin").unlink()
    with pytest.raises(RenderError, match="no safetensors"):
        check_safetensors(tmp_path)


@pytest.mark.parametrize("profile", [Profile.FAST, Profile.LOWVRAM])
def test_profiles_render(profile):
    backend = DiffusersBackend()
    ctx = Ctx()
    backend.load("tiny-wan", ctx, profile)
    loaded = backend._loaded
    frames = backend.generate(request("tiny-wan", profile=profile, steps=3), RenderInputs(), ctx)
    assert backend._loaded is loaded  # loaded once, in the request's profile
    assert frames.shape == (9, 32, 32, 3)
    assert backend._loaded.profile == profile
    expected = "first-block cache on" if profile == Profile.FAST else "VAE tiling"
    assert any(expected in line for line in ctx.logs), ctx.logs
    backend.unload()
