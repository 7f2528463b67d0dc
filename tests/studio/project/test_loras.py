"""LoRAs of shots, styles and characters: saved only when present, validated when read,
combined into a shot's effective list, and carried into the request (hash and scale)."""

from __future__ import annotations

import json
import struct
from fractions import Fraction

import pytest

from studio.errors import ProjectError, StudioError
from studio.jobs import GenerationRequest, LoraWeight
from studio.project.changes import ProjectSnapshot
from studio.project.io import copy_project, load_project, project_file, save_project
from studio.project.loras import Lora, check_lora_file, effective_loras, lora_file_problem
from studio.project.model import (
    Character,
    Project,
    Style,
    project_from_dict,
    project_to_dict,
)
from studio.render_plan import ModelRules, plan_shot, request_changes
from tests.projects import EXAMPLE

WAN = ModelRules("tiny-wan", "Tiny Wan", "diffusers", Fraction(16), 4, 16)
PREVIZ = ModelRules("previz", "Previz", "previz", Fraction(24))


def safetensors_bytes() -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0\0\0\0"


class Files:
    """An InputResolver whose LoRA hashes are made from the file's name."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def file_hash(self, relative_path: str) -> str:
        return "f" * 64

    def continuity_source(self, take) -> str:
        return take.id

    def lora_hash(self, file: str) -> str:
        self.asked.append(file)
        return format(abs(hash(file)) % 16**8, "08x") * 8


def bible_project() -> Project:
    project = Project(title="Bible", fps=Fraction(16), width=64, height=64)
    project.styles.append(
        Style("noir", "Noir", "black and white", loras=(Lora("media/loras/grain.safetensors"),))
    )
    project.characters.append(
        Character("mara", "Mara", "a coastguard", loras=(Lora("models:mara.safetensors", 0.8),))
    )
    project.shots.append(
        project.new_shot(
            id="s0",
            style="noir",
            characters=["mara"],
            loras=(Lora("media/loras/storm.safetensors", 0.5),),
        )
    )
    project.shots.append(project.new_shot(id="s1"))
    return project


def test_an_old_project_loads_and_saves_unchanged(tmp_path):
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    before = json.loads(project_file(folder).read_text())
    project = load_project(folder)
    assert all(s.loras == () for s in project.shots)
    assert all(e.loras == () for e in [*project.styles, *project.characters])
    save_project(project, folder)
    after = json.loads(project_file(folder).read_text())
    assert after == before
    assert "loras" not in json.dumps(after)


def test_loras_round_trip_in_shots_styles_and_characters():
    project = bible_project()
    data = project_to_dict(project)
    assert data["shots"][0]["loras"] == [{"file": "media/loras/storm.safetensors", "scale": 0.5}]
    assert data["styles"][0]["loras"] == [{"file": "media/loras/grain.safetensors", "scale": 1.0}]
    assert data["characters"][0]["loras"][0]["file"] == "models:mara.safetensors"
    assert "loras" not in data["shots"][1]
    again = project_from_dict(json.loads(json.dumps(data)))
    assert again.shots[0].loras == project.shots[0].loras
    assert again.styles[0].loras == project.styles[0].loras
    assert again.characters[0].loras == project.characters[0].loras
    # A scale left out is 1.
    data["shots"][1]["loras"] = [{"file": "media/loras/x.safetensors"}]
    assert project_from_dict(data).shots[1].loras == (Lora("media/loras/x.safetensors", 1.0),)


@pytest.mark.parametrize(
    ("lora", "where", "words"),
    [
        ({"file": "media/loras/style.ckpt"}, "shots[0].loras[0].file", "safetensors"),
        ({"file": "media/loras/style.bin"}, "shots[0].loras[0].file", "safetensors"),
        ({"file": "/home/me/x.safetensors"}, "shots[0].loras[0].file", "relative"),
        ({"file": "../x.safetensors"}, "shots[0].loras[0].file", "escapes the project"),
        ({"file": "models:../x.safetensors"}, "shots[0].loras[0].file", "models folder"),
        ({"file": "media/x.safetensors", "scale": 11}, "shots[0].loras[0].scale", "at most"),
        ({"file": "media/x.safetensors", "scale": "1"}, "shots[0].loras[0].scale", "number"),
        ({"file": "media/x.safetensors", "weight": 1}, "shots[0].loras[0].weight", "unknown"),
    ],
)
def test_invalid_loras_are_refused_naming_where(lora, where, words):
    data = project_to_dict(bible_project())
    data["shots"][0]["loras"] = [lora]
    with pytest.raises(ProjectError) as caught:
        project_from_dict(data)
    assert caught.value.path == f"$.{where}"
    assert words in caught.value.message


def test_a_bible_lora_is_validated_too():
    data = project_to_dict(bible_project())
    data["styles"][0]["loras"] = [{"file": "media/loras/grain.pt"}]
    with pytest.raises(ProjectError, match=r"\$\.styles\[0\]\.loras\[0\]\.file"):
        project_from_dict(data)


def test_lora_file_problem_accepts_project_and_models_files():
    assert lora_file_problem("media/loras/a.safetensors") is None
    assert lora_file_problem("models:wan/a.SAFETENSORS") is None
    assert "safetensors" in lora_file_problem("models:a.pt")


def test_a_lora_file_must_have_a_safetensors_header(tmp_path):
    good = tmp_path / "good.safetensors"
    good.write_bytes(safetensors_bytes())
    check_lora_file(good)
    pickle = tmp_path / "style.ckpt"
    pickle.write_bytes(safetensors_bytes())
    with pytest.raises(StudioError, match=r"style\.ckpt .*only safetensors"):
        check_lora_file(pickle)
    renamed = tmp_path / "renamed.safetensors"
    renamed.write_bytes(b"PK\x03\x04 a zip archive, as torch.save writes" + bytes(64))
    with pytest.raises(StudioError, match=r"renamed\.safetensors is not a safetensors file"):
        check_lora_file(renamed)
    short = tmp_path / "short.safetensors"
    short.write_bytes(b"\x10\0\0")
    with pytest.raises(StudioError, match="not a safetensors file"):
        check_lora_file(short)
    with pytest.raises(StudioError, match="missing"):
        check_lora_file(tmp_path / "gone.safetensors")


def test_effective_loras_are_style_then_characters_then_the_shot():
    project = bible_project()
    shot = project.shots[0]
    assert [lora.file for lora in effective_loras(project, shot)] == [
        "media/loras/grain.safetensors",
        "models:mara.safetensors",
        "media/loras/storm.safetensors",
    ]
    # The shot's own entry for its style's LoRA keeps the place and sets the scale.
    shot.loras = (Lora("media/loras/grain.safetensors", 0.0),)
    assert effective_loras(project, shot) == (
        Lora("media/loras/grain.safetensors", 0.0),
        Lora("models:mara.safetensors", 0.8),
    )
    assert effective_loras(project, project.shots[1]) == ()


def test_the_request_hash_follows_the_lora_and_its_scale():
    base = GenerationRequest(prompt="p", model_id="tiny-wan", width=64, height=64, frames=9)
    assert "loras" not in base.to_dict()  # requests without LoRAs keep their hashes
    one = GenerationRequest(**{**vars(base), "loras": (LoraWeight("a" * 64, 1.0),)})
    half = GenerationRequest(**{**vars(base), "loras": (LoraWeight("a" * 64, 0.5),)})
    other = GenerationRequest(**{**vars(base), "loras": (LoraWeight("b" * 64, 1.0),)})
    assert len({base.hash, one.hash, half.hash, other.hash}) == 4
    assert one.to_dict()["loras"] == [{"sha256": "a" * 64, "scale": 1.0}]
    assert GenerationRequest.from_dict(json.loads(half.canonical_json())) == half
    assert LoraWeight("a" * 64, 1) == LoraWeight("a" * 64, 1.0)
    bad = {**half.to_dict(), "loras": [{"sha256": "x", "scale": 1}]}
    with pytest.raises(ProjectError, match=r"loras\[0\]\.sha256"):
        GenerationRequest.from_dict(bad)


def test_the_plan_hashes_every_effective_lora_in_order():
    project = bible_project()
    files = Files()
    plan = plan_shot(project, project.shots[0], WAN, files)
    assert (
        [lora.file for lora in plan.loras]
        == files.asked
        == [
            "media/loras/grain.safetensors",
            "models:mara.safetensors",
            "media/loras/storm.safetensors",
        ]
    )
    assert plan.request.loras == tuple(
        LoraWeight(files.lora_hash(lora.file), lora.scale) for lora in plan.loras
    )
    assert [w.scale for w in plan.request.loras] == [1.0, 0.8, 0.5]
    bare = plan_shot(project, project.shots[1], WAN, Files())
    assert bare.request.loras == () and bare.loras == ()
    extra = plan_shot(project, project.shots[1], WAN, Files(), extra_loras=[Lora("/x.safetensors")])
    assert extra.loras == (Lora("/x.safetensors"),)
    assert extra.request.hash != bare.request.hash
    assert request_changes(bare.request, extra.request) == ("LoRAs changed",)


def test_the_previz_leaves_loras_out_and_says_so():
    project = bible_project()
    files = Files()
    plan = plan_shot(project, project.shots[0], PREVIZ, files)
    assert plan.request.loras == () and files.asked == []
    assert any("LoRAs left out" in note for note in plan.notes)


def test_a_bible_lora_edit_is_a_bible_change():
    project = bible_project()
    snapshot = ProjectSnapshot(project)
    project.styles[0].loras = ()
    assert snapshot.compare().bible
    project.shots[0].loras = ()
    assert snapshot.compare().shots == {"s0": frozenset({"loras"})}
