"""Draft, then final: a quick look at a shot before its full render, pure.

A shot rendered with the `draft` profile follows its model's draft recipe (`DraftRules`,
from the model catalog): a few steps without classifier-free guidance (guidance 1), at
about half the shot's area, snapped to the model's size multiple, and where the family
publishes one, a step-distillation LoRA that makes those few steps worth looking at. A
model without a recipe still drafts with fewer steps, and the plan says so.

Finalizing a draft take renders its shot again with the quality profile, with the
draft's seed and everything else the draft had (prompt, camera, keyframes), as one job.
The final's manifest names the draft take (`Take.draft`), and the shot adopts the final
(`finalize_take`: it becomes the shot's take, and the shot's profile quality), so the shot
is 'rendered' and Render all leaves it alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from studio.commands import Command, InsertItem, Macro, RemoveItem, record_take, set_field
from studio.errors import StudioError
from studio.jobs import GenerationRequest, LoraWeight, Profile
from studio.project.loras import Lora
from studio.project.model import Shot, Take

# The share of the shot's pixels a draft renders when the recipe does not say.
DRAFT_AREA = 0.5
# A model without a recipe drafts with this share of its steps (at least MIN_STEPS).
FALLBACK_STEP_SHARE = 0.25
MIN_STEPS = 4


@dataclass(frozen=True)
class DraftRules:
    """How a model drafts: its steps, guidance and share of the shot's area, a
    step-distillation LoRA (as the engine found it on this machine) and a note for the
    plan. `recipe` is False for a model whose family publishes no way to draft: it
    renders fewer steps of the full model, which is rougher than a distilled draft."""

    steps: int
    guidance: float | None
    area: float = DRAFT_AREA
    lora: Lora | None = None
    recipe: bool = True
    note: str = ""

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"a draft takes at least one step, not {self.steps}")
        if not 0 < self.area <= 1:
            raise ValueError(f"a draft's area is a share of the shot's, not {self.area}")


def fallback_rules(steps: int, guidance: float | None, name: str) -> DraftRules:
    """The draft of a model whose family publishes no step-distilled weights: a quarter of
    its steps (at least `MIN_STEPS`), its own guidance, half the area."""
    fewer = max(MIN_STEPS, math.ceil(steps * FALLBACK_STEP_SHARE))
    fewer = min(fewer, steps)
    note = (
        f"{name} has no draft recipe (no step-distilled weights published): "
        f"the draft is {fewer} of its {steps} steps"
    )
    return DraftRules(fewer, guidance, DRAFT_AREA, None, recipe=False, note=note)


def draft_size(width: int, height: int, area: float, multiple: int) -> tuple[int, int]:
    """The shot's size scaled to `area` of its pixels (the aspect kept), each side snapped
    to the model's `multiple` and never below one block nor above the shot's own."""
    scale = math.sqrt(area)

    def snap(value: int) -> int:
        snapped = max(multiple, int(round(value * scale / multiple)) * multiple)
        return min(snapped, max(multiple, value))

    return snap(width), snap(height)


class LoraHashes(Protocol):
    def lora_hash(self, file: str) -> str: ...


def as_draft(
    request: GenerationRequest,
    rules: DraftRules,
    size_multiple: int,
    files: LoraHashes,
    loras: Sequence[Lora] = (),
) -> tuple[GenerationRequest, tuple[Lora, ...], list[str]]:
    """The draft of a planned request (its profile already `draft`): the recipe's steps,
    guidance and size, and its LoRA after the shot's own. Returns the request, the LoRA
    files in the order of its `loras`, and what the plan says about it."""
    width, height = draft_size(request.width, request.height, rules.area, size_multiple)
    weights = request.loras
    files_of = tuple(loras)
    if rules.lora is not None:
        weights += (LoraWeight(files.lora_hash(rules.lora.file), rules.lora.scale),)
        files_of += (rules.lora,)
    draft = replace(
        request,
        width=width,
        height=height,
        steps=rules.steps,
        guidance=rules.guidance,
        loras=weights,
    )
    steps = f"{rules.steps} step" + ("s" if rules.steps != 1 else "")
    said = f"draft: {width}x{height}, {steps}"
    said += f", guidance {rules.guidance:g}" if rules.guidance is not None else ""
    if rules.lora is not None:
        said += f", with the step-distillation LoRA {rules.lora.name}"
    notes = [said]
    if rules.note:
        notes.append(rules.note)
    return draft, files_of, notes


# --- finalize ---------------------------------------------------------------------------


class FinalizeError(StudioError):
    """A take that cannot be finalized: not a draft, or its shot changed since."""


def check_draft(shot: Shot, take_id: str) -> Take:
    """The draft take `take_id` of `shot`, or FinalizeError saying why it is not one."""
    take = shot.take(take_id)
    name = shot.title or shot.id
    if take is None:
        raise FinalizeError(f"shot {name!r} has no take {take_id[:12]!r}")
    if not take.is_draft:
        raise FinalizeError(
            f"take {take_id[:12]} of {name!r} is not a draft (its profile is "
            f"{take.request.profile}): only a draft is finalized"
        )
    return take


def draft_matches(draft: Take, replanned: GenerationRequest, words: Sequence[str]) -> None:
    """FinalizeError unless planning the draft's shot again as a draft (with its seed)
    gives the draft's own request: otherwise the final would not show what the draft did.
    `words` says what changed (`studio.render_plan.request_changes`)."""
    if replanned.hash == draft.id:
        return
    changes = "; ".join(words) or "its settings changed"
    raise FinalizeError(
        f"the shot changed since this draft ({changes}): render a new draft, or undo the "
        "changes, to finalize it"
    )


def final_request(draft: GenerationRequest, quality: GenerationRequest) -> GenerationRequest:
    """The final of a draft: `quality` (its shot planned with the quality profile and the
    draft's seed) checked to keep what the draft showed."""
    same = ("prompt", "negative_prompt", "seed", "camera", "camera_mode", "keyframe_hash")
    for name in same:
        if getattr(draft, name) != getattr(quality, name):
            raise FinalizeError(
                f"the final's {name.replace('_', ' ')} would differ from the draft's"
            )
    if quality.profile != Profile.QUALITY:
        raise FinalizeError("a final renders with the quality profile")
    return quality


def finalize_take(shot: Shot, final: Take, draft_id: str) -> Command:
    """The final of a draft lands: it joins the shot naming its draft, becomes the shot's
    take, and the shot adopts its seed and the quality profile, as one undo step."""
    linked = final if final.draft == draft_id else replace(final, draft=draft_id)
    commands: list[Command] = []
    existing = shot.take(final.id)
    if existing is not None and existing.draft != draft_id:
        # The shot had this take already (rendered with the quality profile before): it
        # now names its draft too, in its place.
        index = shot.takes.index(existing)
        commands.append(RemoveItem(shot.takes, index, text="Finalize draft"))
        commands.append(InsertItem(shot.takes, index, linked, text="Finalize draft"))
        commands.append(set_field(shot, "selected_take", linked.id))
    else:
        added = record_take(shot, linked, select=True)
        if added is not None:
            commands.append(added)
    for name in ("seed", "profile", "quantization"):
        value = getattr(final.request, name)
        if getattr(shot, name) != value:
            commands.append(set_field(shot, name, value))
    return Macro("Finalize draft", commands)
