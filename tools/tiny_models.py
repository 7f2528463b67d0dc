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

Every twin is one row of `MODELS`: its id, family, builder and pipeline classes, the rest
of `gallop.json` coming from its family's row of `FAMILIES` unless the row says otherwise.
Every builder makes its models one way (`tools.tiny_parts.seeded`, from the configurations
there that several twins share), and `build_model` saves every twin. The builders of the
HunyuanVideo twins are in `tools.tiny_hunyuan`; those of the newer pipeline classes (Wan 2.2
A14B, Wan FLF2V and VACE, the LTX-Video condition pipeline, HunyuanVideo 1.5, SkyReels-V2
diffusion forcing) in `tools.tiny_recent`, of HunyuanVideo Framepack in
`tools.tiny_framepack`; the twin of a model published as one single-file checkpoint
(LTX-Video 0.9.8 2B: its transformer and VAE in one file, in the original key layout) is
written by `tools.tiny_single_file`. The HunyuanVideo 1.5 twins (too large to ship) and
the Framepack twin (see `tools.tiny_framepack`) are built on demand: `bundled_ids` leaves
them out.

    python -m tools.tiny_models [--out assets/models] [--only tiny-wan ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools import tiny_recent, tiny_single_file
from tools.tiny_framepack import build_framepack
from tools.tiny_hunyuan import build_hunyuan, build_hunyuan_i2v
from tools.tiny_parts import diffusers_model, ltx_parts, wan_parts, wan_transformer
from tools.tiny_text import t5_encoder, t5_tokenizer

GALLOP_FILE = "gallop.json"

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
    # Parts written into one single-file checkpoint in the original key layout (its file
    # name and the parts), whose folders keep only their config.json.
    checkpoint: tuple[str, tuple[str, ...]] | None = None

    def description(self) -> dict[str, Any]:
        extra = {"extras": sorted(name for name, _ in self.extras)} if self.extras else {}
        if self.checkpoint is not None:
            file, parts = self.checkpoint
            extra["checkpoint"] = {"file": file, "components": list(parts)}
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


# The CogVideoX VAE decodes latent frames in pairs after an odd first batch: an even count of
# latent frames comes back as 4k frames, not 4k+1. So 9, 17, ..., 49 frames, not 5 or 13.
COGVIDEOX_FRAME_RULE = "8n+1"

# What `gallop.json` says of every model of a family, unless the model says otherwise.
_FAMILY_FIELDS = (
    "frame_rule",
    "vae_scale_spatial",
    "vae_scale_temporal",
    "size_multiple",
    "default_fps",
)
FAMILIES: dict[str, dict[str, Any]] = {
    family: dict(zip(_FAMILY_FIELDS, row, strict=True))
    for family, row in {
        "wan": ("4n+1", 8, 4, 16, 16),
        "ltx": ("8n+1", 32, 8, 32, 24),
        "cogvideox": (COGVIDEOX_FRAME_RULE, 8, 4, 16, 8),
        "hunyuan": ("4n+1", 8, 4, 16, 24),
    }.items()
}


def _model(
    model_id: str, family: str, build: Callable[[], Any], pipelines: dict[str, str], **fields: Any
) -> TinyModel:
    """One row of `MODELS`: `fields` are the `TinyModel` fields that differ from the family's."""
    return TinyModel(model_id, family, build, pipelines, **{**FAMILIES[family], **fields})


def _every_mode(pipeline: str) -> dict[str, str]:
    """One pipeline class for text, image and video to video."""
    return dict.fromkeys(("t2v", "i2v", "v2v"), pipeline)


def build_wan():
    """Wan 2.2 TI2V layout: one transformer; the first frame is a clean latent when given.

    `expand_timesteps` makes `WanImageToVideoPipeline` condition on the image through the
    latent itself, so no CLIP image encoder is needed and the same folder serves all three.
    """
    from diffusers import WanPipeline

    return WanPipeline(**wan_parts(transformer=wan_transformer()), expand_timesteps=True)


def build_wan_i2v():
    """Wan 2.1 image-to-video layout without the CLIP image branch: first and last frame.

    The transformer reads noise (16), a frame mask (4) and the encoded condition video (16).
    """
    from diffusers import WanImageToVideoPipeline

    return WanImageToVideoPipeline(**wan_parts(transformer=wan_transformer(in_channels=36)))


def build_ltx():
    from diffusers import LTXPipeline

    return LTXPipeline(**ltx_parts(timestep_conditioning=False))


def _cogvideox_parts(in_channels: int):
    from diffusers import CogVideoXDDIMScheduler

    tokenizer = t5_tokenizer(model_max_length=226)
    vae = {
        "in_channels": 3,
        "out_channels": 3,
        "down_block_types": ("CogVideoXDownBlock3D",) * 4,
        "up_block_types": ("CogVideoXUpBlock3D",) * 4,
        "block_out_channels": (8, 8, 8, 8),
        "latent_channels": 4,
        "layers_per_block": 1,
        "norm_num_groups": 2,
        "temporal_compression_ratio": 4,
        "sample_height": 64,
        "sample_width": 64,
    }
    transformer = {
        "num_attention_heads": 2,
        "attention_head_dim": 16,
        "in_channels": in_channels,
        "out_channels": 4,
        "time_embed_dim": 8,
        "text_embed_dim": 32,
        "num_layers": 2,
        "sample_width": 8,
        "sample_height": 8,
        "sample_frames": 9,
        "patch_size": 2,
        "temporal_compression_ratio": 4,
        "max_text_seq_length": 226,
        "use_rotary_positional_embeddings": True,
    }
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
        "text_encoder": t5_encoder(tokenizer),
        "vae": diffusers_model("AutoencoderKLCogVideoX", vae),
        "transformer": diffusers_model("CogVideoXTransformer3DModel", transformer),
        "scheduler": scheduler,
    }


def build_cogvideox():
    from diffusers import CogVideoXPipeline

    return CogVideoXPipeline(**_cogvideox_parts(in_channels=4))


def build_cogvideox_i2v():
    """The image-to-video transformer reads the noisy latents and the image latents (4 + 4)."""
    from diffusers import CogVideoXImageToVideoPipeline

    return CogVideoXImageToVideoPipeline(**_cogvideox_parts(in_channels=8))


_WAN = {"t2v": "WanPipeline", "i2v": "WanImageToVideoPipeline", "v2v": "WanVideoToVideoPipeline"}
_WAN_I2V = {"i2v": "WanImageToVideoPipeline"}
_LTX = {"t2v": "LTXPipeline", "i2v": "LTXImageToVideoPipeline", "v2v": "LTXConditionPipeline"}
_SKYREELS = {
    "t2v": "SkyReelsV2DiffusionForcingPipeline",
    "i2v": "SkyReelsV2DiffusionForcingImageToVideoPipeline",
}

# Every tiny model, in catalog order; the HunyuanVideo 1.5 twins' 2048-wide glyph (ByT5)
# projection makes 17 MB whatever the configuration says, so they are built on demand.
MODELS: dict[str, TinyModel] = {
    m.id: m
    for m in [
        _model("tiny-wan", "wan", build_wan, _WAN),
        _model("tiny-wan-i2v", "wan", build_wan_i2v, _WAN_I2V, last_image=True),
        _model("tiny-ltx", "ltx", build_ltx, _LTX),
        _model(
            "tiny-cogvideox",
            "cogvideox",
            build_cogvideox,
            {"t2v": "CogVideoXPipeline", "v2v": "CogVideoXVideoToVideoPipeline"},
        ),
        _model(
            "tiny-cogvideox-i2v",
            "cogvideox",
            build_cogvideox_i2v,
            {"i2v": "CogVideoXImageToVideoPipeline"},
        ),
        _model("tiny-hunyuan", "hunyuan", build_hunyuan, {"t2v": "HunyuanVideoPipeline"}),
        _model(
            "tiny-hunyuan-i2v",
            "hunyuan",
            build_hunyuan_i2v,
            {"i2v": "HunyuanVideoImageToVideoPipeline"},
        ),
        _model("tiny-wan22-a14b", "wan", tiny_recent.build_wan22_a14b, _WAN_I2V, last_image=True),
        _model("tiny-wan-flf2v", "wan", tiny_recent.build_wan_flf2v, _WAN_I2V, last_image=True),
        _model("tiny-wan-vace", "wan", tiny_recent.build_wan_vace, _every_mode("WanVACEPipeline")),
        _model(
            "tiny-ltx-condition",
            "ltx",
            tiny_recent.build_ltx_condition,
            _every_mode("LTXConditionPipeline"),
            extras=(("latent_upsampler", tiny_recent.build_latent_upsampler),),
        ),
        _model(
            "tiny-skyreels-df",
            "wan",
            tiny_recent.build_skyreels_df,
            _SKYREELS,
            default_fps=24,
            last_image=True,
        ),
        _model(
            "tiny-hunyuan15",
            "hunyuan",
            tiny_recent.build_hunyuan15,
            {"t2v": "HunyuanVideo15Pipeline"},
            vae_scale_spatial=16,
            bundled=False,
        ),
        _model(
            "tiny-hunyuan15-i2v",
            "hunyuan",
            tiny_recent.build_hunyuan15_i2v,
            {"i2v": "HunyuanVideo15ImageToVideoPipeline"},
            vae_scale_spatial=16,
            bundled=False,
        ),
        # LTX-Video 0.9.8 2B's single-file checkpoint: the condition twin, the same weights.
        _model(
            "tiny-ltx-single-file",
            "ltx",
            tiny_recent.build_ltx_condition,
            _every_mode("LTXConditionPipeline"),
            checkpoint=(tiny_single_file.CHECKPOINT, tiny_single_file.PARTS),
        ),
        _model(
            "tiny-framepack",
            "hunyuan",
            build_framepack,
            {"i2v": "HunyuanVideoFramepackPipeline"},
            default_fps=30,
            last_image=True,
            bundled=False,
        ),
    ]
}


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
        if spec.checkpoint is not None:
            file, parts = spec.checkpoint
            tiny_single_file.write_checkpoint(pipeline, parts, staging / file)
            tiny_single_file.drop_weights(staging, parts)
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
