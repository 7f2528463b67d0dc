"""The extra files a catalog model may render with: its draft recipe and its GGUF transformer.

A model's `draft` (catalog.json) says how it drafts (`studio.drafts`):

- `lora`: a step-distillation LoRA published for the model (its repository and file, the
  scale), with the few `steps` and the `guidance` it was distilled for;
- `distilled`: the model is distilled already; its draft is its own first stage at the
  reduced size (without the latent upsampler's second pass);
- neither (or no `draft` at all): fewer steps of the full model, said in the plan.

`area` is the share of the shot's pixels a draft renders. A model's `gguf` names a GGUF
file of its transformer on the Hugging Face Hub, which the `gguf` quantization loads.

Both kinds of file are looked for offline: in the models folder (a folder named after the
repository, as downloads are kept), then in the Hugging Face cache. `missing_text` says how
to fetch one that is not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.assets import assets_dir
from engine.backends.base import RenderError
from engine.models.catalog import ModelEntry, _cached_snapshot
from studio.drafts import DRAFT_AREA, DraftRules, fallback_rules
from studio.project.loras import Lora


@dataclass(frozen=True)
class HubFile:
    """One file of a Hub repository (or, for test models, a file of the bundled assets)."""

    repo: str | None
    file: str
    path: str | None = None  # relative to assets/: a bundled file
    revision: str = "main"  # the commit the catalog pins, where it pins one

    @classmethod
    def of(cls, data: dict[str, Any]) -> HubFile:
        return cls(data.get("repo"), data["file"], data.get("path"), data.get("revision", "main"))

    @property
    def name(self) -> str:
        return self.file.rsplit("/", 1)[-1]

    @property
    def url(self) -> str:
        if not self.repo:
            return ""
        return f"https://huggingface.co/{self.repo}/blob/{self.revision}/{self.file}"

    def local_folder(self) -> Path | None:
        """Where the models folder keeps this repository's files."""
        if self.repo is None:
            return None
        from engine.models.installed import repo_folder

        return repo_folder(self.repo)

    def locate(self) -> Path | None:
        """The file on this machine, offline, or None."""
        if self.path is not None:
            bundled = assets_dir() / self.path / self.file
            return bundled if bundled.is_file() else None
        folder = self.local_folder()
        if folder is not None and (folder / self.file).is_file():
            return folder / self.file
        snapshot = _cached_snapshot(self.repo, self.revision) if self.repo else None
        if snapshot is not None and (snapshot / self.file).is_file():
            return snapshot / self.file
        return None

    @property
    def _revision_option(self) -> str:
        return "" if self.revision == "main" else f" --revision {self.revision}"

    def missing_text(self, what: str) -> str:
        """How to get the file, for a message that says it is missing."""
        if self.repo is None:
            return f"{what} {self.name} is missing from the bundled models"
        folder = self.local_folder()
        return (
            f"{what} {self.name} is not downloaded; fetch it from {self.url} into {folder} "
            f"(for example `hf download {self.repo} {self.file}{self._revision_option} "
            f"--local-dir {folder}`)"
        )


def draft_lora(entry: ModelEntry) -> HubFile | None:
    """The step-distillation LoRA of the model's draft recipe, or None."""
    recipe = entry.draft or {}
    return HubFile.of(recipe["lora"]) if recipe.get("lora") else None


def draft_rules(entry: ModelEntry) -> DraftRules | None:
    """How the model drafts, as the planner takes it; None for the previz (its draft is
    itself). The recipe's LoRA is named by where it is here (or where it would be: the
    engine's planning refuses a draft whose LoRA is missing, saying how to get it)."""
    if entry.backend == "previz":
        return None
    recipe = entry.draft
    if not recipe or not (recipe.get("lora") or recipe.get("distilled") or entry.test):
        rules = fallback_rules(entry.steps, entry.guidance, entry.name)
        if recipe and recipe.get("area"):
            rules = DraftRules(rules.steps, rules.guidance, float(recipe["area"]), None, False)
        return rules
    lora = None
    hub = draft_lora(entry)
    if hub is not None:
        where = hub.locate() or (hub.local_folder() or Path(hub.file)) / hub.file
        lora = Lora(str(where), float(recipe["lora"].get("scale", 1.0)))
    steps = int(recipe.get("steps", entry.steps))
    guidance = recipe.get("guidance", entry.guidance)
    note = ""
    if recipe.get("distilled") and entry.upsampler is not None:
        note = f"draft: {entry.name}'s first stage only, without the latent upsampler"
    return DraftRules(
        steps=steps,
        guidance=None if guidance is None else float(guidance),
        area=float(recipe.get("area", DRAFT_AREA)),
        lora=lora,
        note=note,
    )


def check_draft_files(entry: ModelEntry) -> None:
    """RenderError, saying how to get it, when the draft recipe's LoRA is not here."""
    hub = draft_lora(entry)
    if hub is not None and hub.locate() is None:
        raise RenderError(
            f"a draft of {entry.name} renders with its step-distillation LoRA: "
            + hub.missing_text("the LoRA")
        )


def gguf_file(entry: ModelEntry) -> HubFile | None:
    """The model's GGUF transformer file as the catalog names it, or None."""
    return HubFile.of(entry.gguf) if entry.gguf else None
