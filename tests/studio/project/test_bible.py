"""Edits of the bible as commands: add, rename, duplicate and delete characters and styles,
a deleted entry taking its shots' links along and its undo bringing them back."""

from __future__ import annotations

import pytest

from studio.commands import apply
from studio.errors import EditError
from studio.project.bible import (
    add_entry,
    duplicate_entry,
    free_name,
    new_entry,
    remove_entry,
    rename_entry,
    shots_using,
    usage_counts,
    usage_key,
)
from studio.project.loras import Lora
from studio.project.model import Character, Project, Shot, Style, project_from_dict, project_to_dict


def make_project() -> Project:
    mara = Character("mara", "Mara", "a coastguard", ["media/mara.png"], (Lora("m.safetensors"),))
    ivo = Character("ivo", "Ivo")
    noir = Style("noir", "Noir", "teal and amber")
    shots = [
        Shot("a", "Arrival", characters=["mara", "ivo"], style="noir"),
        Shot("b", "Beach", characters=["ivo"], style="noir"),
        Shot("c", "Cliff", characters=["mara"]),
    ]
    return Project(characters=[mara, ivo], styles=[noir], shots=shots)


def test_a_new_entry_has_a_fresh_id_and_a_name_of_its_own():
    project = make_project()
    first = new_entry(project, "style")
    assert isinstance(first, Style) and first.name == "New style"
    command = apply(add_entry(project, first))
    assert project.styles[-1] is first and command.text == "Add style New style"
    second = new_entry(project, "style")
    assert second.name == "New style 2" and second.id != first.id
    character = new_entry(project, "character", "  Mara ")
    assert isinstance(character, Character) and character.name == "Mara 2"
    assert character.id not in {c.id for c in project.characters}
    command.undo()
    assert project.styles == [Style("noir", "Noir", "teal and amber")]
    with pytest.raises(EditError):
        add_entry(project, Style("noir", "Other"))


def test_rename_refuses_an_empty_name():
    project = make_project()
    mara = project.characters[0]
    command = apply(rename_entry(mara, "  Mara Lind "))
    assert mara.name == "Mara Lind" and command.text == "Rename Mara"
    command.undo()
    assert mara.name == "Mara"
    with pytest.raises(EditError, match="needs a name"):
        rename_entry(mara, "   ")


def test_duplicate_copies_everything_but_the_id_and_no_shot_uses_the_copy():
    project = make_project()
    mara = project.characters[0]
    twin, command = duplicate_entry(project, mara)
    apply(command)
    assert [c.name for c in project.characters] == ["Mara", "Mara copy", "Ivo"]
    assert twin.id != mara.id and twin.description == mara.description
    assert twin.references == mara.references and twin.references is not mara.references
    assert twin.loras == mara.loras
    assert shots_using(project, twin) == []
    assert free_name(project, "character", "Mara copy") == "Mara copy 2"
    command.undo()
    assert [c.name for c in project.characters] == ["Mara", "Ivo"]


def test_deleting_a_style_leaves_its_shots_without_one_and_undo_restores_them():
    project = make_project()
    before = project_to_dict(project)
    noir = project.styles[0]
    assert [s.id for s in shots_using(project, noir)] == ["a", "b"]
    command = apply(remove_entry(project, noir))
    assert project.styles == [] and [s.style for s in project.shots] == [None, None, None]
    # What is left is a valid project: no shot names a style that is gone.
    project_from_dict(project_to_dict(project))
    command.undo()
    assert project_to_dict(project) == before
    command.do()  # redo
    assert project.styles == [] and project.shots[0].style is None


def test_deleting_a_character_takes_it_off_its_shots_only():
    project = make_project()
    before = project_to_dict(project)
    command = apply(remove_entry(project, project.characters[1]))
    assert [c.id for c in project.characters] == ["mara"]
    assert [s.characters for s in project.shots] == [["mara"], [], ["mara"]]
    command.undo()
    assert project_to_dict(project) == before


def test_an_unused_entry_is_deleted_by_one_command():
    project = make_project()
    extra = new_entry(project, "character")
    apply(add_entry(project, extra, 0))
    assert project.characters[0] is extra
    command = apply(remove_entry(project, extra))
    assert command.text == "Delete character New character"
    assert [c.id for c in project.characters] == ["mara", "ivo"]
    with pytest.raises(EditError):
        remove_entry(project, extra)  # not in the project any more


def test_usage_counts_each_kind_apart():
    project = make_project()
    project.styles.append(Style("mara", "A style that shares an id"))
    counts = usage_counts(project)
    assert counts[usage_key(project.characters[0])] == 2
    assert counts[usage_key(project.characters[1])] == 2
    assert counts[usage_key(project.styles[0])] == 2
    assert counts.get(usage_key(project.styles[1]), 0) == 0
