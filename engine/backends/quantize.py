"""Quantized weights for small GPUs: what `from_pretrained` is given for a request's
`Quantization`.

- `int8`: int8 weight-only (torchao) for the transformer(s) and the text encoder, through
  diffusers' `PipelineQuantizationConfig`; runs on a CPU too. About half the bf16 weights.
- `nf4`: 4-bit NormalFloat with double quantization (bitsandbytes) for the same parts;
  CUDA only, so it is refused on a machine without an NVIDIA GPU. About a quarter.
- `gguf`: the transformer from the GGUF file the catalog names (`ModelEntry.gguf`), loaded
  with `from_single_file` and `GGUFQuantizationConfig` (dequantized block by block as it
  computes); the other parts load as usual.

The libraries are optional (`pip install 'gallop-studio[quant]'`); a render that needs one
that is missing fails with a message that says which and how to install it.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from engine.backends.base import RenderError
from engine.models.catalog import ModelEntry
from engine.models.recipes import gguf_file
from studio.jobs import Quantization

INSTALL = "pip install 'gallop-studio[quant]'"
LIBRARIES = {
    Quantization.INT8: ("torchao", "int8 weight-only quantization"),
    Quantization.NF4: ("bitsandbytes", "4-bit NF4 quantization"),
    Quantization.GGUF: ("gguf", "GGUF transformers"),
}
# The parts quantized by int8 and nf4: the transformers (Wan 2.2 A14B has two) and the
# text encoders. The VAE stays as it is: small, and sensitive to rounding.
QUANTIZED_PREFIXES = ("transformer", "text_encoder")


def require(quantization: Quantization) -> None:
    """RenderError naming the missing library and how to install it."""
    if quantization not in LIBRARIES:
        return
    name, what = LIBRARIES[quantization]
    try:
        importlib.import_module(name)
    except ImportError as exc:
        raise RenderError(
            f"{what} needs the Python package {name}, which is not installed here ({exc}); "
            f"install it with `{INSTALL}` (or `pip install {name}`)"
        ) from None


def components(folder: Path) -> dict[str, tuple[str, str]]:
    """The pipeline's parts as its model_index.json names them: name -> (library, class)."""
    try:
        index = json.loads((Path(folder) / "model_index.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise RenderError(f"cannot read the parts of {folder}: {exc}") from None
    return {
        name: (value[0], value[1])
        for name, value in index.items()
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)
    }


def load_options(
    entry: ModelEntry,
    quantization: Quantization,
    folder: Path,
    device: str,
    dtype: Any,
    *,
    allow_download: bool = False,
) -> dict[str, Any]:
    """Keyword arguments for the pipeline's `from_pretrained` that load it quantized
    (`quantization_config`, or a `transformer` already loaded); empty for NONE."""
    if quantization == Quantization.NONE:
        return {}
    if quantization == Quantization.NF4 and device != "cuda":
        raise RenderError(
            "4-bit NF4 quantization runs on NVIDIA GPUs only (bitsandbytes' 4-bit kernels "
            f"need CUDA) and this machine renders on the {device}: choose int8 (torchao), "
            "which also runs on a CPU, or no quantization"
        )
    require(quantization)
    if quantization == Quantization.GGUF:
        return {"transformer": _gguf_transformer(entry, folder, dtype, allow_download)}
    found = components(folder)
    parts = [
        name
        for name, (library, _) in found.items()
        if name.startswith(QUANTIZED_PREFIXES) and library in ("diffusers", "transformers")
    ]
    return {"quantization_config": _pipeline_config(quantization, parts, found, dtype)}


def _pipeline_config(
    quantization: Quantization, parts: list[str], found: dict[str, tuple[str, str]], dtype: Any
):
    from diffusers import PipelineQuantizationConfig

    if quantization == Quantization.NF4:
        return PipelineQuantizationConfig(
            quant_backend="bitsandbytes_4bit",
            quant_kwargs={
                "load_in_4bit": True,
                "bnb_4bit_quant_type": "nf4",
                "bnb_4bit_use_double_quant": True,
                "bnb_4bit_compute_dtype": dtype,
            },
            components_to_quantize=parts,
        )
    import diffusers
    import transformers
    from torchao.quantization import Int8WeightOnlyConfig

    libraries = {"diffusers": diffusers, "transformers": transformers}
    mapping = {
        name: libraries[found[name][0]].TorchAoConfig(Int8WeightOnlyConfig()) for name in parts
    }
    return PipelineQuantizationConfig(quant_mapping=mapping)


def _gguf_transformer(entry: ModelEntry, folder: Path, dtype: Any, allow_download: bool):
    """The transformer from the catalog's GGUF file, with the pipeline's own config."""
    hub = gguf_file(entry)
    if hub is None:
        raise RenderError(
            f"{entry.name} has no GGUF transformer in the catalog (none found published for "
            "it): choose int8 or nf4 quantization"
        )
    path = hub.locate()
    if path is None and allow_download and hub.repo is not None:
        from huggingface_hub import hf_hub_download

        path = Path(hf_hub_download(hub.repo, hub.file, local_dir=hub.local_folder()))
    if path is None:
        raise RenderError(f"the GGUF transformer of {entry.name}: " + hub.missing_text("the file"))
    import diffusers
    from diffusers import GGUFQuantizationConfig

    library, name = components(folder).get("transformer", ("", ""))
    cls = getattr(diffusers, name, None) if library == "diffusers" else None
    if cls is None or not hasattr(cls, "from_single_file"):
        raise RenderError(f"{entry.name}'s transformer ({name}) cannot load a GGUF file")
    try:
        return cls.from_single_file(
            str(path),
            quantization_config=GGUFQuantizationConfig(compute_dtype=dtype),
            config=str(folder),
            subfolder="transformer",
            torch_dtype=dtype,
        )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise RenderError(f"cannot load the GGUF transformer {path.name}: {exc}") from None
