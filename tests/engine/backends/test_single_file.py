"""A model published as one single-file checkpoint (LTX-Video 0.9.8 2B distilled): its tiny
twin keeps its transformer and VAE in one safetensors file in the original key layout, and
renders through the engine from that file, with the same frames as the diffusers twin that
holds the same weights; LoRAs and int8 apply to the parts loaded from the file; a missing
file is named with how to fetch it."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from engine.backends.base import RenderError
from engine.backends.diffusers import DiffusersBackend
from engine.backends.quantize import load_options
from engine.media.video import probe
from engine.models.catalog import CATALOG_FILE, Catalog, locate
from engine.models.recipes import draft_rules
from engine.render.worker import Engine
from studio.jobs import Finished, LoraWeight, Profile, Progress, Quantization, Stage
from tests.engine.backends.test_diffusers_backend import Ctx, mode_request
from tests.engine.backends.test_quantize import needs_torchao, quantized
from tools.tiny_loras import build_lora

TWIN = "tiny-ltx-single-file"
DIFFUSERS_TWIN = "tiny-ltx-condition"  # the same weights, in diffusers' folders
REAL = "ltx-video-0.9.8-2b-distilled"

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def backend():
    yield (instance := DiffusersBackend())
    instance.unload()


def twin_folder():
    return locate(Catalog().get(TWIN)).path


def test_the_twins_folder_has_no_transformer_or_vae_weights_but_the_single_file():
    folder = twin_folder()
    entry = Catalog().get(TWIN)
    assert entry.single_file.components == ("transformer", "vae")
    for part in entry.single_file.components:
        assert [p.name for p in (folder / part).iterdir()] == ["config.json"]
    from safetensors import safe_open

    with safe_open(str(folder / entry.single_file.file), "np") as handle:
        keys = set(handle.keys())
    # Lightricks' names, which diffusers' single-file converter reads.
    assert "model.diffusion_model.patchify_proj.weight" in keys
    assert "vae.decoder.last_scale_shift_table" in keys
    assert "vae.per_channel_statistics.mean-of-means" in keys
    assert not any(k.startswith(("proj_in", "time_embed", "encoder.", "decoder.")) for k in keys)


@pytest.mark.parametrize("mode", ["t2v", "i2v"])
def test_the_twin_renders_in_the_engine_from_the_single_file(
    backend, store, recorder, tmp_path, mode
):
    engine = Engine(store, recorder, lambda name: backend).start()
    try:
        req, inputs = mode_request(TWIN, mode, tmp_path)
        done = recorder.wait_done(engine.submit(req, inputs), 300)
    finally:
        engine.shutdown(30)
    assert isinstance(done, Finished), getattr(done, "detail", done)
    info = probe(store.find(req.hash))
    assert (info.frames, info.width, info.height) == (9, 64, 64)
    stages = [e.stage for e in recorder.of(done.job_id) if isinstance(e, Progress)]
    assert (
        stages.index(Stage.LOADING) < stages.index(Stage.DENOISING) < stages.index(Stage.DECODING)
    )


@pytest.mark.parametrize("mode", ["t2v", "i2v", "flf"])
def test_the_single_file_holds_exactly_the_diffusers_twins_weights(backend, tmp_path, mode):
    """Every weight converted from the original names lands where diffusers keeps it: the
    frames (both stages, the latent upsampler included) are the diffusers twin's."""
    req, inputs = mode_request(TWIN, mode, tmp_path)
    ctx = Ctx()
    single = backend.generate(req, inputs, ctx)
    assert any("latent upsampler to 64x64" in line for line in ctx.logs), ctx.logs
    pipe = next(iter(backend._loaded.pipes.values()))
    assert type(pipe.transformer).__name__ == "LTXVideoTransformer3DModel"
    twin = backend.generate(replace(req, model_id=DIFFUSERS_TWIN), inputs, Ctx())
    assert single.shape == (9, 64, 64, 3)
    assert np.array_equal(single, twin)
    fast = backend.generate(replace(req, profile=Profile.FAST), inputs, Ctx())
    assert not np.array_equal(single, fast)  # the comparison can tell two renders apart


def test_a_lora_applies_to_the_transformer_loaded_from_the_single_file(backend, tmp_path):
    lora = build_lora(DIFFUSERS_TWIN, tmp_path / "storm.safetensors")
    req, inputs = mode_request(TWIN, "t2v", tmp_path)
    bare = backend.generate(req, inputs, Ctx())
    digest = hashlib.sha256(lora.read_bytes()).hexdigest()
    styled = replace(req, loras=(LoraWeight(digest, 1.0),))
    inputs = replace(inputs, loras=(lora,))
    with_lora = backend.generate(styled, inputs, Ctx())
    assert not np.array_equal(bare, with_lora)
    twin = backend.generate(replace(styled, model_id=DIFFUSERS_TWIN), inputs, Ctx())
    assert np.array_equal(with_lora, twin)


@needs_torchao
def test_int8_quantizes_the_transformer_loaded_from_the_single_file(tmp_path):
    backend = DiffusersBackend()
    req, inputs = mode_request(TWIN, "t2v", tmp_path)
    ctx = Ctx()
    frames = backend.generate(replace(req, quantization=Quantization.INT8), inputs, ctx)
    pipe = next(iter(backend._loaded.pipes.values()))
    assert quantized(pipe.transformer) and quantized(pipe.text_encoder)
    assert not quantized(pipe.vae)
    assert frames.shape == (9, 64, 64, 3)
    assert any("int8 quantized weights" in line for line in ctx.logs)
    backend.unload()


def test_a_bundled_twin_without_its_file_is_damaged_and_refused(tmp_path):
    copy = tmp_path / "twin"
    shutil.copytree(twin_folder(), copy)
    entry = Catalog().get(TWIN)
    (copy / entry.single_file.file).unlink()
    data = json.loads(CATALOG_FILE.read_text())
    for item in data["models"]:
        if item["id"] == TWIN:
            item["path"] = str(copy)
    (tmp_path / "catalog.json").write_text(json.dumps(data))
    catalog = Catalog(tmp_path / "catalog.json")
    found = locate(catalog.get(TWIN))
    assert not found.available
    assert f"the checkpoint {entry.single_file.file}" in found.reason
    backend = DiffusersBackend(catalog)
    req, inputs = mode_request(TWIN, "t2v", tmp_path, catalog)
    with pytest.raises(RenderError, match=entry.single_file.file) as error:
        backend.generate(req, inputs, Ctx())
    assert "transformer and vae" in str(error.value)
    assert backend._loaded is None


def test_loading_without_the_checkpoint_says_which_file_and_how_to_fetch_it(tmp_path):
    import torch

    entry = Catalog().get(REAL)
    with pytest.raises(RenderError) as error:
        load_options(entry, Quantization.NONE, tmp_path, "cpu", torch.float32)
    text = str(error.value)
    assert f"ltxv-2b-0.9.8-distilled.safetensors (transformer and vae of {entry.name})" in text
    assert f"gallop models download {REAL}" in text
    hf = "hf download Lightricks/LTX-Video ltxv-2b-0.9.8-distilled.safetensors --local-dir"
    assert f"{hf} {tmp_path}" in text


def test_the_real_entry_is_not_here_until_downloaded(backend, tmp_path):
    entry = Catalog().get(REAL)
    found = locate(entry)
    assert not found.available
    assert f"gallop models download {REAL}" in found.reason
    assert "Lightricks/LTX-Video/ltxv-2b-0.9.8-distilled.safetensors" in found.reason
    req, inputs = mode_request(REAL, "t2v", tmp_path)
    with pytest.raises(RenderError, match="not downloaded"):
        backend.generate(replace(req, width=64, height=64), inputs, Ctx())


def test_the_real_entry_drafts_its_distilled_first_stage_like_the_13b():
    small, large = Catalog().get(REAL), Catalog().get("ltx-video-0.9.8-13b-distilled")
    rules = draft_rules(small)
    assert (rules.steps, rules.guidance, rules.area, rules.lora) == (8, 1.0, 0.5, None)
    assert "without the latent upsampler" in rules.note
    assert small.upsampler == large.upsampler and small.call == large.call
    assert small.repo == large.repo  # the text encoder, tokenizer and scheduler
    assert small.card_repo == "Lightricks/LTX-Video" and large.card_repo == large.repo
    with pytest.raises(RenderError, match="no GGUF transformer in the catalog"):
        load_options(small, Quantization.GGUF, twin_folder(), "cpu", None)
