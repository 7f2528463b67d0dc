"""Drafts and finals in the studio model: the draft's size, steps and LoRA, the fallback of
a model without a recipe, the quantization in the request's hash, a final joining its shot
linked to its draft in one undo step, and picking a take adopting its profile."""

from __future__ import annotations

from dataclasses import replace

import pytest

from studio.commands import apply, pick_take
from studio.drafts import (
    DraftRules,
    FinalizeError,
    as_draft,
    check_draft,
    draft_size,
    fallback_rules,
    finalize_take,
)
from studio.jobs import GenerationRequest, LoraWeight, Profile, Quantization
from studio.project.loras import Lora
from studio.project.model import Project, Take, shot_from_dict, shot_to_dict


class Files:
    def lora_hash(self, file: str) -> str:
        return ("d" if "distill" in file else "a") * 64


def request(**fields) -> GenerationRequest:
    base = dict(prompt="a lighthouse", model_id="wan", width=832, height=480, frames=81)
    return GenerationRequest(**{**base, **fields})


def take(req: GenerationRequest, **fields) -> Take:
    return Take(req.hash, req, f"takes/{req.hash}.mp4", "2025-01-01T00:00:00+00:00", **fields)


@pytest.mark.parametrize(
    ("size", "area", "multiple", "expected"),
    [
        ((832, 480), 0.5, 16, (592, 336)),
        ((1280, 720), 0.5, 16, (912, 512)),
        ((768, 512), 0.25, 32, (384, 256)),
        ((64, 64), 0.5, 32, (32, 32)),
        ((16, 16), 0.5, 16, (16, 16)),  # never below one block, nor above the shot
    ],
)
def test_a_draft_is_a_share_of_the_area_snapped_to_the_model(size, area, multiple, expected):
    assert draft_size(*size, area, multiple) == expected


def test_a_model_without_a_recipe_drafts_with_a_quarter_of_its_steps():
    rules = fallback_rules(50, 5.0, "CogVideoX 5B")
    assert (rules.steps, rules.guidance, rules.recipe) == (13, 5.0, False)
    assert "no draft recipe" in rules.note and "13 of its 50 steps" in rules.note
    assert fallback_rules(8, 1.0, "m").steps == 4  # at least four...
    assert fallback_rules(2, 1.0, "m").steps == 2  # ...but never more than the model's own


def test_the_draft_request_takes_the_recipe_and_its_lora_after_the_shots():
    shot_lora = Lora("media/loras/look.safetensors", 0.7)
    base = request(steps=50, guidance=5.0, loras=(LoraWeight("a" * 64, 0.7),))
    rules = DraftRules(4, 1.0, 0.5, Lora("/models/distill.safetensors", 1.0))
    draft, files, notes = as_draft(base, rules, 16, Files(), (shot_lora,))
    assert (draft.width, draft.height, draft.steps, draft.guidance) == (592, 336, 4, 1.0)
    assert draft.loras == (LoraWeight("a" * 64, 0.7), LoraWeight("d" * 64, 1.0))
    assert files == (shot_lora, rules.lora)
    assert notes[0].startswith("draft: 592x336, 4 steps, guidance 1")
    assert "step-distillation LoRA distill.safetensors" in notes[0]
    assert (draft.prompt, draft.seed, draft.frames) == (base.prompt, base.seed, base.frames)


def test_quantization_enters_the_hash_only_when_set():
    plain = request()
    assert "quantization" not in plain.to_dict()
    int8 = replace(plain, quantization=Quantization.INT8)
    assert int8.hash != plain.hash and int8.to_dict()["quantization"] == "int8"
    assert GenerationRequest.from_dict(int8.to_dict()) == int8
    assert GenerationRequest.from_dict(plain.to_dict()).quantization == Quantization.NONE


def test_a_shot_keeps_its_quantization_and_a_take_its_draft():
    project = Project()
    shot = project.new_shot(quantization=Quantization.NF4)
    draft = take(request(profile=Profile.DRAFT))
    final = take(request(), draft=draft.id)
    shot.takes = [draft, final]
    again = shot_from_dict(shot_to_dict(shot), "$.shot")
    assert again.quantization == Quantization.NF4
    assert again.takes[1].draft == draft.id and again.takes[0].draft is None
    assert again.final_of(draft.id) == final and again.final_of(final.id) is None
    assert "quantization" not in shot_to_dict(project.new_shot())  # old files unchanged


def test_finalize_links_the_final_and_the_shot_adopts_it_in_one_undo_step():
    project = Project()
    shot = project.new_shot(profile=Profile.DRAFT, seed=3)
    draft = take(request(profile=Profile.DRAFT, seed=5, width=592, height=336))
    shot.takes, shot.selected_take = [draft], draft.id
    with pytest.raises(FinalizeError, match="no take"):
        check_draft(shot, "f" * 64)
    assert check_draft(shot, draft.id) is draft
    final = take(request(seed=5))
    command = apply(finalize_take(shot, final, draft.id))
    assert shot.selected_take == final.id and shot.current_take.draft == draft.id
    assert (shot.profile, shot.seed) == (Profile.QUALITY, 5)
    with pytest.raises(FinalizeError, match="not a draft"):
        check_draft(shot, final.id)
    command.undo()
    assert shot.takes == [draft] and shot.selected_take == draft.id
    assert (shot.profile, shot.seed) == (Profile.DRAFT, 3)


def test_a_quality_take_already_there_is_linked_in_its_place():
    shot = Project().new_shot()
    draft = take(request(profile=Profile.DRAFT))
    final = take(request())
    shot.takes, shot.selected_take = [final, draft], draft.id
    command = apply(finalize_take(shot, final, draft.id))
    assert [t.id for t in shot.takes] == [final.id, draft.id]
    assert shot.takes[0].draft == draft.id and shot.selected_take == final.id
    command.undo()
    assert shot.takes[0].draft is None and shot.selected_take == draft.id


def test_picking_a_take_adopts_its_profile_and_quantization():
    shot = Project().new_shot()
    draft = take(request(profile=Profile.DRAFT, quantization=Quantization.INT8, seed=9))
    shot.takes = [draft]
    command = apply(pick_take(shot, draft.id))
    assert (shot.profile, shot.quantization, shot.seed) == (
        Profile.DRAFT,
        Quantization.INT8,
        9,
    )
    command.undo()
    assert (shot.profile, shot.quantization) == (Profile.QUALITY, Quantization.NONE)
