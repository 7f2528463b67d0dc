"""Which files of a diffusers repository a pipeline needs, chosen as diffusers chooses them
(`DiffusionPipeline.download`), without importing diffusers (the window lists and downloads
models, and never loads torch or diffusers).

From the repository's file list and its `model_index.json`:

- the folders of the components `model_index.json` names, and nothing outside them but
  `model_index.json` and the root configuration files diffusers also fetches;
- in a component folder with weights: its `config.json` and its weights in safetensors
  only (the sharded ones with their index), of one variant: the variant asked for where
  the folder has it, else the plain weights. A weighted component without safetensors is
  refused: pickle checkpoints (`.bin`, `.pt`) can run code when loaded;
- in a component folder without weights (tokenizer, scheduler, image processor): all of
  its files but pickles, ONNX and Flax weights and Python code (never run from a download).

`_ignore_files` in `model_index.json` drops files, as it does for diffusers. A component whose
weights come from elsewhere (a single-file checkpoint, `only_configs`) gets its
`config.json` alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# diffusers' weight file names (diffusers.utils.constants and transformers' names).
_PREFIXES = ("diffusion_pytorch_model", "model", "weights", "pytorch_model")
_SUFFIXES = ("bin", "safetensors", "onnx", "pb")
_WEIGHT_EXTENSIONS = (".bin", ".safetensors", ".onnx", ".pb", ".msgpack", ".flashpack")
_SHARD = r"\d{5}-of-\d{5}"
_NEVER = (".bin", ".msgpack", ".onnx", ".pb", ".flashpack", ".py", ".pt", ".pth", ".ckpt", ".pkl")
# Root files diffusers fetches beside model_index.json when they are there.
ROOT_FILES = (
    "model_index.json",
    "config.json",
    "scheduler_config.json",
    "chat_template.jinja",
    "generation_config.json",
    "preprocessor_config.json",
    "processor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
)
INDEX = "model_index.json"


class SelectionError(ValueError):
    """The repository cannot give the pipeline its weights in safetensors."""


def _patterns(variant: str | None) -> tuple[re.Pattern, re.Pattern, re.Pattern, re.Pattern]:
    prefixes, suffixes = "|".join(_PREFIXES), "|".join(_SUFFIXES)
    plain = re.compile(rf"({prefixes})(-{_SHARD})?\.({suffixes})$")
    plain_index = re.compile(rf"({prefixes})\.({suffixes})\.index\.json$")
    if variant is None:
        return plain, plain_index, re.compile(r"(?!)"), re.compile(r"(?!)")
    v = re.escape(variant)
    variant_file = re.compile(rf"({prefixes})\.({v}|{v}-{_SHARD})\.({suffixes})$")
    variant_index = re.compile(rf"({prefixes})\.({suffixes})\.index\.{v}\.json$")
    return plain, plain_index, variant_file, variant_index


def components(index: dict[str, Any]) -> list[str]:
    """The component folders `model_index.json` names (empty slots included, as diffusers
    does: they simply have no files)."""
    return [k for k, v in index.items() if isinstance(v, list) and not k.startswith("_")]


def pipeline_files(
    index: dict[str, Any],
    filenames: Iterable[str],
    variant: str | None = None,
    only_configs: Iterable[str] = (),
) -> list[str]:
    """The files to download, sorted; raises `SelectionError` when a component has weights
    but none in safetensors. The components in `only_configs` get their config.json only."""
    ignored = set(index.get("_ignore_files") or [])
    names = sorted({f for f in filenames if f not in ignored})
    plain, plain_index, variant_file, variant_index = _patterns(variant)
    chosen = [f for f in ROOT_FILES if f in names]
    configs_only = set(only_configs)
    for component in components(index):
        if component in configs_only:
            chosen += [f"{component}/config.json"] if f"{component}/config.json" in names else []
            continue
        inside = [f for f in names if f.startswith(component + "/")]
        direct = [f for f in inside if f.count("/") == 1]
        weights = [f for f in direct if f.endswith(_WEIGHT_EXTENSIONS)]
        if not weights:
            chosen += [f for f in inside if not f.endswith(_NEVER)]
            continue
        base = {f: f.split("/", 1)[1] for f in direct}
        safe = [f for f in direct if f.endswith(".safetensors")]
        picked = [f for f in safe if variant_file.match(base[f])]
        indexes = [f for f in direct if variant_index.match(base[f]) and ".safetensors." in f]
        if not picked:
            picked = [f for f in safe if plain.match(base[f])]
            indexes = [f for f in direct if plain_index.match(base[f]) and ".safetensors." in f]
        if not picked:
            found = ", ".join(sorted(base[f] for f in weights)[:3])
            raise SelectionError(
                f"{component} has no safetensors weights (only {found}); pickle checkpoints "
                "are never downloaded, since loading them can run code"
            )
        chosen += picked + indexes
        if f"{component}/config.json" in names:
            chosen.append(f"{component}/config.json")
    return sorted(set(chosen))
