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
`tools.tiny_recent`; the twin of a model published as one single-file checkpoint
(LTX-Video 0.9.8 2B: its transformer and VAE in one file, in the original key layout) is in
`tools.tiny_single_file`. The HunyuanVideo 1.5 twins are too large to ship (see there): they are
built on demand, and `bundled_ids` leaves them out.

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

from tools import tiny_framepack, tiny_recent, tiny_single_file
from tools.tiny_hunyuan import build_hunyuan, build_hunyuan_i2v
from tools.tiny_text import (
    _seed,
    _t5_encoder,
    t5_tokenizer,
)

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
# LTX-Video 0.9.8 2B's single-file checkpoint (tools.tiny_single_file).
MODELS.update((spec["id"], TinyModel(**spec)) for spec in tiny_single_file.SPECS)
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
