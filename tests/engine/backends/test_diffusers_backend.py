"""Every family's tiny pipeline renders through the real diffusers code path in the engine."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction

import cv2
import numpy as np
import pytest

from engine.backends.base import RenderError, RenderInputs
from engine.backends.diffusers import DiffusersBackend
from engine.media.video import probe, read_frames
from engine.models.catalog import CATALOG_FILE, Catalog, check_safetensors
from engine.render.worker import Engine
from studio.camera.rig import preset
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


def request(model_id: str, catalog: Catalog | None = None, **kw) -> GenerationRequest:
    entry = (catalog or Catalog()).get(model_id)
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


def test_the_model_reads_the_prompt_as_planned(backend):
    """The plan puts the camera words in the prompt: the pipeline gets it as it is."""
    planned = "a lighthouse on a rock in a storm, camera pushes in"
    for camera in (preset("dolly_in"), preset("static")):
        req = request("tiny-wan", camera=camera, prompt=planned)
        entry = backend.catalog.get("tiny-wan")
        assert backend._call_kwargs(entry, "t2v", req, RenderInputs(), Ctx())["prompt"] == planned


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


# --- the newer pipeline classes -------------------------------------------------------------

# Each tiny twin and the modes its class serves: text, image, video to video, first and last
# frame, a long shot in diffusion-forcing windows.
CLASS_CASES = [
    ("tiny-wan22-a14b", "i2v"),
    ("tiny-wan-flf2v", "flf"),
    ("tiny-wan-vace", "t2v"),
    ("tiny-wan-vace", "i2v"),
    ("tiny-wan-vace", "flf"),
    ("tiny-wan-vace", "v2v"),
    ("tiny-ltx-condition", "t2v"),
    ("tiny-ltx-condition", "i2v"),
    ("tiny-ltx-condition", "flf"),
    ("tiny-ltx-condition", "v2v"),
    ("tiny-skyreels-df", "t2v"),
    ("tiny-skyreels-df", "i2v"),
    ("tiny-skyreels-df", "flf"),
    ("tiny-skyreels-df", "long"),
]


def picture_png(tmp_path, name: str, seed: int) -> object:
    rng = np.random.default_rng(seed)
    image = cv2.resize(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), (64, 64))
    path = tmp_path / name
    cv2.imwrite(str(path), image)
    return path


def mode_request(model_id: str, mode: str, tmp_path, catalog: Catalog | None = None):
    """A request and its inputs for `mode` at 64x64 (32x32 for the first stage of LTX)."""
    entry = (catalog or Catalog()).get(model_id)
    fields = dict(
        prompt="a lighthouse on a rock in a storm",
        negative_prompt="blurry",
        model_id=model_id,
        width=64,
        height=64,
        frames=17 if mode == "long" else 9,
        fps=entry.fps,
        seed=11,
        steps=2,
        camera=preset("pan_left"),
    )
    inputs = RenderInputs()
    if mode in ("i2v", "flf"):
        fields.update(camera_mode=CameraMode.KEYFRAME, keyframe_hash="k" * 64)
        inputs.keyframe = picture_png(tmp_path, "first.png", 5)
    if mode == "flf":
        inputs.last_frame = picture_png(tmp_path, "last.png", 6)
    if mode == "v2v":
        fields.update(camera_mode=CameraMode.GUIDED, strength=0.6)
    return GenerationRequest(**fields), inputs


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize(("model_id", "mode"), CLASS_CASES)
def test_every_class_renders_its_modes_in_the_engine(
    engine, recorder, store, tmp_path, model_id, mode
):
    req, inputs = mode_request(model_id, mode, tmp_path)
    job = engine.submit(req, inputs)
    done = recorder.wait_done(job, 300)
    assert isinstance(done, Finished), getattr(done, "detail", done)
    info = probe(store.find(req.hash))
    assert (info.frames, info.width, info.height) == (req.frames, 64, 64)
    stages = [e.stage for e in recorder.of(job) if isinstance(e, Progress)]
    assert stages.index(Stage.DENOISING) < stages.index(Stage.DECODING)


def test_the_end_keyframe_changes_the_clip(backend, tmp_path):
    """First and last frame: the same request ending on another picture is another clip."""
    req, inputs = mode_request("tiny-wan-flf2v", "flf", tmp_path)
    a = backend.generate(req, inputs, Ctx())
    other = RenderInputs(keyframe=inputs.keyframe, last_frame=picture_png(tmp_path, "b.png", 9))
    b = backend.generate(req, other, Ctx())
    again = backend.generate(req, inputs, Ctx())
    assert np.array_equal(a, again)
    assert not np.array_equal(a, b)


def test_first_and_last_frame_model_asks_for_the_end_keyframe(engine, recorder, tmp_path):
    req, inputs = mode_request("tiny-wan-flf2v", "i2v", tmp_path)
    failed = recorder.wait_done(engine.submit(req, inputs), 300)
    assert isinstance(failed, Failed) and "give the shot an end keyframe" in failed.message


def test_a_model_without_an_end_frame_says_it_ignores_the_end_keyframe(backend, tmp_path):
    req, inputs = mode_request("tiny-wan22-a14b", "flf", tmp_path)
    ctx = Ctx()
    frames = backend.generate(req, inputs, ctx)
    assert frames.shape == (9, 64, 64, 3)
    assert any("cannot end on a given frame" in line for line in ctx.logs), ctx.logs


def test_ltx_quality_takes_the_upsampler_stage_and_fast_does_not(backend, tmp_path):
    req, inputs = mode_request("tiny-ltx-condition", "t2v", tmp_path)
    quality = Ctx()
    two = backend.generate(req, inputs, quality)
    assert any("latent upsampler to 64x64" in line for line in quality.logs), quality.logs
    fast = Ctx()
    one = backend.generate(replace(req, profile=Profile.FAST), inputs, fast)
    assert not any("upsampler" in line for line in fast.logs)
    assert two.shape == one.shape == (9, 64, 64, 3)
    assert not np.array_equal(two, one)
    backend.unload()


def test_a_missing_upsampler_leaves_one_stage(tmp_path):
    data = json.loads(CATALOG_FILE.read_text())
    for item in data["models"]:
        if item["id"] == "tiny-ltx-condition":
            item["upsampler"] = {**item["upsampler"], "path": str(tmp_path / "nowhere")}
    (tmp_path / "catalog.json").write_text(json.dumps(data))
    backend = DiffusersBackend(Catalog(tmp_path / "catalog.json"))
    req, inputs = mode_request("tiny-ltx-condition", "t2v", tmp_path)
    ctx = Ctx()
    assert backend.generate(req, inputs, ctx).shape == (9, 64, 64, 3)
    assert any("latent upsampler not downloaded, one stage only" in x for x in ctx.logs)
    backend.unload()


# HunyuanVideo 1.5's twins are too large to ship (tools.tiny_recent): built here.
@pytest.fixture(scope="module")
def hunyuan15(tmp_path_factory):
    from tools import tiny_models

    folder = tmp_path_factory.mktemp("hunyuan15")
    tiny_models.build_all(folder, ["tiny-hunyuan15", "tiny-hunyuan15-i2v"])
    common = dict(
        family="hunyuan",
        backend="diffusers",
        repo=None,
        width=64,
        height=64,
        fps=24,
        frames=9,
        frame_multiple=4,
        size_multiple=16,
        max_frames=None,
        steps=2,
        guidance=6.0,
        vram_gb=0.1,
        licence="GPL-3.0-or-later",
        accept_licence=False,
        test=True,
    )
    models = [
        dict(
            common,
            id="tiny-hunyuan15",
            name="Tiny HunyuanVideo 1.5",
            path=str(folder / "tiny-hunyuan15"),
            pipelines={"t2v": "HunyuanVideo15Pipeline"},
            companions={"i2v": "tiny-hunyuan15-i2v"},
        ),
        dict(
            common,
            id="tiny-hunyuan15-i2v",
            name="Tiny HunyuanVideo 1.5 I2V",
            path=str(folder / "tiny-hunyuan15-i2v"),
            pipelines={"i2v": "HunyuanVideo15ImageToVideoPipeline"},
        ),
    ]
    (folder / "catalog.json").write_text(json.dumps({"models": models}))
    instance = DiffusersBackend(Catalog(folder / "catalog.json"))
    yield instance
    instance.unload()


@pytest.mark.parametrize("mode", ["t2v", "i2v"])
def test_hunyuan15_renders_in_the_engine(store, recorder, hunyuan15, tmp_path, mode):
    engine = Engine(store, recorder, lambda name: hunyuan15).start()
    try:
        req, inputs = mode_request("tiny-hunyuan15", mode, tmp_path, hunyuan15.catalog)
        # Image to video picks its own size from the picture: the frames come back at the
        # request's size all the same.
        req = replace(req, width=48, height=32)
        job = engine.submit(req, inputs)
        done = recorder.wait_done(job, 300)
    finally:
        engine.shutdown(30)
    assert isinstance(done, Finished), getattr(done, "detail", done)
    info = probe(store.find(req.hash))
    assert (info.frames, info.width, info.height) == (9, 48, 32)


def test_cancel_stops_hunyuan15_mid_steps(store, recorder, hunyuan15):
    """HunyuanVideo 1.5 has no step callback: progress and cancel ride on its scheduler's
    steps, and a cancel there stops before the VAE decode all the same."""
    engine = Engine(store, lambda e: (recorder(e), cancel_on_first_step(e)), lambda n: hunyuan15)

    def cancel_on_first_step(event):
        if isinstance(event, Progress) and event.stage == Stage.DENOISING:
            engine.cancel(event.job_id)

    engine.start()
    try:
        req = request("tiny-hunyuan15", catalog=hunyuan15.catalog, steps=4)
        job = engine.submit(req)
        assert isinstance(recorder.wait_done(job, 300), Cancelled)
    finally:
        engine.shutdown(30)
    progress = [e for e in recorder.of(job) if isinstance(e, Progress)]
    assert Stage.DECODING not in [e.stage for e in progress]
    assert [e.step for e in progress if e.stage == Stage.DENOISING] == [1]
    assert not store.has(req.hash)


def test_hunyuan15_takes_its_guidance_through_its_guider(hunyuan15):
    req = request("tiny-hunyuan15", catalog=hunyuan15.catalog, guidance=4.0)
    entry, mode = hunyuan15._plan(req, RenderInputs())
    pipe = hunyuan15._ensure(entry, mode, req.profile, Ctx())
    kwargs = hunyuan15._call_kwargs(entry, mode, req, RenderInputs(), Ctx(), pipe)
    assert "guidance_scale" not in kwargs and pipe.guider.guidance_scale == 4.0
    assert "height" in kwargs and kwargs["num_frames"] == 9
