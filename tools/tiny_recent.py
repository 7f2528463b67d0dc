"""Tiny random twins of the newer pipeline classes: Wan 2.2 A14B (two experts), Wan 2.1
FLF2V (CLIP image branch, first and last frame), Wan VACE, LTX-Video 0.9.7+ (the condition
pipeline and its latent upsampler), HunyuanVideo 1.5 (text and image to video) and SkyReels-V2
diffusion forcing.

Each builder returns a pipeline of the real diffusers class, shaped like the published
checkpoint (the same components, the same conditioning channels) at a few hundred kilobytes.
The shared parts (the Wan and LTX-Video parts, the image towers) come from
`tools.tiny_parts` and the text side from `tools.tiny_text`; `tools.tiny_models` lists
these builders in its `MODELS` with what `gallop.json` says about each.
"""

from __future__ import annotations

from typing import Any

from tools import tiny_text
from tools.tiny_parts import (
    clip_processor,
    clip_vision_config,
    diffusers_model,
    ltx_parts,
    seeded,
    siglip_tower,
    wan_parts,
    wan_scheduler,
    wan_transformer,
)

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


# --------------------------------------------------------------------------------- Wan


def build_wan22_a14b():
    """Wan 2.2 I2V A14B: a high-noise and a low-noise expert, switched at `boundary_ratio`
    (0.9 of the schedule, as published); the image reaches both through 20 extra channels
    (a frame mask and the encoded condition video), with no CLIP image branch."""
    from diffusers import WanImageToVideoPipeline

    parts = wan_parts(
        transformer=wan_transformer(in_channels=36, seed=0),
        transformer_2=wan_transformer(in_channels=36, seed=1),
    )
    return WanImageToVideoPipeline(**parts, boundary_ratio=0.9)


def build_wan_flf2v():
    """Wan 2.1 FLF2V 14B: the I2V layout with its CLIP image branch, which sees the first and
    the last frame; their tokens (2 x 17 here) get a learned position embedding."""
    from diffusers import WanImageToVideoPipeline
    from transformers import CLIPVisionModel

    tokens = (32 // 8) ** 2 + 1
    transformer = wan_transformer(
        in_channels=36, image_dim=8, added_kv_proj_dim=24, pos_embed_seq_len=2 * tokens
    )
    image_encoder = seeded(CLIPVisionModel, clip_vision_config(side=32, patch=8, act="gelu"))
    return WanImageToVideoPipeline(
        **wan_parts(transformer=transformer, image_encoder=image_encoder),
        image_processor=clip_processor(32),
    )


def build_wan_vace():
    """Wan 2.1 VACE: the text-to-video transformer with control blocks that read the
    conditioning video, its mask (8 x 8 pixels per latent cell: 64 channels) and references."""
    from diffusers import WanVACEPipeline

    transformer = wan_transformer(
        "WanVACETransformer3DModel", vace_layers=[0, 1], vace_in_channels=16 * 2 + 8 * 8
    )
    return WanVACEPipeline(**wan_parts(transformer=transformer))


def build_skyreels_df():
    """SkyReels-V2 diffusion forcing: a Wan-style transformer whose frames each get their
    own noise level, so a long clip is denoised in overlapping windows. Text and image to
    video share it (the image is a clean prefix latent)."""
    from diffusers import SkyReelsV2DiffusionForcingPipeline

    transformer = wan_transformer("SkyReelsV2Transformer3DModel", num_frame_per_block=1)
    return SkyReelsV2DiffusionForcingPipeline(
        **wan_parts(transformer=transformer, scheduler=wan_scheduler(flow_shift=8.0))
    )


# --------------------------------------------------------------------------------- LTX


def build_ltx_condition():
    """LTX-Video 0.9.7 and later: the condition pipeline over a VAE whose decoder takes a
    timestep (`decode_timestep`, `decode_noise_scale`)."""
    from diffusers import LTXConditionPipeline

    return LTXConditionPipeline(**ltx_parts(timestep_conditioning=True))


def build_latent_upsampler():
    """The x2 spatial latent upsampler of LTX-Video 0.9.7 and 0.9.8, in 2-D convolutions
    (the published one uses 3-D ones: the same class, a third of the weights here)."""
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

    config = dict(
        in_channels=8, mid_channels=32, num_blocks_per_stage=1, dims=2, spatial_upsample=True
    )
    return seeded(LTXLatentUpsamplerModel, seed=2, **config)


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
    model = tiny_text.train(backend, trainer)
    vocab = {token: index for token, index in model["vocab"].items() if token not in QWEN_SPECIAL}
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=tiny_text.bpe_merges(model),
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
        **tiny_text.DECODER_LAYERS,
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        max_position_embeddings=2048,
        rope_scaling={
            "type": "mrope",
            "mrope_section": [half - 2 * (half // 4), half // 4, half // 4],
        },
        pad_token_id=tokenizer.pad_token_id,
    )
    return seeded(Qwen2_5_VLTextModel, config)


def _byt5():
    from transformers import ByT5Tokenizer

    tokenizer = ByT5Tokenizer(extra_ids=0)
    return tokenizer, tiny_text.t5_encoder(tokenizer, d_model=8)


def _hunyuan15_parts(task_type: str) -> dict[str, Any]:
    from diffusers import ClassifierFreeGuidance, FlowMatchEulerDiscreteScheduler

    tokenizer = qwen_tokenizer()
    tokenizer_2, text_encoder_2 = _byt5()
    vae = diffusers_model(
        "AutoencoderKLHunyuanVideo15",
        {
            "latent_channels": 4,
            "block_out_channels": (8, 8, 8, 8, 8),
            "layers_per_block": 1,
            "spatial_compression_ratio": 16,
            "temporal_compression_ratio": 4,
        },
    )
    transformer = diffusers_model(
        "HunyuanVideo15Transformer3DModel",
        {
            "in_channels": 4 + 4 + 1,  # noise, the condition latents and their mask
            "out_channels": 4,
            "num_attention_heads": 2,
            "attention_head_dim": 8,
            "num_layers": 2,
            "num_refiner_layers": 1,
            "mlp_ratio": 2.0,
            "text_embed_dim": 32,
            "text_embed_2_dim": 8,
            "image_embed_dim": 8,
            "rope_axes_dim": (2, 2, 4),
            "target_size": 64,
        },
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

    return HunyuanVideo15ImageToVideoPipeline(
        **_hunyuan15_parts("i2v"), **siglip_tower(SIGLIP_SIDE, patch=1)
    )
