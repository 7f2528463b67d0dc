"""LoRAs from the project to the take: the engine hashes each LoRA file when a shot is
planned (cached while the file is unchanged), refuses one that is not safetensors, finds
`models:` files in the models folder, puts hash and scale into the request and the take's
manifest, hands them to every segment of a long shot, and `gallop render --lora
FILE[:SCALE]` adds LoRAs to every shot of a run."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest

from engine.backends.base import Capabilities, NullContext, RenderInputs
from engine.cli import Exit, run_subcommand
from engine.render.batch import BatchRenderer
from engine.render.extend import render_extended
from engine.render.inputs import FileHashes, ProjectFiles
from engine.render.planning import StatusCache, plan_render, plan_shot
from studio.errors import StudioError
from studio.jobs import GenerationRequest, LoraWeight
from studio.project.io import load_project, save_project
from studio.project.loras import Lora
from studio.project.model import Style
from tests.projects import small_project
from tools.tiny_loras import build_lora


@pytest.fixture(scope="module")
def wan_lora(tmp_path_factory):
    return build_lora("tiny-wan", tmp_path_factory.mktemp("loras") / "storm.safetensors")


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def project_folder(tmp_path, wan_lora):
    """A small project of one tiny-wan shot whose style has the LoRA in media/loras/."""
    folder = small_project(tmp_path / "Small.gallop", shots=1)
    (folder / "media" / "loras").mkdir(parents=True)
    shutil.copy(wan_lora, folder / "media" / "loras" / "storm.safetensors")
    project = load_project(folder)
    project.styles.append(
        Style("storm", "Storm", loras=(Lora("media/loras/storm.safetensors", 0.7),))
    )
    project.shots[0].style = "storm"
    project.shots[0].model_id = "tiny-wan"
    save_project(project, folder)
    return folder


def test_planning_hashes_the_lora_and_hands_its_file_to_the_render(project_folder):
    project = load_project(project_folder)
    shot = project.shots[0]
    file = project_folder / "media" / "loras" / "storm.safetensors"
    files = ProjectFiles(project_folder, FileHashes())
    plan = plan_render(project, project_folder, shot, files=files)
    assert plan.request.loras == (LoraWeight(sha256(file), 0.7),)
    assert plan.inputs.loras == (file.resolve(),)
    reads = files.hashes.reads
    again = plan_shot(project, project_folder, shot, files=files)
    assert again.request == plan.request and files.hashes.reads == reads  # read once
    # The scale and the LoRA itself are part of the request's hash.
    project.styles[0].loras = (Lora("media/loras/storm.safetensors", 0.5),)
    half = plan_shot(project, project_folder, shot, files=files).request
    project.styles[0].loras = ()
    bare = plan_shot(project, project_folder, shot, files=files).request
    assert len({plan.request.hash, half.hash, bare.hash}) == 3
    assert bare.loras == ()


def test_a_take_carries_its_loras_in_its_manifest_and_goes_stale_when_the_file_changes(
    project_folder,
):
    result = BatchRenderer(project_folder).run()
    assert result.ok and result.rendered == ["s0"], result.failed
    project = load_project(project_folder)
    take = project.shots[0].current_take
    file = project_folder / "media" / "loras" / "storm.safetensors"
    assert take.request.loras == (LoraWeight(sha256(file), 0.7),)
    manifest = json.loads((project_folder / "takes" / f"{take.id}.json").read_text())
    assert manifest["request"]["loras"] == [{"sha256": sha256(file), "scale": 0.7}]
    statuses = StatusCache()
    assert statuses.status(project, project_folder, project.shots[0]) == "rendered"
    file.write_bytes(file.read_bytes()[:-4] + b"\x01\x02\x03\x04")  # retrained, say
    statuses.invalidate()
    assert statuses.status(project, project_folder, project.shots[0]) == "stale"


def test_a_lora_that_is_not_safetensors_or_is_missing_is_refused_at_planning(project_folder):
    project = load_project(project_folder)
    shot = project.shots[0]
    bad = project_folder / "media" / "loras" / "storm.safetensors"
    bad.write_bytes(b"\x80\x02}q\x00(X\x06\x00\x00\x00a pickle" + bytes(32))
    with pytest.raises(StudioError, match="storm.safetensors is not a safetensors file"):
        plan_shot(project, project_folder, shot)
    bad.unlink()
    with pytest.raises(StudioError, match="the LoRA media/loras/storm.safetensors is missing"):
        plan_shot(project, project_folder, shot)


def test_a_models_lora_is_found_in_the_models_folder(
    project_folder, wan_lora, tmp_path, monkeypatch
):
    models = tmp_path / "models"
    (models / "loras").mkdir(parents=True)
    shutil.copy(wan_lora, models / "loras" / "shared.safetensors")
    monkeypatch.setenv("GALLOP_MODELS", str(models))
    project = load_project(project_folder)
    project.styles[0].loras = (Lora("models:loras/shared.safetensors"),)
    plan = plan_render(project, project_folder, project.shots[0])
    assert plan.inputs.loras == ((models / "loras" / "shared.safetensors").resolve(),)
    assert plan.request.loras == (LoraWeight(sha256(wan_lora), 1.0),)
    project.styles[0].loras = (Lora("models:loras/other.safetensors"),)
    with pytest.raises(StudioError, match="not in the models folder"):
        plan_shot(project, project_folder, project.shots[0])


def test_render_lora_flag_adds_a_lora_to_every_shot(tmp_path, wan_lora, capsys):
    folder = small_project(tmp_path / "Small.gallop", shots=2)
    args = ["render", str(folder), "--backend", "diffusers", "--model", "tiny-wan"]
    assert run_subcommand([*args, "--lora", f"{wan_lora}:0.5"]) == Exit.OK
    assert "2 rendered" in capsys.readouterr().out
    project = load_project(folder)
    for shot in project.shots:
        assert shot.current_take.request.loras == (LoraWeight(sha256(wan_lora), 0.5),)
    # The same run without the flag is another request: both shots render again.
    assert run_subcommand(args) == Exit.OK
    assert "2 rendered" in capsys.readouterr().out
    assert all(s.current_take.request.loras == () for s in load_project(folder).shots)
    # A scale left out is 1, and the flag repeats.
    assert (
        run_subcommand(
            [*args, "--shots", "s0", "--lora", str(wan_lora), "--lora", str(wan_lora) + ":2"]
        )
        == Exit.OK
    )
    take = load_project(folder).shot("s0").current_take
    assert take.request.loras == (LoraWeight(sha256(wan_lora), 2.0),)


def test_render_lora_flag_refuses_what_is_not_a_safetensors_file(tmp_path, capsys):
    folder = small_project(tmp_path / "Small.gallop", shots=1)
    pickle = tmp_path / "style.ckpt"
    pickle.write_bytes(b"\x80\x02")
    assert run_subcommand(["render", str(folder), "--lora", str(pickle)]) == Exit.USAGE
    assert "only safetensors" in capsys.readouterr().err
    fake = tmp_path / "fake.safetensors"
    fake.write_text("not weights at all")
    assert run_subcommand(["render", str(folder), "--lora", f"{fake}:1"]) == Exit.USAGE
    assert "fake.safetensors is not a safetensors file" in capsys.readouterr().err
    assert run_subcommand(["render", str(folder), "--lora", f"{fake}:99"]) == Exit.USAGE
    assert "between -10 and 10" in capsys.readouterr().err
    assert load_project(folder).shots[0].current_take is None


class SegmentBackend:
    """Renders grey clips of at most 9 frames and remembers the LoRAs of each segment."""

    name = "segments"

    def __init__(self) -> None:
        self.loras: list[tuple] = []

    def capabilities(self, model_id):
        return Capabilities(image_to_video=True, frame_multiple=4, max_frames=9)

    def generate(self, request, inputs, ctx):
        self.loras.append((inputs.loras, request.loras))
        return np.full((request.frames, 16, 16, 3), 128, np.uint8)


def test_every_segment_of_a_long_shot_renders_with_the_loras(tmp_path):
    backend = SegmentBackend()
    weights = (LoraWeight("a" * 64, 0.5),)
    req = GenerationRequest("sea", "tiny-wan", 16, 16, 21, seed=1, loras=weights)
    inputs = RenderInputs(loras=(tmp_path / "a.safetensors",))
    frames = render_extended(backend, req, inputs, NullContext())
    assert len(frames) == 21 and len(backend.loras) >= 3
    assert all(seen == (inputs.loras, weights) for seen in backend.loras)


def test_the_farm_ships_the_lora_files_to_its_nodes(tmp_path, wan_lora):
    from engine.render.farm import pack_inputs, unpack_inputs

    payload = pack_inputs(RenderInputs(loras=(wan_lora,)))
    inputs = unpack_inputs(payload, tmp_path / "node")
    assert len(inputs.loras) == 1 and inputs.loras[0].name.endswith(wan_lora.name)
    assert inputs.loras[0].read_bytes() == wan_lora.read_bytes()


def test_info_json_lists_the_loras_of_shots_and_takes(project_folder, capsys):
    assert BatchRenderer(project_folder).run().ok
    assert run_subcommand(["info", str(project_folder), "--json"]) == Exit.OK
    shot = json.loads(capsys.readouterr().out)["shots"][0]
    assert shot["loras"] == [{"file": "media/loras/storm.safetensors", "scale": 0.7}]
    file = project_folder / "media" / "loras" / "storm.safetensors"
    assert shot["takes"][0]["request"]["loras"] == [{"sha256": sha256(file), "scale": 0.7}]
