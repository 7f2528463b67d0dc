"""A tiny random twin of HunyuanVideo Framepack (`HunyuanVideoFramepackPipeline`): image to
video from a first picture and, optionally, a last one (`last_image`).

Shaped like the published model (a HunyuanVideo transformer with Framepack's packed history
and image projection, the HunyuanVideo VAE and text encoders, a SigLIP image tower) at a few
hundred kilobytes. The published weights come from three repositories (the transformer,
the SigLIP tower and HunyuanVideo's other parts), so the catalog names no download for it and
this twin is built where it is needed (the tests build it into a temporary folder); the
shared parts come from `tools.tiny_models`, which lists it in its `MODELS`.
"""

from __future__ import annotations

from typing import Any

from tools import tiny_hunyuan, tiny_text

SIGLIP_SIDE = 16  # the tiny tower's picture side: 4 x 4 patches of 4 pixels


def build_framepack():
    from diffusers import HunyuanVideoFramepackPipeline, HunyuanVideoFramepackTransformer3DModel
    from transformers import SiglipVisionConfig, SiglipVisionModel

    try:
        from transformers import SiglipImageProcessorPil as processor_class
    except ImportError:
        from transformers import SiglipImageProcessor as processor_class

    tokenizer, tokenizer_2 = tiny_text.llama_tokenizer(), tiny_text.clip_tokenizer()
    text_encoder = tiny_text._llama_encoder(tokenizer, hidden_size=16)
    text_encoder_2 = tiny_text._clip_encoder(tokenizer_2, hidden_size=8)
    tiny_text._seed()
    transformer = HunyuanVideoFramepackTransformer3DModel(
        in_channels=4,
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=10,
        num_layers=1,
        num_single_layers=1,
        num_refiner_layers=1,
        patch_size=2,
        patch_size_t=1,
        guidance_embeds=True,
        text_embed_dim=16,
        pooled_projection_dim=8,
        rope_axes_dim=(2, 4, 4),
        has_image_proj=True,
        image_proj_dim=8,
        has_clean_x_embedder=True,
    )
    config = SiglipVisionConfig(
        hidden_size=8,
        intermediate_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=SIGLIP_SIDE,
        patch_size=4,
    )
    tiny_text._seed()
    image_encoder = SiglipVisionModel(config).eval()
    return HunyuanVideoFramepackPipeline(
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        vae=tiny_hunyuan._hunyuan_vae(),
        scheduler=tiny_hunyuan._hunyuan_scheduler(),
        text_encoder_2=text_encoder_2,
        tokenizer_2=tokenizer_2,
        image_encoder=image_encoder,
        feature_extractor=processor_class(size={"height": SIGLIP_SIDE, "width": SIGLIP_SIDE}),
    )


# What `tools.tiny_models.TinyModel` says of it (its fields, by name).
SPECS: list[dict[str, Any]] = [
    dict(
        id="tiny-framepack",
        family="hunyuan",
        build=build_framepack,
        pipelines={"i2v": "HunyuanVideoFramepackPipeline"},
        frame_rule="4n+1",
        vae_scale_spatial=8,
        vae_scale_temporal=4,
        size_multiple=16,
        default_fps=30,
        last_image=True,
        bundled=False,
    ),
]
