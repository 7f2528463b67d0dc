"""LoRAs in the diffusers backend: tiny random LoRAs made with PEFT change what the tiny
models draw, scale 0 draws what no LoRA draws, a shot after a LoRA shot renders as the bare
model, and a LoRA made for another family is refused naming both."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pytest

from engine.backends.base import RenderError, RenderInputs
from engine.backends.diffusers import DiffusersBackend
from engine.models.loras import lora_family
from studio.jobs import LoraWeight
from tests.engine.backends.test_diffusers_backend import Ctx, request
from tools.tiny_loras import build_lora

FAMILIES = {"tiny-wan": "wan", "tiny-ltx": "ltx", "tiny-cogvideox": "cogvideox"}
FAMILIES["tiny-hunyuan"] = "hunyuan"


@pytest.fixture(scope="module")
def loras(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loras")
    return {model: build_lora(model, folder / f"{model}.safetensors") for model in FAMILIES}


@pytest.fixture(scope="module")
def backend():
    yield (instance := DiffusersBackend())
    instance.unload()


def with_loras(base, *pairs):
    """`base` with LoRAs (path, scale), and its inputs; the hash of a file's path stands for
    the hash of its content."""
    weights = tuple(
        LoraWeight(hashlib.sha256(str(path).encode()).hexdigest(), scale) for path, scale in pairs
    )
    return replace(base, loras=weights), RenderInputs(loras=tuple(path for path, _ in pairs))


def render(backend, req, inputs=None, ctx=None):
    return backend.generate(req, inputs or RenderInputs(), ctx or Ctx())


def test_the_tiny_loras_say_their_family(loras):
    from safetensors import safe_open

    for model, family in FAMILIES.items():
        with safe_open(str(loras[model]), "np") as handle:
            assert lora_family(handle.keys()) == family


@pytest.mark.parametrize("model_id", list(FAMILIES))
def test_a_lora_changes_the_pixels_and_scale_zero_does_not(backend, loras, model_id):
    base = request(model_id)
    bare = render(backend, base)
    ctx = Ctx()
    full = render(backend, *with_loras(base, (loras[model_id], 1.0)), ctx=ctx)
    assert any(f"{loras[model_id].name} at 1" in line for line in ctx.logs)
    assert full.shape == bare.shape and not np.array_equal(full, bare)
    off = render(backend, *with_loras(base, (loras[model_id], 0.0)))
    assert np.array_equal(off, bare)
    # After a shot with a LoRA, a shot without renders what the bare model renders.
    render(backend, *with_loras(base, (loras[model_id], 1.0)))
    assert np.array_equal(render(backend, base), bare)


def test_another_scale_reweights_the_loaded_lora(backend, loras):
    base = request("tiny-wan")
    bare = render(backend, base)
    full = render(backend, *with_loras(base, (loras["tiny-wan"], 1.0)))
    half = render(backend, *with_loras(base, (loras["tiny-wan"], 0.5)))
    assert not np.array_equal(half, full) and not np.array_equal(half, bare)
    # Further from the bare picture at full scale than at half.
    distance = [np.abs(x.astype(int) - bare).mean() for x in (half, full)]
    assert 0 < distance[0] < distance[1]
    # Going back to full scale gives the full-scale picture again.
    assert np.array_equal(render(backend, *with_loras(base, (loras["tiny-wan"], 1.0))), full)


def test_a_lora_for_another_family_is_refused_naming_both(backend, loras):
    base = request("tiny-wan")
    bare = render(backend, base)
    with pytest.raises(RenderError) as caught:
        render(backend, *with_loras(base, (loras["tiny-ltx"], 1.0)))
    message = str(caught.value)
    assert "tiny-ltx.safetensors" in message
    assert "made for LTX-Video" in message and "Tiny Wan" in message and "Wan model" in message
    # Refused before anything loaded: the next render is the bare model's.
    assert np.array_equal(render(backend, base), bare)
    # A good LoRA before a bad one comes out again with it.
    pair = with_loras(base, (loras["tiny-wan"], 1.0), (loras["tiny-hunyuan"], 1.0))
    with pytest.raises(RenderError, match="made for HunyuanVideo"):
        render(backend, *pair)
    assert np.array_equal(render(backend, base), bare)


def test_a_request_whose_lora_files_are_missing_fails_clearly(backend):
    req, _ = with_loras(request("tiny-wan"), ("x", 1.0))
    with pytest.raises(RenderError, match="names 1 LoRAs but 0 LoRA files"):
        render(backend, req, RenderInputs())
