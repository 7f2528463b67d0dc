"""A shot's dialogue in the project file: written when there is some, read strictly, and
absent from the files of projects that have none (they load and save unchanged)."""

from __future__ import annotations

import json

import pytest

from studio.commands import apply, set_field
from studio.errors import ProjectError
from studio.project.io import decode_project, encode_project, load_project, save_project
from studio.project.model import Dialogue, Project, Shot, shot_from_dict, shot_to_dict

LINES = (
    Dialogue("Mara", "There. A flare, two miles out.", "breathless"),
    Dialogue("Radio", "Copy, Black Head.", extension="V.O."),
)


def test_dialogue_round_trips_through_the_project_file(tmp_path):
    project = Project(shots=[Shot(id="edge", dialogue=LINES), Shot(id="quiet")])
    save_project(project, tmp_path)
    loaded = load_project(tmp_path)
    assert loaded.shot("edge").dialogue == LINES
    assert loaded.shot("quiet").dialogue == ()
    document = json.loads((tmp_path / "project.json").read_text())
    edge, quiet = document["shots"]
    assert edge["dialogue"] == [
        {"speaker": "Mara", "line": LINES[0].line, "parenthetical": "breathless"},
        {"speaker": "Radio", "line": "Copy, Black Head.", "extension": "V.O."},
    ]
    assert "dialogue" not in quiet


def test_a_project_without_dialogue_loads_and_saves_unchanged(tmp_path):
    old = encode_project(Project(title="Old", shots=[Shot(id="a", prompt="waves")]))
    assert b"dialogue" not in old
    project, version = decode_project(old)
    assert project.shot("a").dialogue == ()
    assert encode_project(project) == old


def test_dialogue_is_an_undoable_field_of_the_shot():
    shot = Shot(id="a")
    command = apply(set_field(shot, "dialogue", LINES))
    assert shot.dialogue == LINES
    command.undo()
    assert shot.dialogue == ()


def test_words():
    assert LINES[0].words == 6
    assert Dialogue("A", "  ").words == 0


@pytest.mark.parametrize(
    ("dialogue", "where"),
    [
        ([{"speaker": "", "line": "Hi."}], "$.dialogue[0].speaker"),
        ([{"speaker": "Mara"}], "$.dialogue[0].line"),
        ([{"speaker": "Mara", "line": "   "}], "$.dialogue[0].line"),
        ([{"speaker": "Mara", "line": "Hi.", "mood": "sad"}], "$.dialogue[0].mood"),
        ([{"speaker": "Mara", "line": "Hi.", "parenthetical": 3}], "$.dialogue[0].parenthetical"),
        (["Hi."], "$.dialogue[0]"),
        ({"speaker": "Mara"}, "$.dialogue"),
    ],
)
def test_bad_dialogue_names_its_path(dialogue, where):
    data = shot_to_dict(Shot(id="a"))
    data["dialogue"] = dialogue
    with pytest.raises(ProjectError) as info:
        shot_from_dict(data, "$")
    assert info.value.path == where
