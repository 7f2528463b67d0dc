"""A tiny twin of a model published as one single-file checkpoint: LTX-Video 0.9.8 2B
distilled, whose transformer and VAE Lightricks ship as `ltxv-2b-0.9.8-distilled.safetensors`
in their original key layout, not in diffusers' folders.

The twin is the LTX-Video condition twin (`tools.tiny_recent.build_ltx_condition`: the same
seeds, so the same weights) whose transformer and VAE are written into one safetensors file
under the original key names that diffusers' single-file converters
(`convert_ltx_transformer_checkpoint_to_diffusers`, `convert_ltx_vae_checkpoint_to_diffusers`
in `diffusers.loaders.single_file_utils`) turn back into diffusers' names:

- transformer: `model.diffusion_model.` before each key, `patchify_proj` for `proj_in`,
  `adaln_single` for `time_embed`, `q_norm` and `k_norm` for `norm_q` and `norm_k`;
- VAE: `vae.` before each key, the encoder's and decoder's blocks in one flat list each
  (`down_blocks.N`, `up_blocks.N`: res blocks, samplers and the middle block in order),
  `res_blocks` for `resnets`, the decoder's own timestep embedder and scale-shift table as
  `last_time_embedder` and `last_scale_shift_table`, and the latents' statistics as
  `per_channel_statistics.mean-of-means` and `std-of-means`.

The converter picks the VAE's block mapping from the checkpoint: the published 2B's VAE
(LTX-Video 0.9.5 and later) is told by its encoder's 2048-channel output, which a twin of
a few hundred kilobytes cannot have; the twin's VAE, whose decoder takes a timestep, takes
the 0.9.1 mapping. Every build checks that the converters give back exactly the twin's
weights. The folder keeps the other components in diffusers' layout and the transformer's
and VAE's `config.json` beside the file, as the catalog entry's download assembles them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

CHECKPOINT = "tiny-ltxv-0.9.8-distilled.safetensors"
PARTS = ("transformer", "vae")

_TRANSFORMER_NAMES = (
    ("proj_in", "patchify_proj"),
    ("time_embed", "adaln_single"),
    ("norm_q", "q_norm"),
    ("norm_k", "k_norm"),
)
# Where each block of diffusers' encoder sits in the original flat list (the converter's
# default mapping): (diffusers block, part) -> original index.
_ENCODER = {
    ("0", ""): 0,
    ("0", ".downsamplers.0"): 1,
    ("0", ".conv_out"): 2,
    ("1", ""): 3,
    ("1", ".downsamplers.0"): 4,
    ("1", ".conv_out"): 5,
    ("2", ""): 6,
    ("2", ".downsamplers.0"): 7,
    ("3", ""): 8,
}
_ENCODER_MID = 9
_DOWN = re.compile(r"^encoder\.down_blocks\.(\d)(\.downsamplers\.0|\.conv_out)?\.")
_UP = re.compile(r"^decoder\.up_blocks\.(\d)(\.upsamplers\.0)?\.")


def transformer_key(key: str) -> str:
    """The original name of a diffusers LTX transformer weight."""
    for ours, theirs in _TRANSFORMER_NAMES:
        key = key.replace(ours, theirs)
    return "model.diffusion_model." + key


def vae_key(key: str) -> str:
    """The original name of a diffusers LTX VAE weight (a VAE whose decoder takes a
    timestep: the converter's 0.9.1 mapping)."""
    statistics = {"latents_mean": "mean-of-means", "latents_std": "std-of-means"}
    if key in statistics:
        return f"vae.per_channel_statistics.{statistics[key]}"
    key = key.replace("resnets", "res_blocks").replace("conv_shortcut.conv", "conv_shortcut")
    key = key.replace(".norm3.", ".norm3.norm.")
    if key.startswith("encoder.mid_block."):
        key = key.replace("encoder.mid_block.", f"encoder.down_blocks.{_ENCODER_MID}.", 1)
    elif match := _DOWN.match(key):
        index = _ENCODER[(match.group(1), match.group(2) or "")]
        key = f"encoder.down_blocks.{index}." + key[match.end() :]
    elif key.startswith("decoder.mid_block."):
        key = key.replace("decoder.mid_block.", "decoder.up_blocks.0.", 1)
    elif match := _UP.match(key):
        block = int(match.group(1))
        index = 2 * block + 1 if match.group(2) else 2 * block + 2
        key = f"decoder.up_blocks.{index}." + key[match.end() :]
    elif key.startswith(("decoder.time_embedder.", "decoder.scale_shift_table")):
        key = "decoder.last_" + key[len("decoder.") :]
    return "vae." + key


def original_checkpoint(transformer, vae) -> dict[str, Any]:
    """The transformer's and VAE's weights under their original names, checked against
    diffusers' converters."""
    checkpoint = {transformer_key(k): v.contiguous() for k, v in transformer.state_dict().items()}
    checkpoint.update({vae_key(k): v.contiguous() for k, v in vae.state_dict().items()})
    _check_round_trip(checkpoint, transformer.state_dict(), vae.state_dict())
    return checkpoint


def _check_round_trip(checkpoint: dict[str, Any], transformer: dict, vae: dict) -> None:
    import torch
    from diffusers.loaders.single_file_utils import (
        convert_ltx_transformer_checkpoint_to_diffusers,
        convert_ltx_vae_checkpoint_to_diffusers,
    )

    for convert, wanted in (
        (convert_ltx_transformer_checkpoint_to_diffusers, transformer),
        (convert_ltx_vae_checkpoint_to_diffusers, vae),
    ):
        back = convert(dict(checkpoint))
        if set(back) != set(wanted):
            lost = sorted(set(wanted) ^ set(back))[:5]
            raise AssertionError(f"{convert.__name__} does not give back {lost}")
        for key, value in wanted.items():
            if not torch.equal(back[key], value):
                raise AssertionError(f"{convert.__name__} changes {key}")


def write_checkpoint(pipeline, parts: tuple[str, ...], path: Path) -> None:
    """Write the pipeline's `parts` into one original-layout safetensors file."""
    from safetensors.torch import save_file

    if tuple(parts) != PARTS:
        raise ValueError(f"only an LTX-Video transformer and VAE are written, not {parts}")
    checkpoint = original_checkpoint(pipeline.transformer, pipeline.vae)
    save_file(checkpoint, str(path), metadata={"format": "pt"})


def drop_weights(folder: Path, parts: tuple[str, ...]) -> None:
    """Leave only `config.json` in the folders of the parts the checkpoint holds."""
    for part in parts:
        for path in (folder / part).iterdir():
            if path.name != "config.json":
                path.unlink()
