"""LoRAs in a loaded diffusers pipeline: loaded for a shot, reweighted or unloaded for the next.

Each LoRA of a request is loaded with the pipeline's own loader (`load_lora_weights`, which
also converts the original checkpoints' layer names to diffusers') as adapter `loraN`, and
`set_adapters` applies them together at their scales. Before loading, the LoRA's layers are
checked against the pipeline's transformer: a LoRA made for another family (or another size
of the same family) is refused with a message naming the LoRA's family and the model's,
instead of diffusers' warning that nothing was loaded. A LoRA at scale 0 is not loaded at
all, so it renders exactly what the shot renders without it.

`LoraState` remembers what a pipeline holds. The next shot with the same files only
reweights them; a shot with other files, or none, unloads them all first
(`unload_lora_weights`), so a shot without LoRAs renders as the bare model does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.backends.base import RenderContext, RenderError, RenderInputs
from engine.models.catalog import ModelEntry
from engine.models.loras import family_name, layer_name, lora_family
from studio.jobs import GenerationRequest, Stage

_LORA_KEY = re.compile(r"\.lora_(A|B)(\.[^.]+)?\.weight$")
# Layer names quoted in a message, at most.
QUOTED_LAYERS = 2


@dataclass
class LoraState:
    """The LoRAs a pipeline holds: the SHA-256 of each file, adapter `loraN` being the Nth."""

    files: tuple[str, ...] = ()

    @staticmethod
    def adapter(index: int) -> str:
        return f"lora{index}"


def apply_loras(
    pipe: Any,
    entry: ModelEntry,
    request: GenerationRequest,
    inputs: RenderInputs,
    state: LoraState,
    ctx: RenderContext,
) -> None:
    """Make `pipe` render with the request's LoRAs (and only those) at their scales."""
    if len(inputs.loras) != len(request.loras):
        raise RenderError(
            f"the request names {len(request.loras)} LoRAs but {len(inputs.loras)} "
            "LoRA files came with it"
        )
    wanted = [(path, w) for path, w in zip(inputs.loras, request.loras, strict=True) if w.scale]
    files = tuple(w.sha256 for _, w in wanted)
    if files != state.files:
        unload_loras(pipe, state)
        try:
            for index, (path, _) in enumerate(wanted):
                ctx.progress(0, 1, Stage.LOADING, f"loading LoRA {path.name}")
                _load(pipe, entry, Path(path), state.adapter(index))
        except BaseException:
            # What did load comes out again: the next shot starts from the bare model.
            _unload(pipe)
            raise
        state.files = files
    if wanted:
        names = [state.adapter(i) for i in range(len(wanted))]
        pipe.set_adapters(names, [w.scale for _, w in wanted])
        said = ", ".join(f"{Path(p).name} at {w.scale:g}" for p, w in wanted)
        ctx.log(f"LoRAs: {said}")


def unload_loras(pipe: Any, state: LoraState) -> None:
    """Take every LoRA out of `pipe`: its layers are the model's own again."""
    if state.files:
        _unload(pipe)
        state.files = ()


def _unload(pipe: Any) -> None:
    if hasattr(pipe, "unload_lora_weights"):
        pipe.unload_lora_weights()


def _load(pipe: Any, entry: ModelEntry, path: Path, adapter: str) -> None:
    if not hasattr(pipe, "load_lora_weights"):
        raise RenderError(f"{entry.name} cannot load LoRAs ({type(pipe).__name__})")
    where = {
        "weight_name": path.name,
        "use_safetensors": True,
        "local_files_only": True,
    }
    try:
        state_dict = pipe.lora_state_dict(str(path.parent), **where)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise RenderError(f"cannot read the LoRA {path.name}: {exc}") from None
    if isinstance(state_dict, tuple):  # (weights, metadata)
        state_dict = state_dict[0]
    check_fits(state_dict, pipe.transformer, path.name, entry)
    try:
        pipe.load_lora_weights(str(path.parent), adapter_name=adapter, **where)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise RenderError(f"{entry.name} cannot load the LoRA {path.name}: {exc}") from None


def check_fits(state_dict: dict[str, Any], transformer: Any, name: str, entry: ModelEntry) -> None:
    """Refuse a LoRA whose layers the model's transformer lacks (a LoRA for another family)
    or whose layers have other sizes (a LoRA for another size of model), naming both."""
    modules = dict(transformer.named_modules())
    model = f"{entry.name} is a {family_name(entry.family)} model"
    layers = [
        (layer_name(key), match.group(1), tensor)
        for key, tensor in state_dict.items()
        if key.startswith("transformer.") and (match := _LORA_KEY.search(key))
    ]
    missing = list(dict.fromkeys(layer for layer, _, _ in layers if layer not in modules))
    if not layers or missing:
        family = lora_family(state_dict)
        quoted = ", ".join((missing or sorted(map(layer_name, state_dict)))[:QUOTED_LAYERS])
        if family is None:
            made = f"the LoRA {name} is not made for {family_name(entry.family)} models"
        elif family == entry.family:
            made = f"the LoRA {name} is made for another {family_name(family)} model"
        else:
            made = f"the LoRA {name} is made for {family_name(family)}"
        raise RenderError(f"{made}; {model} and has none of its layers ({quoted})")
    for layer, half, tensor in layers:
        module = modules[layer]
        size = _in_size(module) if half == "A" else _out_size(module)
        got = tensor.shape[1] if half == "A" else tensor.shape[0]
        if size is not None and got != size:
            raise RenderError(
                f"the LoRA {name} is made for another size of {family_name(entry.family)} "
                f"model: its layer {layer} is {got} wide where {entry.name}'s is {size}"
            )


def _in_size(module: Any) -> int | None:
    return getattr(module, "in_features", None) or getattr(module, "in_channels", None)


def _out_size(module: Any) -> int | None:
    return getattr(module, "out_features", None) or getattr(module, "out_channels", None)
