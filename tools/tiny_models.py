"""Tiny random-weight video pipelines, built offline, for tests and demos.

Each family gets a folder `assets/models/<id>/` that loads with the real diffusers pipeline
classes (`WanPipeline.from_pretrained(folder)` and so on). The weights are random and a few
hundred kilobytes in all, so the renders are noise, but every code path of a real model runs:
text encoding, latent preparation, the denoising loop, the VAE decode.

The tokenizers are trained here, on the film vocabulary in `CORPUS`, with the `tokenizers`
package, then wrapped in the transformers classes that the real checkpoints use. Nothing is
downloaded. The build is deterministic: fixed seeds, tokenizer vocabularies put in a
canonical order (the `tokenizers` trainers number some symbols in hash-map order), sorted
JSON, so two builds give byte-identical files.

Each folder also holds `gallop.json`, which tells the engine which pipeline class serves
text-to-video (`t2v`), image-to-video (`i2v`) and video-to-video (`v2v`), leaving out the
modes the model lacks, with the frame-count rule, default size and the VAE scales. A family
whose image-to-video model needs other weights gets a second folder, `<id>-i2v`. A second
stage (LTX-Video's latent upsampler) is saved in a subfolder that `gallop.json` names under
`extras`.

The builders of the newer pipeline classes (Wan 2.2 A14B, Wan FLF2V and VACE, the LTX-Video
condition pipeline, HunyuanVideo 1.5, SkyReels-V2 diffusion forcing) are in
`tools.tiny_recent`. The HunyuanVideo 1.5 twins are too large to ship (see there): they are
built on demand, and `bundled_ids` leaves them out.

    python -m tools.tiny_models [--out assets/models] [--only tiny-wan ...]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools import tiny_framepack, tiny_recent

GALLOP_FILE = "gallop.json"

# Prompts in the register of the storyboard, and the words of the HunyuanVideo prompt template,
# so that real prompts tokenize into a few pieces each rather than into single letters.
CORPUS = """\
A slow dolly in on a lighthouse at dusk while waves crash against the black rocks below.
Wide establishing shot of a harbor town at dawn, fishing boats, gulls, soft mist over the water.
Close-up of a woman smiling by a window, warm light on her face, shallow depth of field.
Medium shot of an old man reading a letter at a kitchen table, morning sun, quiet mood.
The camera pans left across a neon city street at night; rain, puddles, reflections, traffic.
The camera pans right to reveal a mountain valley and a river under a cloudy sky.
Tilt up from the wet road to the tall glass towers; the clouds move fast in a time lapse.
Tilt down from the stars to a small campfire in the desert; sparks rise into the dark.
Truck left along a row of market stalls; colorful fruit, people walking, a dog runs past.
Pedestal up over the wall to show the garden behind it, flowers, bees, green leaves.
Dolly out from a child holding a red balloon in an empty playground; autumn leaves fall.
Zoom in slowly on the eyes of a cat sitting on a wooden fence, golden hour backlight.
Zoom out to a wide aerial view of the forest, a winding road and a lake at sunset.
Orbit around a dancer spinning on a stage, spotlight, smoke, deep blue shadows.
Orbit left around a vintage car parked by the sea; chrome, sand, palm trees, bright noon.
Handheld shot following a runner through a crowded train station; shaky camera, motion blur.
Static tripod shot of a candle flickering on a table; the room is dark and still.
Drone shot flying low over the ocean toward a cliff; white foam, blue water, seabirds.
Tracking shot of a horse galloping across a snowy field; breath steams in the cold air.
Over the shoulder shot of two friends talking in a cafe; coffee cups, soft music, laughter.
Low angle shot of a giant robot walking through the city; dust, debris, dramatic light.
High angle shot of a chess board as a hand moves the queen; crisp focus, film grain.
Point of view shot from a bicycle riding down a hill; trees, sunlight, lens flare.
Slow motion shot of water drops hitting a leaf; macro lens, bokeh, morning dew.
Cinematic shot of a spaceship leaving a red planet; stars, engine glow, wide lens.
Rack focus from the flowers in the foreground to the girl in the background.
A dutch angle shot of a detective in a rain coat under a street lamp, film noir style.
Steadicam shot moving through a busy kitchen; chefs cook, steam, fire, shining knives.
Crane shot rising above a wedding party in a vineyard; lights, music, people dancing.
The scene cuts to black; fade in on a quiet beach; the tide comes in and goes out.
Anime style, watercolor style, photorealistic, 35mm film, 4k, high detail, natural colors.
Documentary footage, cinematic lighting, soft contrast, warm tones, cool tones, pastel.
Describe the video by detailing the following aspects: the main content and theme of
the video; the color, shape, size, texture, quantity, text, and spatial relationships of
the objects; actions, events, behaviors, temporal relationships, physical movement changes
of the objects; background environment, light, style and atmosphere; camera angles,
movements, and transitions used in the video. System user assistant.
Bad quality, blurry, distorted, low resolution, worst quality, jpeg artifacts, watermark,
static, overexposed, underexposed, ugly, deformed, extra fingers, still picture, subtitles.
Shot 1 of 12, take 3: 24 fps, 1/48 shutter, f/2.8, 50mm, ISO 800, 5600K, 16:9 (or 2.39:1)!
ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789 "quotes" #hash $5 @ 100%
& * + = ? [ ] { } < > | ~ ^ ` _ \\ / -- 'a' "b" -- what? yes! no... INT. DAY - EXT. NIGHT
"""

# Fixed seed for every random weight.
SEED = 0

# HunyuanVideo's prompt template marks system and user turns with these tokens.
HUNYUAN_TEMPLATE_TOKENS = ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
LLAVA_IMAGE_TOKEN = "<image>"
LLAVA_TEMPLATE_WORDS = ["system", "user", "assistant", "\n\n"]


def corpus_lines() -> list[str]:
    return [line.strip() for line in CORPUS.splitlines() if line.strip()]


@contextlib.contextmanager
def _single_threaded_tokenizers() -> Iterator[None]:
    """Tokenizer training sums floats in parallel; one thread makes the scores reproducible."""
    previous = os.environ.get("TOKENIZERS_PARALLELISM")
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TOKENIZERS_PARALLELISM", None)
        else:
            os.environ["TOKENIZERS_PARALLELISM"] = previous


# --------------------------------------------------------------------------------- tokenizers


def t5_tokenizer(vocab_size: int = 512, model_max_length: int = 512):
    """A T5/UMT5-style tokenizer: SentencePiece Unigram, `<pad>`=0, `</s>`=1, `<unk>`=2."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import T5Tokenizer

    backend = Tokenizer(models.Unigram())
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
        ]
    )
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size,
        special_tokens=["<pad>", "</s>", "<unk>"],
        unk_token="<unk>",
        max_piece_length=12,
        show_progress=False,
    )
    with _single_threaded_tokenizers():
        backend.train_from_iterator(corpus_lines(), trainer=trainer)
    vocab = [(str(piece), float(score)) for piece, score in _model_json(backend)["vocab"]]
    vocab = vocab[:3] + _canonical_unigram(vocab[3:])
    # The T5 class rebuilds its backend from this vocabulary, on creation and on loading.
    return T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=model_max_length)


def _canonical_unigram(pieces: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Make a trained Unigram vocabulary independent of hash-set order.

    The trainer appends the characters that pruning dropped with scores `min + k * 1e-4`,
    numbering them in hash-set order. Renumber them in sorted order, as SentencePiece does,
    round away float noise and sort by score, ties by text.
    """
    lowest = min(score for _, score in pieces)
    band = [p for p, score in pieces if len(p) == 1 and score < lowest + 0.01]
    rank = {piece: k for k, piece in enumerate(sorted(band))}
    rescored = [
        (piece, round(lowest + rank[piece] * 1e-4 if piece in rank else score, 6))
        for piece, score in pieces
    ]
    return sorted(rescored, key=lambda item: (-item[1], item[0]))


def llama_tokenizer(vocab_size: int = 640, model_max_length: int = 2048, *, llava: bool = False):
    """A Llama-style tokenizer: SentencePiece-like BPE with `<unk>`, `<s>`, `</s>`, `<pad>`.

    With `llava`, it also has the `<image>` placeholder and whole-word tokens for the turn
    names of HunyuanVideo's image-to-video template, which expects `<image>` at position 5:
    `<s> <|start_header_id|> system <|end_header_id|> \\n\\n <image>`.
    """
    from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaTokenizer

    # Byte tokens as in Llama's vocabulary: characters the corpus lacks fall back to them.
    byte_tokens = [f"<0x{value:02X}>" for value in range(256)]
    specials = ["<unk>", "<s>", "</s>", "<pad>", *HUNYUAN_TEMPLATE_TOKENS, *byte_tokens]
    backend = Tokenizer(models.BPE(unk_token="<unk>"))
    # Words are split for training so that no merge spans a space, as in SentencePiece.
    backend.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement="▁", prepend_scheme="always", split=True
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, show_progress=False
    )
    with _single_threaded_tokenizers():
        backend.train_from_iterator(corpus_lines(), trainer=trainer)
    model = _model_json(backend)
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    special = [*HUNYUAN_TEMPLATE_TOKENS, *([LLAVA_IMAGE_TOKEN] if llava else [])]
    tokenizer = LlamaTokenizer(
        vocab=dict(model["vocab"]),
        merges=merges,
        pad_token="<pad>",
        add_bos_token=True,
        additional_special_tokens=special,
        padding_side="right",
        model_max_length=model_max_length,
    )
    if llava:
        tokenizer.add_tokens([AddedToken(word, normalized=False) for word in LLAVA_TEMPLATE_WORDS])
    return tokenizer


def clip_tokenizer(vocab_size: int = 800):
    """A CLIP-style tokenizer: lower-cased byte-level BPE with `</w>` word ends, 77 tokens."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import CLIPTokenizer

    bos, eos = "<|startoftext|>", "<|endoftext|>"
    backend = Tokenizer(models.BPE(unk_token=eos, end_of_word_suffix="</w>"))
    backend.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(
                Regex(
                    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|"
                    r"[^\s\p{L}\p{N}]+"
                ),
                behavior="removed",
                invert=True,
            ),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    # The trainer numbers word-final symbols (`e</w>`) as it meets them in a hash map, and
    # breaks ties between merges by those numbers. Declaring every word-final byte up front,
    # in sorted order, fixes the numbering and so the merges.
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[bos, eos, *(symbol + "</w>" for symbol in alphabet)],
        end_of_word_suffix="</w>",
        show_progress=False,
    )
    with _single_threaded_tokenizers():
        backend.train_from_iterator(corpus_lines(), trainer=trainer)
    model = _model_json(backend)
    vocab = dict(model["vocab"])
    # Every byte gets a token too, so that no text falls to the unknown token.
    for symbol in alphabet:
        vocab.setdefault(symbol, len(vocab))
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return CLIPTokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=eos,
        bos_token=bos,
        eos_token=eos,
        pad_token=eos,
        model_max_length=77,
    )


def _model_json(backend) -> dict[str, Any]:
    return json.loads(backend.to_str())["model"]


# --------------------------------------------------------------------------------- text encoders


def _t5_encoder(tokenizer, *, umt5: bool = False, d_model: int = 32):
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    config_class, model_class = (
        (UMT5Config, UMT5EncoderModel) if umt5 else (T5Config, T5EncoderModel)
    )
    config = config_class(
        vocab_size=len(tokenizer),
        d_model=d_model,
        d_kv=8,
        d_ff=32,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=32,
        dropout_rate=0.0,
        feed_forward_proj="gated-gelu",
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    _seed()
    return model_class(config).eval()


def _llama_encoder(tokenizer, hidden_size: int = 16):
    from transformers import LlamaConfig, LlamaModel

    config = LlamaConfig(
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
    _seed()
    return LlamaModel(config).eval()


def _clip_encoder(tokenizer, hidden_size: int = 8):
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=16,
        projection_dim=hidden_size,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=tokenizer.model_max_length,
        hidden_act="quick_gelu",
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    _seed()
    return CLIPTextModel(config).eval()


def _seed() -> None:
    import torch

    torch.manual_seed(SEED)


# --------------------------------------------------------------------------------- families


@dataclass(frozen=True)
class TinyModel:
    """One tiny model: how to build its pipeline, and what `gallop.json` says about it."""

    id: str
    family: str
    build: Callable[[], Any]
    # Mode ("t2v", "i2v", "v2v") to diffusers pipeline class; a mode it lacks is left out.
    pipelines: dict[str, str]
    frame_rule: str
    vae_scale_spatial: int
    vae_scale_temporal: int
    size_multiple: int
    default_width: int = 64
    default_height: int = 64
    default_frames: int = 9
    default_fps: int = 16
    # Whether the image-to-video pipeline also takes `last_image` (first-and-last-frame).
    last_image: bool = False
    # Models saved in subfolders beside the pipeline's own parts (a second stage): the
    # subfolder's name and the model's builder.
    extras: tuple[tuple[str, Callable[[], Any]], ...] = ()
    # Whether the folder ships in assets/models; a model too large to ship is built on demand.
    bundled: bool = True

    def description(self) -> dict[str, Any]:
        extra = {"extras": sorted(name for name, _ in self.extras)} if self.extras else {}
        return {
            **extra,
            "id": self.id,
            "family": self.family,
            "tiny": True,
            "pipelines": dict(self.pipelines),
            "frame_rule": self.frame_rule,
            "default_width": self.default_width,
            "default_height": self.default_height,
            "default_frames": self.default_frames,
            "default_fps": self.default_fps,
            "vae_scale_spatial": self.vae_scale_spatial,
            "vae_scale_temporal": self.vae_scale_temporal,
            "size_multiple": self.size_multiple,
            "last_image": self.last_image,
        }


def _wan_vae():
    from diffusers import AutoencoderKLWan

    _seed()
    return AutoencoderKLWan(
        base_dim=4,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        attn_scales=[],
        temperal_downsample=[False, True, True],
    )


def _wan_transformer(in_channels: int):
    from diffusers import WanTransformer3DModel

    _seed()
    return WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=in_channels,
        out_channels=16,
        text_dim=32,
        freq_dim=32,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
    )


def _wan_scheduler():
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0
    )


def build_wan():
    """Wan 2.2 TI2V layout: one transformer; the first frame is a clean latent when given.

    `expand_timesteps` makes `WanImageToVideoPipeline` condition on the image through the
    latent itself, so no CLIP image encoder is needed and the same folder serves all three.
    """
    from diffusers import WanPipeline

    tokenizer = t5_tokenizer(model_max_length=512)
    return WanPipeline(
        tokenizer=tokenizer,
        text_encoder=_t5_encoder(tokenizer, umt5=True),
        vae=_wan_vae(),
        scheduler=_wan_scheduler(),
        transformer=_wan_transformer(in_channels=16),
        expand_timesteps=True,
    )


def build_wan_i2v():
    """Wan 2.1 image-to-video layout without the CLIP image branch: first and last frame.

    The transformer reads noise (16), a frame mask (4) and the encoded condition video (16).
    """
    from diffusers import WanImageToVideoPipeline

    tokenizer = t5_tokenizer(model_max_length=512)
    return WanImageToVideoPipeline(
        tokenizer=tokenizer,
        text_encoder=_t5_encoder(tokenizer, umt5=True),
        vae=_wan_vae(),
        scheduler=_wan_scheduler(),
        transformer=_wan_transformer(in_channels=36),
    )


def build_ltx():
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    tokenizer = t5_tokenizer(model_max_length=128)
    text_encoder = _t5_encoder(tokenizer)
    _seed()
    # Every decoder argument is spelled out: the defaults are those of the 2B model.
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        down_block_types=("LTXVideoDownBlock3D",) * 4,
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True, False),
        decoder_inject_noise=(False, False, False, False, False),
        downsample_type=("conv", "conv", "conv", "conv"),
        upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=False,
        patch_size=4,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    _seed()
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=2,
        attention_head_dim=12,
        cross_attention_dim=24,
        num_layers=2,
        caption_channels=32,
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
    return LTXPipeline(
        scheduler=scheduler,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
    )


def _cogvideox_parts(in_channels: int):
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXTransformer3DModel,
    )

    tokenizer = t5_tokenizer(model_max_length=226)
    text_encoder = _t5_encoder(tokenizer)
    _seed()
    vae = AutoencoderKLCogVideoX(
        in_channels=3,
        out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
        sample_height=64,
        sample_width=64,
    )
    _seed()
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=16,
        in_channels=in_channels,
        out_channels=4,
        time_embed_dim=8,
        text_embed_dim=32,
        num_layers=2,
        sample_width=8,
        sample_height=8,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=226,
        use_rotary_positional_embeddings=True,
    )
    scheduler = CogVideoXDDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        prediction_type="v_prediction",
        rescale_betas_zero_snr=True,
        set_alpha_to_one=True,
        snr_shift_scale=3.0,
        steps_offset=0,
        timestep_spacing="trailing",
    )
    return {
        "tokenizer": tokenizer,
        "text_encoder": text_encoder,
        "vae": vae,
        "transformer": transformer,
        "scheduler": scheduler,
    }


def build_cogvideox():
    from diffusers import CogVideoXPipeline

    return CogVideoXPipeline(**_cogvideox_parts(in_channels=4))


def build_cogvideox_i2v():
    """The image-to-video transformer reads the noisy latents and the image latents (4 + 4)."""
    from diffusers import CogVideoXImageToVideoPipeline

    return CogVideoXImageToVideoPipeline(**_cogvideox_parts(in_channels=8))


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


# The CogVideoX VAE decodes latent frames in pairs after an odd first batch: an even count of
# latent frames comes back as 4k frames, not 4k+1. So 9, 17, ..., 49 frames, not 5 or 13.
COGVIDEOX_FRAME_RULE = "8n+1"

MODELS: dict[str, TinyModel] = {
    m.id: m
    for m in [
        TinyModel(
            id="tiny-wan",
            family="wan",
            build=build_wan,
            pipelines={
                "t2v": "WanPipeline",
                "i2v": "WanImageToVideoPipeline",
                "v2v": "WanVideoToVideoPipeline",
            },
            frame_rule="4n+1",
            vae_scale_spatial=8,
            vae_scale_temporal=4,
            size_multiple=16,
            default_fps=16,
            last_image=False,
        ),
        TinyModel(
            id="tiny-wan-i2v",
            family="wan",
            build=build_wan_i2v,
            pipelines={"i2v": "WanImageToVideoPipeline"},
            frame_rule="4n+1",
            vae_scale_spatial=8,
            vae_scale_temporal=4,
            size_multiple=16,
            default_fps=16,
            last_image=True,
        ),
        TinyModel(
            id="tiny-ltx",
            family="ltx",
            build=build_ltx,
            pipelines={
                "t2v": "LTXPipeline",
                "i2v": "LTXImageToVideoPipeline",
                "v2v": "LTXConditionPipeline",
            },
            frame_rule="8n+1",
            vae_scale_spatial=32,
            vae_scale_temporal=8,
            size_multiple=32,
            default_fps=24,
        ),
        TinyModel(
            id="tiny-cogvideox",
            family="cogvideox",
            build=build_cogvideox,
            pipelines={
                "t2v": "CogVideoXPipeline",
                "v2v": "CogVideoXVideoToVideoPipeline",
            },
            frame_rule=COGVIDEOX_FRAME_RULE,
            vae_scale_spatial=8,
            vae_scale_temporal=4,
            size_multiple=16,
            default_fps=8,
        ),
        TinyModel(
            id="tiny-cogvideox-i2v",
            family="cogvideox",
            build=build_cogvideox_i2v,
            pipelines={"i2v": "CogVideoXImageToVideoPipeline"},
            frame_rule=COGVIDEOX_FRAME_RULE,
            vae_scale_spatial=8,
            vae_scale_temporal=4,
            size_multiple=16,
            default_fps=8,
        ),
        TinyModel(
            id="tiny-hunyuan",
            family="hunyuan",
            build=build_hunyuan,
            pipelines={"t2v": "HunyuanVideoPipeline"},
            frame_rule="4n+1",
            vae_scale_spatial=8,
            vae_scale_temporal=4,
            size_multiple=16,
            default_fps=24,
        ),
        TinyModel(
            id="tiny-hunyuan-i2v",
            family="hunyuan",
            build=build_hunyuan_i2v,
            pipelines={"i2v": "HunyuanVideoImageToVideoPipeline"},
            frame_rule="4n+1",
            vae_scale_spatial=8,
            vae_scale_temporal=4,
            size_multiple=16,
            default_fps=24,
        ),
    ]
}
# The newer pipeline classes (tools.tiny_recent), in catalog order after these.
MODELS.update((spec["id"], TinyModel(**spec)) for spec in tiny_recent.SPECS)
# HunyuanVideo Framepack (tools.tiny_framepack), built where it is needed.
MODELS.update((spec["id"], TinyModel(**spec)) for spec in tiny_framepack.SPECS)


def default_out_dir() -> Path:
    from engine.assets import assets_dir

    return assets_dir() / "models"


def build_model(model_id: str, out_dir: Path) -> Path:
    """Build one tiny model into `out_dir/<id>/`, replacing what was there."""
    import torch

    spec = MODELS[model_id]
    target = Path(out_dir) / model_id
    target.parent.mkdir(parents=True, exist_ok=True)
    with torch.random.fork_rng(devices=[]):
        pipeline = spec.build()
        extras = [(name, build()) for name, build in spec.extras]
    # Build beside the target, then swap, so a failed build leaves the old folder intact.
    staging = Path(tempfile.mkdtemp(prefix=f".{model_id}-", dir=target.parent))
    try:
        pipeline.save_pretrained(staging, safe_serialization=True)
        for name, model in extras:
            model.save_pretrained(staging / name, safe_serialization=True)
        text = json.dumps(spec.description(), indent=2, sort_keys=True) + "\n"
        (staging / GALLOP_FILE).write_text(text, encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def bundled_ids() -> list[str]:
    """The models that ship in assets/models (the others are built where they are needed)."""
    return [model_id for model_id, spec in MODELS.items() if spec.bundled]


def build_all(out_dir: Path | None = None, ids: Sequence[str] | None = None) -> list[Path]:
    out = Path(out_dir) if out_dir is not None else default_out_dir()
    return [build_model(model_id, out) for model_id in (ids or bundled_ids())]


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def _quiet_libraries() -> None:
    import diffusers
    import transformers

    for library in (diffusers, transformers):
        library.utils.logging.set_verbosity_error()
        library.utils.logging.disable_progress_bar()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.tiny_models", description="Build the tiny offline test models."
    )
    parser.add_argument("--out", type=Path, default=None, help="folder (default assets/models)")
    parser.add_argument("--only", nargs="+", choices=sorted(MODELS), help="build only these")
    args = parser.parse_args(argv)
    # Nothing here needs the network; say so before the libraries read their settings.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    _quiet_libraries()
    for path in build_all(args.out, args.only):
        print(f"{path}  {folder_size(path) / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
