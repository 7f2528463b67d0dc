"""Estimates of drafts and quantized weights: a draft is the quality figure scaled to its
size and steps, and a quantization's saving is computed from published parameter counts
(or a GGUF file's published size), said to be computed."""

from __future__ import annotations

import pytest

from engine.models.catalog import Catalog
from engine.models.estimates import estimate, quantized_weights, with_quantization
from studio.jobs import Quantization


def test_a_draft_costs_the_quality_figure_scaled_to_its_size_and_steps():
    entry = Catalog().get("hunyuanvideo")
    quality = estimate(entry, 960, 544, 129, "quality", 50)
    draft = estimate(entry, 672, 384, 129, "draft", 13)
    assert draft.seconds < quality.seconds / 5
    assert "draft's size and steps" in draft.basis and not draft.exact


@pytest.mark.parametrize(
    ("quantization", "weights"),
    [(Quantization.INT8, 20.0), (Quantization.NF4, 10.32), (Quantization.GGUF, 21.5)],
)
def test_quantized_weights_are_computed_from_published_parameter_counts(quantization, weights):
    entry = Catalog().get("wan2.1-t2v-14b")
    found = quantized_weights(entry, quantization)
    assert found.full_gb == pytest.approx(40.0)  # (14.3 + 5.7) B x 2 bytes
    assert found.quantized_gb == pytest.approx(weights)
    assert "huggingface.co/city96/Wan2.1-T2V-14B-gguf" in found.source
    if quantization == Quantization.GGUF:
        assert "10.1 GB (published file size)" in found.basis
    else:
        assert found.basis.startswith("computed, not published")


def test_the_saving_comes_off_the_published_peak_and_unknown_models_say_so():
    catalog = Catalog()
    hunyuan = catalog.get("hunyuanvideo")
    found = estimate(hunyuan, 960, 544, 129, "quality")
    int8 = with_quantization(found, hunyuan, Quantization.INT8)
    assert int8.vram_gb == pytest.approx(found.vram_gb - 12.8)
    assert "computed, not published" in int8.basis and not int8.exact
    assert with_quantization(found, hunyuan, Quantization.NONE) is found
    cog = catalog.get("cogvideox-5b")
    plain = estimate(cog, 720, 480, 49, "lowvram")
    said = with_quantization(plain, cog, Quantization.INT8)
    assert said.vram_gb == plain.vram_gb and "no parameter count known" in said.basis
