"""Draft, then final, on the tiny models: the draft profile renders fewer steps without
guidance at a reduced size (as the pipeline is called), a step-distillation LoRA joins a
draft where the catalog names one, the final re-renders the draft's shot at quality with
its seed, prompt and camera and the two manifests are linked, through the engine and the
command line."""

from __future__ import annotations

import json

import pytest

from engine.backends.diffusers import DiffusersBackend
from engine.cli import Exit, run_subcommand
from engine.media.video import probe
from engine.models.catalog import CATALOG_FILE, Catalog
from engine.render.planning import plan_finalize, plan_render, plan_shot
from engine.render.worker import Engine
from studio.camera.rig import preset
from studio.drafts import FinalizeError
from studio.jobs import Finished, Profile
from studio.project.io import load_project, save_project
from studio.project.takes import TakeStore
from tests.engine.backends.test_diffusers_backend import Ctx
from tests.engine.conftest import Recorder
from tests.projects import small_project


class Calls:
    """Records the keyword arguments of every pipeline call the backend makes."""

    def __init__(self, monkeypatch) -> None:
        self.kwargs: list[dict] = []
        original = DiffusersBackend._run

        def run(backend, pipe, entry, kwargs, request, ctx, label=""):
            self.kwargs.append(dict(kwargs))
            return original(backend, pipe, entry, kwargs, request, ctx, label)

        monkeypatch.setattr(DiffusersBackend, "_run", run)


@pytest.fixture(scope="module")
def backend():
    yield (instance := DiffusersBackend())
    instance.unload()


def draft_project(tmp_path, model: str, size: int = 64):
    folder = small_project(tmp_path / "Drafts.gallop", shots=1, size=size)
    project = load_project(folder)
    shot = project.shots[0]
    shot.model_id, shot.profile, shot.camera = model, Profile.DRAFT, preset("dolly_in")
    save_project(project, folder)
    return folder, project, shot


@pytest.mark.parametrize("model", ["tiny-wan", "tiny-ltx", "tiny-cogvideox", "tiny-hunyuan"])
def test_a_draft_renders_fewer_steps_without_guidance_at_a_smaller_size(
    tmp_path, monkeypatch, backend, model
):
    calls = Calls(monkeypatch)
    folder, project, shot = draft_project(tmp_path, model)
    entry = Catalog().get(model)
    draft = plan_render(project, folder, shot)
    quality = plan_render(project, folder, shot, profile=Profile.QUALITY)
    r, q = draft.request, quality.request
    steps = 2 if model == "tiny-ltx" else 1  # LTX-Video's scheduler takes two steps at least
    assert (r.profile, r.steps, r.guidance) == (Profile.DRAFT, steps, 1.0)
    assert q.steps == entry.steps == 2 and q.guidance == entry.guidance != 1.0
    assert r.width * r.height < q.width * q.height == 64 * 64
    assert r.width % entry.size_multiple == 0 and r.height % entry.size_multiple == 0
    assert any(
        note.startswith(f"draft: {r.width}x{r.height}, {steps} step") for note in draft.notes
    )
    frames = backend.generate(r, draft.inputs, Ctx())
    assert frames.shape[1:3] == (r.height, r.width)
    call = calls.kwargs[-1]
    assert call["num_inference_steps"] == steps
    assert (call["width"], call["height"]) == (r.width, r.height)
    assert call.get("guidance_scale", 1.0) == 1.0  # no classifier-free guidance


def test_a_distilled_model_drafts_its_first_stage_without_the_upsampler(
    tmp_path, monkeypatch, backend
):
    calls = Calls(monkeypatch)
    folder, project, shot = draft_project(tmp_path, "tiny-ltx-condition")
    draft = plan_render(project, folder, shot)
    ctx = Ctx()
    frames = backend.generate(draft.request, draft.inputs, ctx)
    assert len(calls.kwargs) == 1  # one pass: no latent upsampler, no refining pass
    assert calls.kwargs[0]["output_type"] == "np"
    assert frames.shape[1:3] == (32, 32)
    assert not any("latent upsampler" in line for line in ctx.logs)
    assert any("without the latent upsampler" in note for note in draft.notes)
    quality = plan_render(project, folder, shot, profile=Profile.QUALITY)
    calls.kwargs.clear()
    backend.generate(quality.request, quality.inputs, Ctx())
    assert len(calls.kwargs) >= 2  # the quality profile takes the second stage


@pytest.fixture
def lora_catalog(tmp_path, monkeypatch):
    """A catalog whose tiny Wan drafts with a step-distillation LoRA in the models folder."""
    from tools.tiny_loras import build_lora

    raw = json.loads(CATALOG_FILE.read_text())
    entry = next(m for m in raw["models"] if m["id"] == "tiny-wan")
    lora = {"repo": "gallop-tests/tiny-wan-distill", "file": "distill.safetensors", "scale": 0.8}
    entry = {**entry, "id": "tiny-wan-distilled", "draft": {"lora": lora, "steps": 1}}
    entry["draft"]["guidance"] = 1.0
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"models": [entry]}))
    models = tmp_path / "models"
    monkeypatch.setenv("GALLOP_CATALOG", str(path))
    monkeypatch.setenv("GALLOP_MODELS", str(models))
    return lambda: build_lora("tiny-wan", models / "tiny-wan-distill" / "distill.safetensors")


def test_a_draft_lora_joins_the_request_and_a_missing_one_says_how_to_get_it(
    tmp_path, lora_catalog
):
    folder, project, shot = draft_project(tmp_path, "tiny-wan-distilled")
    with pytest.raises(Exception, match=r"not downloaded.*hf download gallop-tests/tiny-wan"):
        plan_shot(project, folder, shot)
    # The quality profile needs no LoRA.
    assert plan_shot(project, folder, shot, profile=Profile.QUALITY).request.loras == ()
    lora = lora_catalog()
    planned = plan_render(project, folder, shot)
    (weight,) = planned.request.loras
    assert weight.scale == 0.8 and planned.inputs.loras == (lora,)
    assert any("step-distillation LoRA distill.safetensors" in n for n in planned.notes)
    backend = DiffusersBackend()
    ctx = Ctx()
    frames = backend.generate(planned.request, planned.inputs, ctx)
    backend.unload()
    assert frames.shape[1:3] == (48, 48)
    assert any("distill.safetensors at 0.8" in line for line in ctx.logs)


def test_finalize_plans_the_same_shot_at_quality_with_the_drafts_seed(tmp_path, backend):
    folder, project, shot = draft_project(tmp_path, "tiny-wan")
    recorder = Recorder()
    engine = Engine(TakeStore(folder / "takes"), recorder, lambda name: backend).start()
    draft_plan = plan_render(project, folder, shot)
    done = recorder.wait_done(engine.submit(draft_plan.request, draft_plan.inputs), 300)
    engine.shutdown(30)
    assert isinstance(done, Finished), getattr(done, "detail", done)
    shot.takes.append(done.result)
    shot.selected_take = done.result.id
    shot.seed = 77  # a later edit of the seed alone: the final keeps the draft's
    final = plan_finalize(project, folder, shot, done.result.id)
    made, r = draft_plan.request, final.request
    assert r.profile == Profile.QUALITY and r.seed == made.seed != 77
    assert (r.prompt, r.camera, r.camera_mode) == (made.prompt, made.camera, made.camera_mode)
    assert r.keyframe_hash == made.keyframe_hash and r.frames == made.frames
    assert (r.width, r.height, r.steps, r.guidance) == (64, 64, 2, 5.0)
    # Not a draft, or a shot whose prompt changed since: refused, saying why.
    shot.prompt = "something else"
    with pytest.raises(FinalizeError, match="prompt changed since the take"):
        plan_finalize(project, folder, shot, done.result.id)
    with pytest.raises(FinalizeError, match="no take"):
        plan_finalize(project, folder, shot, "0" * 64)


def test_gallop_render_draft_then_finalize(tmp_path, capsys):
    folder = small_project(tmp_path / "Small.gallop", shots=2)
    args = ["render", str(folder), "--backend", "diffusers", "--model", "tiny-wan"]
    assert run_subcommand([*args, "--profile", "draft"]) == Exit.OK
    project = load_project(folder)
    drafts = {s.id: s.current_take for s in project.shots}
    for take in drafts.values():
        assert take.is_draft and (take.request.width, take.request.height) == (48, 48)
        assert probe(folder / take.media).width == 48
    capsys.readouterr()
    assert run_subcommand(["finalize", str(folder), "--shots", "s1"]) == Exit.OK
    assert "1 finalized" in capsys.readouterr().out
    project = load_project(folder)
    s0, s1 = project.shots
    assert s0.current_take.id == drafts["s0"].id  # not named: still its draft
    final = s1.current_take
    assert final.draft == drafts["s1"].id and s1.final_of(drafts["s1"].id) == final
    assert final.request.profile == Profile.QUALITY and s1.profile == Profile.QUALITY
    assert final.request.seed == drafts["s1"].request.seed
    assert final.request.prompt == drafts["s1"].request.prompt
    info = probe(folder / final.media)
    assert (info.width, info.height) == (64, 64)
    manifest = json.loads((folder / "takes" / f"{final.id}.json").read_text())
    assert manifest["draft"] == drafts["s1"].id
    assert manifest["request"]["profile"] == "quality"
    # Every shot whose take is a draft: only s0 is left; then nothing is.
    assert run_subcommand(["finalize", str(folder)]) == Exit.OK
    assert load_project(folder).shot("s0").current_take.draft == drafts["s0"].id
    capsys.readouterr()
    assert run_subcommand(["finalize", str(folder)]) == Exit.OK
    assert "nothing to finalize" in capsys.readouterr().out
    assert run_subcommand(["finalize", str(folder), "--shots", "s0"]) == Exit.FAILED
    assert "its take is not a draft" in capsys.readouterr().err
