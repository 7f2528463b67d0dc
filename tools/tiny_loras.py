"""Tiny random LoRAs for the tiny test models, for tests and demos.

A LoRA is made with PEFT on a tiny model's own transformer (`LoraConfig` over its attention
projections) and saved by the family's pipeline class (`save_lora_weights`), so its file
is exactly what diffusers writes for a trained one: safetensors, diffusers' layer names,
the adapter's rank and alpha in the header. Both halves of each adapter are random
(`init_lora_weights=False`; a trained-from-scratch LoRA starts with a zero half), so
loading it changes what the model draws. The seed makes the file the same byte for byte.

    python -m tools.tiny_loras tiny-wan out.safetensors [--rank 4] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

TARGETS = ("to_q", "to_k", "to_v", "to_out.0")


def build_lora(
    model: str | Path,
    out: str | Path,
    *,
    rank: int = 4,
    seed: int = 0,
    targets: Sequence[str] = TARGETS,
) -> Path:
    """A random LoRA for the transformer of `model` (a tiny model's id or a pipeline
    folder), written to `out` (a `.safetensors` file)."""
    import diffusers
    import torch
    from peft import LoraConfig, get_peft_model_state_dict

    folder = Path(model)
    if not folder.is_dir():
        from engine.assets import assets_dir

        folder = assets_dir() / "models" / str(model)
    index = json.loads((folder / "model_index.json").read_text("utf-8"))
    pipeline = getattr(diffusers, index["_class_name"])
    transformer_class = getattr(diffusers, index["transformer"][1])
    transformer = transformer_class.from_pretrained(folder / "transformer")
    torch.manual_seed(seed)
    config = LoraConfig(
        r=rank, lora_alpha=rank, target_modules=list(targets), init_lora_weights=False
    )
    transformer.add_adapter(config)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pipeline.save_lora_weights(
        out.parent,
        transformer_lora_layers=get_peft_model_state_dict(transformer),
        weight_name=out.name,
    )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a tiny model's id (tiny-wan) or a pipeline folder")
    parser.add_argument("out", type=Path, help="the .safetensors file to write")
    parser.add_argument("--rank", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(build_lora(args.model, args.out, rank=args.rank, seed=args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
