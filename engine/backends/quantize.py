"""Quantized weights for small GPUs: what `from_pretrained` is given for a request's
`Quantization`.

- `int8`: int8 weight-only (torchao) for the transformer(s) and the text encoder, through
  diffusers' `PipelineQuantizationConfig`; runs on a CPU too. About half the bf16 weights.
- `nf4`: 4-bit NormalFloat with double quantization (bitsandbytes) for the same parts;
  CUDA only, so it is refused on a machine without an NVIDIA GPU. About a quarter.
- `gguf`: the transformer from the GGUF file the catalog names (`ModelEntry.gguf`), loaded
  with `from_single_file` and `GGUFQuantizationConfig` (dequantized block by block as it
  computes); the other parts load as usual.

A model whose own weights are one single-file checkpoint (`ModelEntry.checkpoint`: LTX-Video
0.9.8 2B) gets the components that file holds loaded here with `from_single_file` (offline,
their configs from the model's folder), quantized as the request asks, and handed to
`from_pretrained` with the other components.

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
    """Keyword arguments for the pipeline's `from_pretrained`: the components of a
    single-file checkpoint, loaded; and what loads the weights quantized
    (`quantization_config`, or a `transformer` already loaded). Empty for a diffusers
    folder at NONE."""
    single = entry.single_file
    if quantization == Quantization.NONE:
        return single_file_parts(entry, folder, dtype) if single is not None else {}
    if quantization == Quantization.NF4 and device != "cuda":
        raise RenderError(
            "4-bit NF4 quantization runs on NVIDIA GPUs only (bitsandbytes' 4-bit kernels "
            f"need CUDA) and this machine renders on the {device}: choose int8 (torchao), "
            "which also runs on a CPU, or no quantization"
        )
    require(quantization)
    options: dict[str, Any] = {}
    if quantization == Quantization.GGUF:
        options["transformer"] = _gguf_transformer(entry, folder, dtype, allow_download)
    else:
        found = components(folder)
        replaced = single.components if single is not None else ()
        parts = [
            name
            for name, (library, _) in found.items()
            if name.startswith(QUANTIZED_PREFIXES)
            and library in ("diffusers", "transformers")
            and name not in replaced
        ]
        if parts:
            options["quantization_config"] = _pipeline_config(quantization, parts, found, dtype)
    if single is not None:
        loaded = single_file_parts(entry, folder, dtype, quantization, skip=set(options))
        options = {**loaded, **options}
    return options


def single_file_parts(
    entry: ModelEntry,
    folder: Path,
    dtype: Any,
    quantization: Quantization = Quantization.NONE,
    skip: set[str] | frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The components the entry's single-file checkpoint holds (but those in `skip`),
    loaded from the file in `folder` with their configs from `folder`; a transformer or
    text encoder quantized as int8 and nf4 quantize them (int8 once loaded: diffusers'
    single-file loader leaves torchao's config unapplied). RenderError naming the file
    and how to fetch it when it is not there."""
    single = entry.single_file
    if single is None:
        return {}
    path = Path(folder) / single.file
    if not path.is_file():
        raise RenderError(single.missing_text(entry, Path(folder)))
    import diffusers
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(path))  # read once for every component it holds
    except (OSError, SafetensorError) as exc:
        text = f"cannot read the checkpoint {path.name} of {entry.name}: {exc}"
        raise RenderError(text) from None
    found = components(folder)
    parts: dict[str, Any] = {}
    for name in single.components:
        if name in skip:
            continue
        library, class_name = found.get(name, ("", ""))
        cls = getattr(diffusers, class_name, None) if library == "diffusers" else None
        if cls is None or not hasattr(cls, "from_single_file"):
            raise RenderError(f"{entry.name}'s {name} ({class_name}) cannot load a single file")
        quantized = name.startswith(QUANTIZED_PREFIXES)
        options: dict[str, Any] = {}
        if quantization == Quantization.NF4 and quantized:
            options["quantization_config"] = diffusers.BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=dtype,
            )
        try:
            # A shallow copy each: the converters pop the keys they take.
            model = cls.from_single_file(
                dict(state),
                config=str(folder),
                subfolder=name,
                torch_dtype=dtype,
                local_files_only=True,
                **options,
            )
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise RenderError(
                f"cannot load the {name} of {entry.name} from {path.name}: {exc}"
            ) from None
        if quantization == Quantization.INT8 and quantized:
            from torchao.quantization import Int8WeightOnlyConfig, quantize_

            quantize_(model, Int8WeightOnlyConfig())
        parts[name] = model
    return parts


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

        path = Path(
            hf_hub_download(hub.repo, hub.file, revision=hub.revision, local_dir=hub.local_folder())
        )
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
