"""A tiny random twin of HunyuanVideo Framepack (`HunyuanVideoFramepackPipeline`): image to
video from a first picture and, optionally, a last one (`last_image`).

Shaped like the published model (a HunyuanVideo transformer with Framepack's packed history
and image projection, the HunyuanVideo VAE and text encoders, a SigLIP image tower) at a few
hundred kilobytes. The published weights come from three repositories (the transformer,
the SigLIP tower and HunyuanVideo's other parts), so the catalog names no download for it and
this twin is built where it is needed (the tests build it into a temporary folder). The
HunyuanVideo parts come from `tools.tiny_hunyuan`; `tools.tiny_models` lists it in its `MODELS`.
"""

from __future__ import annotations

from tools.tiny_hunyuan import HUNYUAN_TRANSFORMER, hunyuan_parts
from tools.tiny_parts import diffusers_model, siglip_tower

SIGLIP_SIDE = 16  # the tiny tower's picture side: 4 x 4 patches of 4 pixels


def build_framepack():
    from diffusers import HunyuanVideoFramepackPipeline

    transformer = diffusers_model(
        "HunyuanVideoFramepackTransformer3DModel",
        HUNYUAN_TRANSFORMER,
        has_image_proj=True,
        image_proj_dim=8,
        has_clean_x_embedder=True,
    )
    return HunyuanVideoFramepackPipeline(
        **hunyuan_parts(), transformer=transformer, **siglip_tower(SIGLIP_SIDE, patch=4)
    )
