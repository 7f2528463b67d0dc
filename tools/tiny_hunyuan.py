"""The tiny HunyuanVideo twins (text-to-video and image-to-video): the VAE, the
transformer, the scheduler and the LLaVA-style image and text encoders, with random
weights. Listed in `tools.tiny_models.MODELS`.
"""

from __future__ import annotations

from tools.tiny_text import (
    LLAVA_IMAGE_TOKEN,
    _clip_encoder,
    _llama_encoder,
    _seed,
    clip_tokenizer,
    llama_tokenizer,
)


def _hunyuan_vae():
    from diffusers import AutoencoderKLHunyuanVideo

    _seed()
    return AutoencoderKLHunyuanVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        down_block_types=("HunyuanVideoDownBlock3D",) * 4,
        up_block_types=("HunyuanVideoUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        act_fn="silu",
        norm_num_groups=4,
        scaling_factor=0.476986,
        spatial_compression_ratio=8,
        temporal_compression_ratio=4,
        mid_block_add_attention=True,
    )


def _hunyuan_transformer(**overrides):
    from diffusers import HunyuanVideoTransformer3DModel

    _seed()
    return HunyuanVideoTransformer3DModel(
        **{
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
            **overrides,
        }
    )


def _hunyuan_scheduler():
    from diffusers import FlowMatchEulerDiscreteScheduler

    return FlowMatchEulerDiscreteScheduler(shift=7.0)


def build_hunyuan():
    from diffusers import HunyuanVideoPipeline

    tokenizer = llama_tokenizer()
    tokenizer_2 = clip_tokenizer()
    return HunyuanVideoPipeline(
        text_encoder=_llama_encoder(tokenizer, hidden_size=16),
        tokenizer=tokenizer,
        transformer=_hunyuan_transformer(),
        vae=_hunyuan_vae(),
        scheduler=_hunyuan_scheduler(),
        text_encoder_2=_clip_encoder(tokenizer_2, hidden_size=8),
        tokenizer_2=tokenizer_2,
    )


def _llava_encoder(tokenizer, hidden_size: int = 16):
    """Llava with a CLIP vision tower at 336 px in 14 px patches: the 576 image tokens that
    HunyuanVideo's image-to-video template reserves."""
    from transformers import (
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
    )

    vision = CLIPVisionConfig(
        hidden_size=8,
        intermediate_size=16,
        projection_dim=8,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=336,
        patch_size=14,
        hidden_act="quick_gelu",
    )
    text = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=tokenizer.model_max_length,
        rms_norm_eps=1e-5,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids(LLAVA_IMAGE_TOKEN),
        image_seq_length=576,
        projector_hidden_act="gelu",
        vision_feature_select_strategy="default",
        vision_feature_layer=-2,
        pad_token_id=tokenizer.pad_token_id,
    )
    _seed()
    return LlavaForConditionalGeneration(config).eval()


def _clip_image_processor():
    try:  # transformers 5 names the Pillow-only processor; prefer it so builds do not depend
        # on whether torchvision happens to be installed.
        from transformers import CLIPImageProcessorPil as processor_class
    except ImportError:
        from transformers import CLIPImageProcessor as processor_class

    return processor_class(size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336})


def build_hunyuan_i2v():
    """HunyuanVideo-I2V with `token_replace`: the first latent frame is the clean image.

    (The `latent_concat` variant drops the first four frames of its output.)
    """
    from diffusers import HunyuanVideoImageToVideoPipeline

    tokenizer = llama_tokenizer(llava=True)
    tokenizer_2 = clip_tokenizer()
    return HunyuanVideoImageToVideoPipeline(
        text_encoder=_llava_encoder(tokenizer, hidden_size=16),
        tokenizer=tokenizer,
        transformer=_hunyuan_transformer(image_condition_type="token_replace"),
        vae=_hunyuan_vae(),
        scheduler=_hunyuan_scheduler(),
        text_encoder_2=_clip_encoder(tokenizer_2, hidden_size=8),
        tokenizer_2=tokenizer_2,
        image_processor=_clip_image_processor(),
    )
