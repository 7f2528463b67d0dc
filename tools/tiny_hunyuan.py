"""The tiny HunyuanVideo twins (text-to-video and image-to-video): the VAE, the
transformer, the scheduler and the LLaVA-style image and text encoders, with random
weights, made with `tools.tiny_parts.seeded`. Listed in `tools.tiny_models.MODELS`; the
Framepack twin (`tools.tiny_framepack`) shares their parts.
"""

from __future__ import annotations

from typing import Any

from tools.tiny_parts import clip_processor, clip_vision_config, diffusers_model, seeded
from tools.tiny_text import (
    LLAVA_IMAGE_TOKEN,
    clip_encoder,
    clip_tokenizer,
    llama_config,
    llama_encoder,
    llama_tokenizer,
)

HUNYUAN_VAE: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "down_block_types": ("HunyuanVideoDownBlock3D",) * 4,
    "up_block_types": ("HunyuanVideoUpBlock3D",) * 4,
    "block_out_channels": (8, 8, 8, 8),
    "layers_per_block": 1,
    "act_fn": "silu",
    "norm_num_groups": 4,
    "scaling_factor": 0.476986,
    "spatial_compression_ratio": 8,
    "temporal_compression_ratio": 4,
    "mid_block_add_attention": True,
}
HUNYUAN_TRANSFORMER: dict[str, Any] = {
    "in_channels": 4,
    "out_channels": 4,
    "num_attention_heads": 2,
    "attention_head_dim": 10,
    "num_layers": 1,
    "num_single_layers": 1,
    "num_refiner_layers": 1,
    "patch_size": 2,
    "patch_size_t": 1,
    "guidance_embeds": True,
    "text_embed_dim": 16,
    "pooled_projection_dim": 8,
    "rope_axes_dim": (2, 4, 4),
}


def hunyuan_parts(*, llava: bool = False) -> dict[str, Any]:
    """A HunyuanVideo pipeline's parts but its transformer: the Llama text encoder (LLaVA's,
    with `llava`), the CLIP one, the VAE and the scheduler."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    tokenizer, tokenizer_2 = llama_tokenizer(llava=llava), clip_tokenizer()
    return {
        "text_encoder": _llava_encoder(tokenizer) if llava else llama_encoder(tokenizer),
        "tokenizer": tokenizer,
        "vae": diffusers_model("AutoencoderKLHunyuanVideo", HUNYUAN_VAE),
        "scheduler": FlowMatchEulerDiscreteScheduler(shift=7.0),
        "text_encoder_2": clip_encoder(tokenizer_2, hidden_size=8),
        "tokenizer_2": tokenizer_2,
    }


def build_hunyuan():
    from diffusers import HunyuanVideoPipeline

    transformer = diffusers_model("HunyuanVideoTransformer3DModel", HUNYUAN_TRANSFORMER)
    return HunyuanVideoPipeline(**hunyuan_parts(), transformer=transformer)


def _llava_encoder(tokenizer, hidden_size: int = 16):
    """Llava with a CLIP vision tower at 336 px in 14 px patches: the 576 image tokens that
    HunyuanVideo's image-to-video template reserves."""
    from transformers import LlavaConfig, LlavaForConditionalGeneration

    config = LlavaConfig(
        vision_config=clip_vision_config(side=336, patch=14, act="quick_gelu"),
        text_config=llama_config(tokenizer, hidden_size),
        image_token_index=tokenizer.convert_tokens_to_ids(LLAVA_IMAGE_TOKEN),
        image_seq_length=576,
        projector_hidden_act="gelu",
        vision_feature_select_strategy="default",
        vision_feature_layer=-2,
        pad_token_id=tokenizer.pad_token_id,
    )
    return seeded(LlavaForConditionalGeneration, config)


def build_hunyuan_i2v():
    """HunyuanVideo-I2V with `token_replace`: the first latent frame is the clean image.

    (The `latent_concat` variant drops the first four frames of its output.)
    """
    from diffusers import HunyuanVideoImageToVideoPipeline

    transformer = diffusers_model(
        "HunyuanVideoTransformer3DModel", HUNYUAN_TRANSFORMER, image_condition_type="token_replace"
    )
    return HunyuanVideoImageToVideoPipeline(
        **hunyuan_parts(llava=True), transformer=transformer, image_processor=clip_processor(336)
    )
