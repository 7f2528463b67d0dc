"""The tiny offline models in assets/models: each claimed pipeline loads, renders, reproduces."""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")
Image = pytest.importorskip("PIL.Image")

from tools import tiny_models as tiny  # noqa: E402
from tools import tiny_text  # noqa: E402

MODELS_DIR = Path(__file__).resolve().parents[3] / "assets" / "models"
SIZE = 32
STEPS = 2
MAX_BYTES = 12 * 1024 * 1024
MAX_MODEL_BYTES = 1280 * 1024  # each one, a second stage included
FORBIDDEN_SUFFIXES = {".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".msgpack", ".h5"}
GALLOP_KEYS = {
    "id",
    "family",
    "pipelines",
    "frame_rule",
    "default_width",
    "default_height",
    "default_frames",
    "default_fps",
    "vae_scale_spatial",
    "vae_scale_temporal",
}


def _description(model_id: str) -> dict:
    return json.loads((MODELS_DIR / model_id / tiny.GALLOP_FILE).read_text(encoding="utf-8"))


def _load(model_id: str, class_name: str):
    """The pipeline from its folder; the parts a single-file checkpoint holds are loaded
    from that file (original key layout) with diffusers' single-file loader."""
    folder = MODELS_DIR / model_id
    parts = {}
    checkpoint = _description(model_id).get("checkpoint")
    if checkpoint is not None:
        index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
        for name in checkpoint["components"]:
            parts[name] = getattr(diffusers, index[name][1]).from_single_file(
                str(folder / checkpoint["file"]),
                config=str(folder),
                subfolder=name,
                torch_dtype=torch.float32,
                local_files_only=True,
            )
    return getattr(diffusers, class_name).from_pretrained(
        folder, local_files_only=True, dtype=torch.float32, **parts
    )


def _cases() -> list:
    cases = []
    for model_id in tiny.bundled_ids():
        for role, class_name in tiny.MODELS[model_id].pipelines.items():
            cases.append(pytest.param(model_id, role, class_name, id=f"{model_id}-{role}"))
    return cases


def _fewest_frames(rule: str) -> int:
    """The smallest valid count above one for a rule such as '4n+1'."""
    step, _, offset = rule.partition("n+")
    return int(step) + int(offset)


def _picture(seed: int):
    pixels = np.random.default_rng(seed).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def _inputs(pipe, role: str, frames: int, description: dict, seed: int) -> dict:
    wanted = {
        "prompt": "slow dolly in on a lighthouse at dusk, waves, film grain",
        "negative_prompt": "blurry, low quality",
        "height": SIZE,
        "width": SIZE,
        "num_frames": frames,
        "num_inference_steps": STEPS,
        "max_sequence_length": 16,
        "output_type": "np",
        "generator": torch.Generator("cpu").manual_seed(seed),
    }
    if role == "i2v":
        wanted["image"] = _picture(1)
        if description["last_image"]:
            wanted["last_image"] = _picture(2)
    if role == "v2v":
        wanted["video"] = [_picture(10 + i) for i in range(frames)]
        wanted["strength"] = 0.8
        wanted["denoise_strength"] = 0.8
    accepted = inspect.signature(pipe.__call__).parameters
    if role == "v2v" and "denoise_strength" in accepted:
        # LTXConditionPipeline: `strength` weighs a condition, `denoise_strength` is the v2v one.
        del wanted["strength"]
    if "latent_window_size" in accepted:
        # Framepack counts in sections: one section as long as the clip, as the backend asks.
        window = max(1, (frames - 1) // 4)
        wanted.update(latent_window_size=window, num_frames=4 * window - 3)
        accepted = {*accepted, "latent_window_size"}
    return {key: value for key, value in wanted.items() if key in accepted}


def _render(pipe, role: str, frames: int, description: dict, seed: int):
    output = pipe(**_inputs(pipe, role, frames, description, seed))
    return np.asarray(output.frames[0])


# LTXConditionPipeline turns its timestep tensor into an array the old way; not ours to fix.
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize(("model_id", "role", "class_name"), _cases())
def test_pipeline_loads_renders_and_reproduces(model_id, role, class_name):
    description = _description(model_id)
    assert description["pipelines"][role] == class_name
    pipeline_class = getattr(diffusers, class_name)
    pipe = _load(model_id, class_name)
    pipe.set_progress_bar_config(disable=True)
    assert type(pipe) is pipeline_class
    frames = _fewest_frames(description["frame_rule"])

    first = _render(pipe, role, frames, description, seed=0)
    assert first.shape == (frames, SIZE, SIZE, 3)
    assert np.isfinite(first).all()
    again = _render(pipe, role, frames, description, seed=0)
    assert np.array_equal(first, again), "the same seed gave different frames"
    other = _render(pipe, role, frames, description, seed=1)
    assert np.isfinite(other).all()
    assert not np.allclose(first, other), "a different seed gave the same frames"


@pytest.mark.parametrize("model_id", tiny.bundled_ids())
def test_description_matches_the_model(model_id):
    description = _description(model_id)
    assert set(description) >= GALLOP_KEYS
    assert description["id"] == model_id
    assert description == tiny.MODELS[model_id].description()
    assert description["pipelines"]
    assert set(description["pipelines"]) <= {"t2v", "i2v", "v2v"}
    assert all(hasattr(diffusers, name) for name in description["pipelines"].values())
    index = json.loads((MODELS_DIR / model_id / "model_index.json").read_text(encoding="utf-8"))
    assert index["_class_name"] in description["pipelines"].values()

    pipe = _load(model_id, index["_class_name"])
    spatial = getattr(pipe, "vae_scale_factor_spatial", None) or pipe.vae_spatial_compression_ratio
    temporal = (
        getattr(pipe, "vae_scale_factor_temporal", None) or pipe.vae_temporal_compression_ratio
    )
    assert (spatial, temporal) == (
        description["vae_scale_spatial"],
        description["vae_scale_temporal"],
    )
    step, _, offset = description["frame_rule"].partition("n+")
    assert int(step) % temporal == 0 and offset == "1"
    assert description["default_frames"] % int(step) == 1
    for side in ("default_width", "default_height"):
        assert description[side] % description["size_multiple"] == 0


def test_models_are_small_and_safetensors_only():
    files = [path for path in MODELS_DIR.rglob("*") if path.is_file()]
    assert {path.relative_to(MODELS_DIR).parts[0] for path in files} == set(tiny.bundled_ids())
    assert sum(path.stat().st_size for path in files) < MAX_BYTES
    for model_id in tiny.bundled_ids():
        assert tiny.folder_size(MODELS_DIR / model_id) < MAX_MODEL_BYTES, model_id
    assert not [path for path in files if path.suffix in FORBIDDEN_SUFFIXES]
    weights = [path for path in files if path.suffix == ".safetensors"]
    assert weights
    for path in weights:
        # A safetensors file opens with an 8-byte header length and then a JSON header.
        head = path.read_bytes()[:9]
        assert head[8:9] == b"{", path


def test_builder_is_deterministic(tmp_path):
    first = tiny.build_all(tmp_path / "a")
    second = tiny.build_all(tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second] == tiny.bundled_ids()
    for folder_a, folder_b in zip(first, second, strict=True):
        names_a = sorted(p.relative_to(folder_a) for p in folder_a.rglob("*") if p.is_file())
        names_b = sorted(p.relative_to(folder_b) for p in folder_b.rglob("*") if p.is_file())
        assert names_a == names_b
        assert any(name.suffix == ".safetensors" for name in names_a)
        for name in names_a:
            assert (folder_a / name).read_bytes() == (folder_b / name).read_bytes(), name


def test_tokenizers_round_trip_through_their_folders(tmp_path):
    text = "Orbit left around a vintage car, golden hour, 35mm — ZOOM über 日本"
    makers = {
        "t5": tiny_text.t5_tokenizer,
        "llama": tiny_text.llama_tokenizer,
        "llava": lambda: tiny_text.llama_tokenizer(llava=True),
        "clip": tiny_text.clip_tokenizer,
    }
    for name, make in makers.items():
        tokenizer = make()
        folder = tmp_path / name
        tokenizer.save_pretrained(folder)
        loaded = type(tokenizer).from_pretrained(folder)
        assert loaded(text).input_ids == tokenizer(text).input_ids
        # The corpus covers the storyboard's words: no unknown token in a plain prompt.
        ids = tokenizer("Slow dolly in on a lighthouse!", add_special_tokens=False).input_ids
        assert tokenizer.unk_token_id not in ids


def test_hunyuan_image_template_puts_the_image_token_where_the_pipeline_expects_it():
    from diffusers.pipelines.hunyuan_video import pipeline_hunyuan_video_image2video as i2v

    template = i2v.DEFAULT_PROMPT_TEMPLATE
    tokenizer = tiny_text.llama_tokenizer(llava=True)
    ids = tokenizer(template["template"].format("a slow dolly in")).input_ids
    assert ids.index(tokenizer.convert_tokens_to_ids(tiny_text.LLAVA_IMAGE_TOKEN)) == template.get(
        "image_emb_start", 5
    )


def test_bundled_models_are_the_catalogs_test_models():
    """Every bundled twin is a test model of the catalog at its folder, with the same
    pipeline classes and single-file checkpoint; the second stage a catalog entry names is
    in its folder (or another twin's: the single-file twin shares the condition twin's)."""
    from engine.models.catalog import Catalog

    catalog = Catalog()
    for model_id in tiny.bundled_ids():
        entry = catalog.get(model_id)
        assert entry.test and entry.path == f"models/{model_id}"
        assert entry.pipelines == tiny.MODELS[model_id].pipelines
        description = _description(model_id)
        checkpoint = description.get("checkpoint")
        if entry.single_file is None:
            assert checkpoint is None
        else:
            assert checkpoint == {
                "file": entry.single_file.file,
                "components": list(entry.single_file.components),
            }
        if entry.upsampler is not None:
            owner = entry.upsampler["path"].removeprefix("models/")
            assert entry.upsampler["subfolder"] in _description(owner).get("extras", [])
            assert (MODELS_DIR / owner / entry.upsampler["subfolder"] / "config.json").exists()


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_the_latent_upsampler_doubles_the_condition_pipelines_latents():
    from diffusers import LTXConditionPipeline, LTXLatentUpsamplePipeline
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

    folder = MODELS_DIR / "tiny-ltx-condition"
    pipe = LTXConditionPipeline.from_pretrained(folder, local_files_only=True, dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    model = LTXLatentUpsamplerModel.from_pretrained(folder, subfolder="latent_upsampler")
    latents = pipe(
        prompt="a lighthouse",
        height=SIZE,
        width=SIZE,
        num_frames=9,
        num_inference_steps=STEPS,
        output_type="latent",
        generator=torch.Generator("cpu").manual_seed(0),
    ).frames
    upsample = LTXLatentUpsamplePipeline(vae=pipe.vae, latent_upsampler=model)
    doubled = upsample(latents=latents, output_type="latent").frames
    assert doubled.shape[-2:] == (2 * latents.shape[-2], 2 * latents.shape[-1])
    assert doubled.shape[:3] == latents.shape[:3]


@pytest.mark.parametrize("model_id", [m for m in tiny.MODELS if m not in tiny.bundled_ids()])
def test_models_built_on_demand_load_and_render(tmp_path, model_id):
    (folder,) = tiny.build_all(tmp_path, [model_id])
    description = json.loads((folder / tiny.GALLOP_FILE).read_text(encoding="utf-8"))
    assert description == tiny.MODELS[model_id].description()
    for role, class_name in description["pipelines"].items():
        pipe = getattr(diffusers, class_name).from_pretrained(
            folder, local_files_only=True, dtype=torch.float32
        )
        pipe.set_progress_bar_config(disable=True)
        frames = _render(pipe, role, 5, description, seed=0)
        assert frames.shape[0] == 5 and np.isfinite(frames).all()
