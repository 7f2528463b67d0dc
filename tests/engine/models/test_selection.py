"""The files a pipeline download takes from a repository, as diffusers chooses them:
the named components' folders only, safetensors only, one variant."""

from __future__ import annotations

import pytest

from engine.models.selection import SelectionError, pipeline_files

INDEX = {
    "_class_name": "WanPipeline",
    "_diffusers_version": "0.33.0",
    "scheduler": ["diffusers", "UniPCMultistepScheduler"],
    "text_encoder": ["transformers", "UMT5EncoderModel"],
    "tokenizer": ["transformers", "T5TokenizerFast"],
    "transformer": ["diffusers", "WanTransformer3DModel"],
    "transformer_2": [None, None],
    "vae": ["diffusers", "AutoencoderKLWan"],
}

REPO = [
    "README.md",
    "model_index.json",
    "assets/demo.mp4",
    "examples/i2v_input.JPG",
    "google/umt5-xxl/spiece.model",
    "other.safetensors",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/model-00001-of-00002.safetensors",
    "text_encoder/model-00002-of-00002.safetensors",
    "text_encoder/model.safetensors.index.json",
    "text_encoder/pytorch_model.bin",
    "tokenizer/special_tokens_map.json",
    "tokenizer/spiece.model",
    "tokenizer/tokenizer.json",
    "tokenizer/tokenizer_config.json",
    "transformer/config.json",
    "transformer/diffusion_pytorch_model-00001-of-00002.safetensors",
    "transformer/diffusion_pytorch_model-00002-of-00002.safetensors",
    "transformer/diffusion_pytorch_model.safetensors.index.json",
    "transformer/diffusion_pytorch_model.fp16.safetensors",
    "transformer/diffusion_pytorch_model.onnx",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
    "vae/diffusion_pytorch_model.bin",
    "vae/flax_model.msgpack",
]


def test_the_named_components_in_safetensors_and_nothing_else():
    assert pipeline_files(INDEX, REPO) == [
        "model_index.json",
        "scheduler/scheduler_config.json",
        "text_encoder/config.json",
        "text_encoder/model-00001-of-00002.safetensors",
        "text_encoder/model-00002-of-00002.safetensors",
        "text_encoder/model.safetensors.index.json",
        "tokenizer/special_tokens_map.json",
        "tokenizer/spiece.model",
        "tokenizer/tokenizer.json",
        "tokenizer/tokenizer_config.json",
        "transformer/config.json",
        "transformer/diffusion_pytorch_model-00001-of-00002.safetensors",
        "transformer/diffusion_pytorch_model-00002-of-00002.safetensors",
        "transformer/diffusion_pytorch_model.safetensors.index.json",
        "vae/config.json",
        "vae/diffusion_pytorch_model.safetensors",
    ]


def test_a_variant_replaces_the_plain_weights_where_a_component_has_it():
    chosen = pipeline_files(INDEX, REPO, variant="fp16")
    transformer = [f for f in chosen if f.startswith("transformer/")]
    assert transformer == [
        "transformer/config.json",
        "transformer/diffusion_pytorch_model.fp16.safetensors",
    ]
    assert "vae/diffusion_pytorch_model.safetensors" in chosen  # no fp16 there: the plain one


def test_a_component_without_safetensors_is_refused():
    repo = [f for f in REPO if not f.startswith("vae/diffusion_pytorch_model.safetensors")]
    with pytest.raises(SelectionError, match="vae has no safetensors weights"):
        pipeline_files(INDEX, repo)


def test_ignored_files_and_python_code_are_left_out():
    index = {**INDEX, "_ignore_files": ["tokenizer/spiece.model"]}
    repo = [*REPO, "scheduler/custom_scheduler.py", "tokenizer/sub/added.json"]
    chosen = pipeline_files(index, repo)
    assert "tokenizer/spiece.model" not in chosen
    assert "scheduler/custom_scheduler.py" not in chosen
    assert "tokenizer/sub/added.json" in chosen  # a component's folder, all of it


def test_components_of_a_single_file_checkpoint_get_their_config_only():
    chosen = pipeline_files(INDEX, REPO, only_configs=("transformer", "vae"))
    assert [f for f in chosen if f.startswith(("transformer/", "vae/"))] == [
        "transformer/config.json",
        "vae/config.json",
    ]
    assert chosen == [
        f for f in pipeline_files(INDEX, REPO) if not f.startswith(("transformer/", "vae/"))
    ] + ["transformer/config.json", "vae/config.json"]
    # Weights held elsewhere: a component with no safetensors here is not refused.
    repo = [f for f in REPO if not f.startswith("vae/diffusion_pytorch_model.safetensors")]
    assert "vae/config.json" in pipeline_files(INDEX, repo, only_configs=("vae",))
