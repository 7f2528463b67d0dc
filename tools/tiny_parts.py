"""How every tiny model is made, and the parts that several tiny twins share.

A random-weight model is its class and its configuration: the constructor's keyword
arguments for a diffusers model, a config object for a transformers one. `seeded` makes it
right after the fixed seed (plus an offset where one pipeline holds two models of one
shape), so each model's weights depend on its class, configuration and seed alone, never on
what was built before it. A configuration that several twins share is a dict here
(`WAN_TRANSFORMER`, `LTX_VAE`, ...); a twin merges its few differences into it.

The text side (tokenizers, text encoders) is in `tools.tiny_text`; `tools.tiny_models`
lists every twin, with what `gallop.json` says of it, in its `MODELS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

SEED = 0

M = TypeVar("M")


def seeded(make: Callable[..., M], *args: Any, seed: int = 0, **kwargs: Any) -> M:
    """`make(*args, **kwargs)` in eval mode, its random weights drawn from `SEED + seed`."""
    import torch

    torch.manual_seed(SEED + seed)
    return make(*args, **kwargs).eval()


def diffusers_model(class_name: str, config: dict[str, Any], seed: int = 0, **overrides: Any):
    """A diffusers model of `class_name` from `config`, `overrides` merged in."""
    import diffusers

    return seeded(getattr(diffusers, class_name), seed=seed, **{**config, **overrides})


# --------------------------------------------------------------------------------- Wan

WAN_VAE: dict[str, Any] = {
    "base_dim": 4,
    "z_dim": 16,
    "dim_mult": [1, 1, 1, 1],
    "num_res_blocks": 1,
    "attn_scales": [],
    "temperal_downsample": [False, True, True],
}
WAN_TRANSFORMER: dict[str, Any] = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 2,
    "attention_head_dim": 12,
    "in_channels": 16,
    "out_channels": 16,
    "text_dim": 32,
    "freq_dim": 32,
    "ffn_dim": 32,
    "num_layers": 2,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
}


def wan_transformer(class_name: str = "WanTransformer3DModel", seed: int = 0, **overrides: Any):
    return diffusers_model(class_name, WAN_TRANSFORMER, seed, **overrides)


def wan_scheduler(flow_shift: float = 3.0):
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=flow_shift
    )


def wan_parts(**parts: Any) -> dict[str, Any]:
    """A Wan pipeline's UMT5 text encoder, VAE and scheduler, with `parts` added or replacing."""
    from tools.tiny_text import t5_encoder, t5_tokenizer

    tokenizer = t5_tokenizer(model_max_length=512)
    return {
        "tokenizer": tokenizer,
        "text_encoder": t5_encoder(tokenizer, umt5=True),
        "vae": diffusers_model("AutoencoderKLWan", WAN_VAE),
        "scheduler": wan_scheduler(),
        **parts,
    }


# --------------------------------------------------------------------------------- LTX-Video

# Every decoder argument is spelled out: the defaults are those of the 2B model.
LTX_VAE: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 8,
    "block_out_channels": (8, 8, 8, 8),
    "down_block_types": ("LTXVideoDownBlock3D",) * 4,
    "decoder_block_out_channels": (8, 8, 8, 8),
    "layers_per_block": (1, 1, 1, 1, 1),
    "decoder_layers_per_block": (1, 1, 1, 1, 1),
    "spatio_temporal_scaling": (True, True, True, False),
    "decoder_spatio_temporal_scaling": (True, True, True, False),
    "decoder_inject_noise": (False, False, False, False, False),
    "downsample_type": ("conv", "conv", "conv", "conv"),
    "upsample_residual": (False, False, False, False),
    "upsample_factor": (1, 1, 1, 1),
    "timestep_conditioning": False,
    "patch_size": 4,
    "patch_size_t": 1,
    "encoder_causal": True,
    "decoder_causal": False,
}
LTX_TRANSFORMER: dict[str, Any] = {
    "in_channels": 8,
    "out_channels": 8,
    "patch_size": 1,
    "patch_size_t": 1,
    "num_attention_heads": 2,
    "attention_head_dim": 12,
    "cross_attention_dim": 24,
    "num_layers": 2,
    "caption_channels": 32,
}


def ltx_parts(*, timestep_conditioning: bool) -> dict[str, Any]:
    """An LTX-Video pipeline's parts; LTX-Video 0.9.7 and later decode with a timestep."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    from tools.tiny_text import t5_encoder, t5_tokenizer

    tokenizer = t5_tokenizer(model_max_length=128)
    vae = diffusers_model(
        "AutoencoderKLLTXVideo", LTX_VAE, timestep_conditioning=timestep_conditioning
    )
    # As in LTX-Video 0.9.5 and later: `LTXConditionPipeline` passes its own timesteps and no
    # `mu`, so dynamic shifting must be off.
    scheduler = FlowMatchEulerDiscreteScheduler(
        base_image_seq_len=1024,
        base_shift=0.95,
        max_image_seq_len=4096,
        max_shift=2.05,
        shift=1.0,
        shift_terminal=0.1,
        use_dynamic_shifting=False,
    )
    return {
        "scheduler": scheduler,
        "vae": vae,
        "text_encoder": t5_encoder(tokenizer),
        "tokenizer": tokenizer,
        "transformer": diffusers_model("LTXVideoTransformer3DModel", LTX_TRANSFORMER),
    }


# --------------------------------------------------------------------------------- image towers

CLIP_VISION: dict[str, Any] = {
    "hidden_size": 8,
    "intermediate_size": 16,
    "projection_dim": 8,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
}
SIGLIP_VISION: dict[str, Any] = {
    "hidden_size": 8,
    "intermediate_size": 16,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
}


def clip_vision_config(side: int, patch: int, act: str):
    from transformers import CLIPVisionConfig

    return CLIPVisionConfig(**CLIP_VISION, image_size=side, patch_size=patch, hidden_act=act)


def clip_processor(side: int):
    try:  # the Pillow-only processor of transformers 5, so no torchvision is needed
        from transformers import CLIPImageProcessorPil as processor_class
    except ImportError:
        from transformers import CLIPImageProcessor as processor_class

    return processor_class(size={"shortest_edge": side}, crop_size={"height": side, "width": side})


def siglip_tower(side: int, patch: int) -> dict[str, Any]:
    """A SigLIP image encoder seeing `side`-pixel pictures, and its image processor."""
    from transformers import SiglipVisionConfig, SiglipVisionModel

    try:  # the Pillow-only processor of transformers 5, as above
        from transformers import SiglipImageProcessorPil as processor_class
    except ImportError:
        from transformers import SiglipImageProcessor as processor_class

    config = SiglipVisionConfig(**SIGLIP_VISION, image_size=side, patch_size=patch)
    return {
        "image_encoder": seeded(SiglipVisionModel, config),
        "feature_extractor": processor_class(size={"height": side, "width": side}),
    }
