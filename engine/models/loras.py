"""Which model family a LoRA was made for, read from its layer names.

A project's LoRA is a file of the project or, written `models:NAME.safetensors`, a file of
the models folder (`engine.models.settings.models_folder`: `GALLOP_MODELS`, else the folder
chosen in Preferences, else `models` in the user's data folder), shared by every project.

`lora_family` reads the family from a LoRA's layer names (diffusers' names, or the
original checkpoints' that diffusers converts): Wan's blocks are `blocks.N`, LTX-Video's
and CogVideoX's `transformer_blocks.N` (LTX-Video's with a cross-attention `attn2`),
HunyuanVideo's add `single_transformer_blocks.N`. It only names the family in a message;
whether a LoRA fits a model is decided by the model's own layers
(`engine.backends.lora_adapters`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FAMILY_NAMES = {
    "wan": "Wan",
    "ltx": "LTX-Video",
    "cogvideox": "CogVideoX",
    "hunyuan": "HunyuanVideo",
}

# Prefixes a LoRA's keys may carry before the transformer's own layer names.
_PREFIXES = ("transformer.", "diffusion_model.", "model.diffusion_model.", "base_model.model.")
# The first family whose pattern a layer name matches, in this order.
_SIGNS = (
    ("hunyuan", re.compile(r"^(single_transformer_blocks|double_blocks|single_blocks)\.\d+\.")),
    ("wan", re.compile(r"^blocks\.\d+\.(attn1|attn2|ffn|self_attn|cross_attn)\.")),
    ("ltx", re.compile(r"^transformer_blocks\.\d+\.attn2\.")),
    ("cogvideox", re.compile(r"^transformer_blocks\.\d+\.(attn1|norm1|ff)\.")),
)


def family_name(family: str) -> str:
    """A family as people write it ("LTX-Video"), from its catalog id ("ltx")."""
    return FAMILY_NAMES.get(family, family)


def layer_name(key: str) -> str:
    """The transformer layer a LoRA key adapts, without its prefix and weight suffix
    (`transformer.blocks.0.attn1.to_q.lora_A.weight` -> `blocks.0.attn1.to_q`)."""
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix) :]
            break
    return re.sub(r"\.(lora_[AB]|lora_up|lora_down|alpha)(\.[^.]+)*$", "", key)


def lora_family(keys: Iterable[str]) -> str | None:
    """The catalog family a LoRA's layers belong to, or None when no family's match."""
    counts: dict[str, int] = {}
    for key in keys:
        name = layer_name(key)
        for family, sign in _SIGNS:
            if sign.match(name):
                counts[family] = counts.get(family, 0) + 1
                break
    if "ltx" in counts and "cogvideox" in counts:
        # LTX-Video's blocks have an attn1 too: a cross-attention anywhere says LTX-Video.
        counts.pop("cogvideox")
    return max(counts, key=counts.__getitem__) if counts else None
