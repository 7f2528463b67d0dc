"""`gallop models list|info|verify|download`: what models are here and fetching new ones."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.backends.base import RenderError
from engine.cli.download import cmd_download
from engine.cli.parser import Exit
from engine.models.catalog import (
    Catalog,
    Checkpoint,
    ModelEntry,
    check_safetensors,
    locate,
)
from engine.models.installed import State, model_status, verify
from engine.render.reporter import size_text


def _vram(entry: ModelEntry) -> str:
    if entry.vram_gb is None:
        return "not published"
    return "none" if entry.vram_gb == 0 else f"{entry.vram_gb:g} GB"


_HERE = {State.INSTALLED: "yes", State.MISSING: "no", State.PARTIAL: "partial"}
_HERE[State.DAMAGED] = "damaged"


def cmd_list(catalog: Catalog) -> int:
    rows = [("ID", "FAMILY", "HERE", "SIZE", "VRAM", "LICENCE")]
    for entry in catalog:
        status = model_status(entry)
        size = size_text(status.size_on_disk) if status.size_on_disk else "-"
        licence = entry.licence + (" (accept first)" if entry.accept_licence else "")
        rows.append(
            (
                entry.id,
                entry.family,
                _HERE[status.state],
                size,
                _vram(entry),
                licence,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return Exit.OK


def cmd_info(catalog: Catalog, model_id: str) -> int:
    entry = catalog.get(model_id)
    found = locate(entry)
    modes = {"t2v": "text-to-video", "i2v": "image-to-video", "v2v": "video-to-video"}
    print(f"{entry.name} ({entry.id})")
    print(f"  family:      {entry.family}")
    print(f"  source:      {entry.repo or entry.path or 'built in'}")
    if entry.single_file is not None:
        single = entry.single_file
        where = f"{single.repo}/{single.file}" if single.repo else single.file
        print(f"  single file: {where} ({' and '.join(single.components)})")
    print(f"  modes:       {', '.join(modes[m] for m in entry.pipelines)}")
    for mode, other in entry.companions.items():
        print(f"  {modes[mode]} through {other}")
    if entry.last_frame:
        print("  last frame:  can end on a given frame (a shot's end keyframe)")
    if entry.upsampler is not None:
        source = entry.upsampler.get("repo") or entry.upsampler.get("path")
        print(f"  second stage: latent upsampler {source} (quality profile)")
    print(f"  defaults:    {entry.width}x{entry.height}, {entry.frames} frames at {entry.fps} fps")
    print(f"  frames:      {entry.frame_rule}")
    print(f"  VRAM:        {_vram(entry)}" + ("" if entry.vram_gb is None else " (estimate)"))
    print(
        f"  licence:     {entry.licence}" + (" - must be accepted" if entry.accept_licence else "")
    )
    here = f"yes, {found.reason}" if found.available else f"no - {found.reason}"
    print(f"  here:        {here}")
    if found.path is not None:
        print(f"  folder:      {found.path} ({size_text(found.size_bytes)})")
    return Exit.OK


def verify_folder(folder: Path, single: Checkpoint | None = None) -> list[str]:
    """Problems with a model folder: missing parts, pickles, truncated safetensors. The
    components a single-file checkpoint holds have their weights in that file."""
    problems: list[str] = []
    index_path = folder / "model_index.json"
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError) as exc:
        return [f"model_index.json unreadable: {exc}"]
    try:
        check_safetensors(folder)
    except RenderError as exc:
        problems.append(str(exc))
    for name, spec in index.items():
        if name.startswith("_") or not isinstance(spec, list) or spec[0] is None:
            continue
        part = folder / name
        if not part.is_dir():
            problems.append(f"{name}: folder missing")
            continue
        weights = sorted(part.glob("*.safetensors"))
        in_checkpoint = single is not None and name in single.components
        if not weights and spec[1] not in _WEIGHTLESS and not in_checkpoint:
            problems.append(f"{name}: no safetensors weights")
        problems += [p for f in weights if (p := _unreadable(f, f"{name}/{f.name}"))]
    if single is not None:
        path = folder / single.file
        problem = _unreadable(path, single.file) if path.is_file() else f"{single.file}: missing"
        problems += [problem] if problem else []
    return problems


def _unreadable(file: Path, name: str) -> str:
    """What is wrong with a safetensors file's header, or ''."""
    from safetensors import safe_open

    try:
        with safe_open(str(file), framework="np") as handle:
            for key in handle.keys():  # noqa: SIM118 - not a dict
                handle.get_slice(key).get_shape()
    except Exception as exc:  # noqa: BLE001 - any failure means a damaged file
        return f"{name}: unreadable ({exc})"
    return ""


# Components without weights of their own (tokenizers, schedulers, image processors).
_WEIGHTLESS = {
    "FlowMatchEulerDiscreteScheduler",
    "UniPCMultistepScheduler",
    "CogVideoXDDIMScheduler",
    "CogVideoXDPMScheduler",
    "T5Tokenizer",
    "T5TokenizerFast",
    "LlamaTokenizer",
    "LlamaTokenizerFast",
    "CLIPTokenizer",
    "CLIPTokenizerFast",
    "AutoTokenizer",
    "PreTrainedTokenizerFast",
    "CLIPImageProcessor",
    "CLIPImageProcessorPil",
    "Qwen2Tokenizer",
    "Qwen2TokenizerFast",
    "ByT5Tokenizer",
    "SiglipImageProcessor",
    "SiglipImageProcessorPil",
    "ClassifierFreeGuidance",
}


def cmd_verify(catalog: Catalog, model_id: str | None) -> int:
    entries = [catalog.get(model_id)] if model_id else list(catalog)
    failed = 0
    for entry in entries:
        status = model_status(entry)
        if entry.backend == "previz":
            continue
        if status.state is State.MISSING:
            if model_id:
                print(f"{entry.id}: not here ({status.detail})")
                failed += 1
            continue
        problems = verify(entry)
        if problems:
            failed += 1
            print(f"{entry.id}: DAMAGED")
            for problem in problems:
                print(f"  {problem}")
        else:
            print(f"{entry.id}: ok ({size_text(status.size_on_disk)})")
    return Exit.FAILED if failed else Exit.OK


def cmd_models(args: argparse.Namespace) -> int:
    catalog = Catalog()
    command = args.models_command
    if command == "list":
        return cmd_list(catalog)
    if command == "info":
        return cmd_info(catalog, args.model)
    if command == "verify":
        return cmd_verify(catalog, args.model)
    return cmd_download(catalog, args.model, args.accept_licence, quiet=args.verbosity < 0)
