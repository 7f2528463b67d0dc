"""Tiny random twins of the newer pipeline classes: Wan 2.2 A14B (two experts), Wan 2.1
FLF2V (CLIP image branch, first and last frame), Wan VACE, LTX-Video 0.9.7+ (the condition
pipeline and its latent upsampler), HunyuanVideo 1.5 (text and image to video) and SkyReels-V2
diffusion forcing.

Each builder returns a pipeline of the real diffusers class, shaped like the published
checkpoint (the same components, the same conditioning channels) at a few hundred kilobytes.
The shared parts (tokenizers, the T5 encoder, the Wan VAE) come from `tools.tiny_models`,
which lists these builders in its `MODELS` with what `gallop.json` says about each.
"""

from __future__ import annotations

from typing import Any

from tools import tiny_text

# The SigLIP tower of HunyuanVideo 1.5 gives 729 tokens (27 x 27 patches), a number the
# pipeline hard-codes; a 27-pixel image in 1-pixel patches gives as many.
SIGLIP_SIDE = 27
# Qwen2.5-VL's chat markers and its template, as HunyuanVideo 1.5 applies it to each prompt.
QWEN_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def _base():
    from tools import tiny_models

    return tiny_models


def _seed(offset: int = 0) -> None:
    import torch

    torch.manual_seed(tiny_text.SEED + offset)


# --------------------------------------------------------------------------------- Wan


def _wan_text():
    tokenizer = tiny_text.t5_tokenizer(model_max_length=512)
    return tokenizer, tiny_text._t5_encoder(tokenizer, umt5=True)


def _wan_transformer(cls_name: str = "WanTransformer3DModel", seed: int = 0, **overrides):
    import diffusers

    _seed(seed)
    return getattr(diffusers, cls_name)(
        **{
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
            **overrides,
        }
    )


def build_wan22_a14b():
    """Wan 2.2 I2V A14B: a high-noise and a low-noise expert, switched at `boundary_ratio`
    (0.9 of the schedule, as published); the image reaches both through 20 extra channels
    (a frame mask and the encoded condition video), with no CLIP image branch."""
    from diffusers import WanImageToVideoPipeline

    tokenizer, text_encoder = _wan_text()
    return WanImageToVideoPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=_base()._wan_vae(),
        scheduler=_base()._wan_scheduler(),
        transformer=_wan_transformer(in_channels=36, seed=0),
        transformer_2=_wan_transformer(in_channels=36, seed=1),
        boundary_ratio=0.9,
    )


def _clip_vision(side: int = 32):
    from transformers import CLIPVisionConfig, CLIPVisionModel

    config = CLIPVisionConfig(
        hidden_size=8,
        intermediate_size=16,
        projection_dim=8,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=side,
        patch_size=8,
        hidden_act="gelu",
    )
    _seed()
    return CLIPVisionModel(config).eval()


def _clip_processor(side: int = 32):
    try:  # the Pillow-only processor of transformers 5, so no torchvision is needed
        from transformers import CLIPImageProcessorPil as processor_class
    except ImportError:
        from transformers import CLIPImageProcessor as processor_class

    return processor_class(size={"shortest_edge": side}, crop_size={"height": side, "width": side})


def build_wan_flf2v():
    """Wan 2.1 FLF2V 14B: the I2V layout with its CLIP image branch, which sees the first and
    the last frame; their tokens (2 x 17 here) get a learned position embedding."""
    from diffusers import WanImageToVideoPipeline

    tokenizer, text_encoder = _wan_text()
    tokens = (32 // 8) ** 2 + 1
    return WanImageToVideoPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=_base()._wan_vae(),
        scheduler=_base()._wan_scheduler(),
        image_processor=_clip_processor(),
        image_encoder=_clip_vision(),
        transformer=_wan_transformer(
            in_channels=36, image_dim=8, added_kv_proj_dim=24, pos_embed_seq_len=2 * tokens
        ),
    )


def build_wan_vace():
    """Wan 2.1 VACE: the text-to-video transformer with control blocks that read the
    conditioning video, its mask (8 x 8 pixels per latent cell: 64 channels) and references."""
    from diffusers import WanVACEPipeline

    tokenizer, text_encoder = _wan_text()
    return WanVACEPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=_base()._wan_vae(),
        scheduler=_base()._wan_scheduler(),
        transformer=_wan_transformer(
            "WanVACETransformer3DModel", vace_layers=[0, 1], vace_in_channels=16 * 2 + 8 * 8
        ),
    )


def build_skyreels_df():
    """SkyReels-V2 diffusion forcing: a Wan-style transformer whose frames each get their
    own noise level, so a long clip is denoised in overlapping windows. Text and image to
    video share it (the image is a clean prefix latent)."""
    from diffusers import SkyReelsV2DiffusionForcingPipeline, UniPCMultistepScheduler

    tokenizer, text_encoder = _wan_text()
    return SkyReelsV2DiffusionForcingPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        transformer=_wan_transformer("SkyReelsV2Transformer3DModel", num_frame_per_block=1),
        vae=_base()._wan_vae(),
        scheduler=UniPCMultistepScheduler(
            prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=8.0
        ),
    )


# --------------------------------------------------------------------------------- LTX


def build_ltx_condition():
    """LTX-Video 0.9.7 and later: the condition pipeline over a VAE whose decoder takes a
    timestep (`decode_timestep`, `decode_noise_scale`)."""
    from diffusers import AutoencoderKLLTXVideo, LTXConditionPipeline

    parts = dict(_base().build_ltx().components)
    _seed()
    parts["vae"] = AutoencoderKLLTXVideo(**_ltx_vae_config(timestep_conditioning=True))
    return LTXConditionPipeline(**parts)


def _ltx_vae_config(*, timestep_conditioning: bool) -> dict[str, Any]:
    return {
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
        "timestep_conditioning": timestep_conditioning,
        "patch_size": 4,
        "patch_size_t": 1,
        "encoder_causal": True,
        "decoder_causal": False,
    }


def build_latent_upsampler():
    """The x2 spatial latent upsampler of LTX-Video 0.9.7 and 0.9.8, in 2-D convolutions
    (the published one uses 3-D ones: the same class, a third of the weights here)."""
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

    _seed(2)
    return LTXLatentUpsamplerModel(
        in_channels=8, mid_channels=32, num_blocks_per_stage=1, dims=2, spatial_upsample=True
    )


# --------------------------------------------------------------------------------- HunyuanVideo 1.5


def qwen_tokenizer(vocab_size: int = 600):
    """A Qwen2-style tokenizer: byte-level BPE with the chat markers and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=QWEN_SPECIAL,
        initial_alphabet=sorted(pre_tokenizers.ByteLevel.alphabet()),
        show_progress=False,
    )
    with tiny_text._single_threaded_tokenizers():
        backend.train_from_iterator(tiny_text.corpus_lines(), trainer=trainer)
    model = tiny_text._model_json(backend)
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    vocab = {token: index for token, index in model["vocab"].items() if token not in QWEN_SPECIAL}
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=QWEN_SPECIAL[1:],
        model_max_length=2048,
    )
    tokenizer.chat_template = QWEN_CHAT_TEMPLATE
    return tokenizer


def _qwen_encoder(tokenizer, hidden_size: int = 32):
    from transformers import Qwen2_5_VLTextConfig, Qwen2_5_VLTextModel

    half = hidden_size // 4 // 2  # rotary pairs a head: time, height and width share them
    config = Qwen2_5_VLTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        rope_scaling={
            "type": "mrope",
            "mrope_section": [half - 2 * (half // 4), half // 4, half // 4],
        },
        pad_token_id=tokenizer.pad_token_id,
    )
    _seed()
    return Qwen2_5_VLTextModel(config).eval()


def _byt5():
    from transformers import ByT5Tokenizer

    tokenizer = ByT5Tokenizer(extra_ids=0)
    return tokenizer, tiny_text._t5_encoder(tokenizer, d_model=8)


def _hunyuan15_parts(task_type: str) -> dict[str, Any]:
    from diffusers import (
        AutoencoderKLHunyuanVideo15,
        ClassifierFreeGuidance,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideo15Transformer3DModel,
    )

    tokenizer = qwen_tokenizer()
    tokenizer_2, text_encoder_2 = _byt5()
    _seed()
    vae = AutoencoderKLHunyuanVideo15(
        latent_channels=4,
        block_out_channels=(8, 8, 8, 8, 8),
        layers_per_block=1,
        spatial_compression_ratio=16,
        temporal_compression_ratio=4,
    )
    _seed()
    transformer = HunyuanVideo15Transformer3DModel(
        in_channels=4 + 4 + 1,  # noise, the condition latents and their mask
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=2,
        num_refiner_layers=1,
        mlp_ratio=2.0,
        text_embed_dim=32,
        text_embed_2_dim=8,
        image_embed_dim=8,
        rope_axes_dim=(2, 2, 4),
        target_size=64,
        task_type=task_type,
    )
    return {
        "text_encoder": _qwen_encoder(tokenizer),
        "tokenizer": tokenizer,
        "transformer": transformer,
        "vae": vae,
        "scheduler": FlowMatchEulerDiscreteScheduler(shift=5.0),
        "text_encoder_2": text_encoder_2,
        "tokenizer_2": tokenizer_2,
        "guider": ClassifierFreeGuidance(guidance_scale=6.0),
    }


def build_hunyuan15():
    from diffusers import HunyuanVideo15Pipeline

    return HunyuanVideo15Pipeline(**_hunyuan15_parts("t2v"))


def build_hunyuan15_i2v():
    """The image-to-video model adds a SigLIP tower (729 tokens) and encodes the image as
    the first condition latent."""
    from diffusers import HunyuanVideo15ImageToVideoPipeline
    from transformers import SiglipVisionConfig, SiglipVisionModel

    try:
        from transformers import SiglipImageProcessorPil as processor_class
    except ImportError:
        from transformers import SiglipImageProcessor as processor_class

    config = SiglipVisionConfig(
        hidden_size=8,
        intermediate_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=SIGLIP_SIDE,
        patch_size=1,
    )
    _seed()
    image_encoder = SiglipVisionModel(config).eval()
    processor = processor_class(size={"height": SIGLIP_SIDE, "width": SIGLIP_SIDE})
    return HunyuanVideo15ImageToVideoPipeline(
        **_hunyuan15_parts("i2v"), image_encoder=image_encoder, feature_extractor=processor
    )


# What `tools.tiny_models.TinyModel` says of each (its fields, by name).
SPECS: list[dict[str, Any]] = [
    dict(
        id="tiny-wan22-a14b",
        family="wan",
        build=build_wan22_a14b,
        pipelines={"i2v": "WanImageToVideoPipeline"},
        frame_rule="4n+1",
        vae_scale_spatial=8,
        vae_scale_temporal=4,
        size_multiple=16,
        default_fps=16,
        last_image=True,
    ),
    dict(
        id="tiny-wan-flf2v",
        family="wan",
        build=build_wan_flf2v,
        pipelines={"i2v": "WanImageToVideoPipeline"},
        frame_rule="4n+1",
        vae_scale_spatial=8,
        vae_scale_temporal=4,
        size_multiple=16,
        default_fps=16,
        last_image=True,
    ),
    dict(
        id="tiny-wan-vace",
        family="wan",
        build=build_wan_vace,
        pipelines={
            "t2v": "WanVACEPipeline",
            "i2v": "WanVACEPipeline",
            "v2v": "WanVACEPipeline",
        },
        frame_rule="4n+1",
        vae_scale_spatial=8,
        vae_scale_temporal=4,
        size_multiple=16,
        default_fps=16,
    ),
    dict(
        id="tiny-ltx-condition",
        family="ltx",
        build=build_ltx_condition,
        pipelines={
            "t2v": "LTXConditionPipeline",
            "i2v": "LTXConditionPipeline",
            "v2v": "LTXConditionPipeline",
        },
        frame_rule="8n+1",
        vae_scale_spatial=32,
        vae_scale_temporal=8,
        size_multiple=32,
        default_fps=24,
        extras=(("latent_upsampler", build_latent_upsampler),),
    ),
    dict(
        id="tiny-skyreels-df",
        family="wan",
        build=build_skyreels_df,
        pipelines={
            "t2v": "SkyReelsV2DiffusionForcingPipeline",
            "i2v": "SkyReelsV2DiffusionForcingImageToVideoPipeline",
        },
        frame_rule="4n+1",
        vae_scale_spatial=8,
        vae_scale_temporal=4,
        size_multiple=16,
        default_fps=24,
        last_image=True,
    ),
    # HunyuanVideo 1.5 projects its glyph (ByT5) embeddings through a 2048-wide layer
    # whatever the configuration says: 17 MB of weights even at this size, so these two
    # are built where they are needed (the tests build them into a temporary folder).
    dict(
        id="tiny-hunyuan15",
        family="hunyuan",
        build=build_hunyuan15,
        pipelines={"t2v": "HunyuanVideo15Pipeline"},
        frame_rule="4n+1",
        vae_scale_spatial=16,
        vae_scale_temporal=4,
        size_multiple=16,
        default_fps=24,
        bundled=False,
    ),
    dict(
        id="tiny-hunyuan15-i2v",
        family="hunyuan",
        build=build_hunyuan15_i2v,
        pipelines={"i2v": "HunyuanVideo15ImageToVideoPipeline"},
        frame_rule="4n+1",
        vae_scale_spatial=16,
        vae_scale_temporal=4,
        size_multiple=16,
        default_fps=24,
        bundled=False,
    ),
]
