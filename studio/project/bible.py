"""Edits of the bible (characters and styles) as studio commands, each one undo step.

Adding, renaming, duplicating and deleting an entry are built here, so the window and any
script make the same edits. Deleting an entry that shots use takes it off those shots in
the same step (a shot never names a character or style the project lacks), and its undo
puts the entry and every shot's link back where they were.
"""

from __future__ import annotations

import copy
from typing import Literal

from studio.commands import Command, InsertItem, Macro, RemoveItem, SetAttribute
from studio.errors import EditError
from studio.ids import new_id
from studio.project.model import BibleEntry, Character, Project, Shot, Style

Kind = Literal["character", "style"]
NEW_NAMES: dict[Kind, str] = {"character": "New character", "style": "New style"}


def kind_of(entry: BibleEntry) -> Kind:
    return "style" if isinstance(entry, Style) else "character"


def entries_of(project: Project, kind: Kind) -> list[BibleEntry]:
    """The project's list of characters or of styles (the list itself, edited in place by
    the commands)."""
    return project.styles if kind == "style" else project.characters


def index_of(project: Project, entry: BibleEntry) -> int:
    """Where `entry` (this very object) is in its list; EditError when it is not there."""
    items = entries_of(project, kind_of(entry))
    for i, item in enumerate(items):
        if item is entry:
            return i
    raise EditError(f"{entry.name!r} is not in the project's {kind_of(entry)}s")


def shots_using(project: Project, entry: BibleEntry) -> list[Shot]:
    """The shots that name the entry: the shots of a style, the shots with a character."""
    if isinstance(entry, Style):
        return [shot for shot in project.shots if shot.style == entry.id]
    return [shot for shot in project.shots if entry.id in shot.characters]


def usage_counts(project: Project) -> dict[str, int]:
    """How many shots use each character and each style, by id (one pass over the shots).
    Characters and styles have ids of their own kind: a style and a character may share
    one, so the keys are `character:ID` and `style:ID`."""
    counts: dict[str, int] = {}
    for shot in project.shots:
        if shot.style is not None:
            key = f"style:{shot.style}"
            counts[key] = counts.get(key, 0) + 1
        for char_id in dict.fromkeys(shot.characters):
            key = f"character:{char_id}"
            counts[key] = counts.get(key, 0) + 1
    return counts


def usage_key(entry: BibleEntry) -> str:
    return f"{kind_of(entry)}:{entry.id}"


def free_name(project: Project, kind: Kind, base: str) -> str:
    """`base`, or `base 2`, `base 3`… when an entry of the kind has that name already."""
    taken = {item.name for item in entries_of(project, kind)}
    if base not in taken:
        return base
    n = 2
    while f"{base} {n}" in taken:
        n += 1
    return f"{base} {n}"


def new_entry(project: Project, kind: Kind, name: str | None = None) -> BibleEntry:
    """A character or a style with a fresh id and a name no entry of its kind has."""
    name = free_name(project, kind, (name or NEW_NAMES[kind]).strip() or NEW_NAMES[kind])
    if kind == "style":
        return Style(_fresh_id(project, "style"), name)
    return Character(_fresh_id(project, "char"), name)


def _fresh_id(project: Project, prefix: str) -> str:
    taken = {item.id for item in (*project.characters, *project.styles)}
    ident = new_id(prefix)
    while ident in taken:  # ten random hex digits: never in practice, but never a clash
        ident = new_id(prefix)
    return ident


def add_entry(project: Project, entry: BibleEntry, index: int | None = None) -> Command:
    """The entry joins the bible, at the end of its list or at `index`."""
    items = entries_of(project, kind_of(entry))
    if any(item.id == entry.id for item in items):
        raise EditError(f"the bible already has a {kind_of(entry)} with the id {entry.id!r}")
    where = len(items) if index is None else index
    return InsertItem(items, where, entry, text=f"Add {kind_of(entry)} {entry.name}")


def duplicate_entry(project: Project, entry: BibleEntry) -> tuple[BibleEntry, Command]:
    """A copy of the entry (its description, references and LoRAs) under a new id and the
    name "… copy", placed right after it; no shot uses the copy."""
    kind = kind_of(entry)
    twin = copy.copy(entry)
    twin.id = _fresh_id(project, "style" if kind == "style" else "char")
    twin.name = free_name(project, kind, f"{entry.name} copy")
    twin.references = list(entry.references)
    command = add_entry(project, twin, index_of(project, entry) + 1)
    command.text = f"Duplicate {kind} {entry.name}"
    return twin, command


def rename_entry(entry: BibleEntry, name: str, merge_key=None) -> SetAttribute:
    """A new name; an empty one (spaces alone included) is refused with EditError."""
    name = name.strip()
    if not name:
        raise EditError(f"a {kind_of(entry)} needs a name")
    return SetAttribute(entry, "name", name, text=f"Rename {entry.name}", merge_key=merge_key)


def remove_entry(project: Project, entry: BibleEntry) -> Command:
    """The entry leaves the bible, and every shot that used it loses it (a style's shots
    have no style then; a character leaves the shots it was in), as one step."""
    kind = kind_of(entry)
    text = f"Delete {kind} {entry.name}"
    commands: list[Command] = []
    for shot in shots_using(project, entry):
        if kind == "style":
            commands.append(SetAttribute(shot, "style", None, text=text))
        else:
            kept = [c for c in shot.characters if c != entry.id]
            commands.append(SetAttribute(shot, "characters", kept, text=text))
    commands.append(RemoveItem(entries_of(project, kind), index_of(project, entry), text=text))
    return commands[0] if len(commands) == 1 else Macro(text, commands)
