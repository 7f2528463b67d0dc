"""Edits as commands with do/undo: the one way a project changes.

The window pushes these commands on its undo stack (`ui/undo.py`), where consecutive edits
that share a merge key (a slider drag) merge into one undo step; the command line builds
the same commands and `apply`s them, so one rule decides what an edit does wherever it is
made. No Qt here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, MutableSequence
from typing import Any

from studio.errors import EditError
from studio.ids import fresh_id


class Command:
    """One reversible edit. `do` may run again after `undo` (redo)."""

    text: str = ""
    merge_key: Hashable | None = None

    def do(self) -> None:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError

    def merge_with(self, other: Command) -> bool:
        """Absorb `other` (already done) into this one; True when merged."""
        return False

    def is_obsolete(self) -> bool:
        """True when the command changes nothing and can be dropped after a merge."""
        return False


class SetAttribute(Command):
    """Set `target.name = value`. With a merge key, consecutive sets merge (slider drags)."""

    def __init__(
        self,
        target: Any,
        name: str,
        value: Any,
        text: str = "",
        merge_key: Hashable | None = None,
    ) -> None:
        if not hasattr(target, name):
            raise EditError(f"{type(target).__name__} has no field {name!r}")
        self.target = target
        self.name = name
        self.new = value
        self.old = getattr(target, name)
        self.text = text or f"Change {name.replace('_', ' ')}"
        self.merge_key = merge_key

    def do(self) -> None:
        setattr(self.target, self.name, self.new)

    def undo(self) -> None:
        setattr(self.target, self.name, self.old)

    def merge_with(self, other: Command) -> bool:
        if (
            isinstance(other, SetAttribute)
            and self.merge_key is not None
            and other.merge_key == self.merge_key
            and other.target is self.target
            and other.name == self.name
        ):
            self.new = other.new
            return True
        return False

    def is_obsolete(self) -> bool:
        return self.new == self.old


class InsertItem(Command):
    def __init__(self, items: MutableSequence[Any], index: int, item: Any, text: str = "") -> None:
        if not 0 <= index <= len(items):
            raise EditError(f"cannot insert at position {index} of {len(items)}")
        self.items, self.index, self.item = items, index, item
        self.text = text or "Insert"

    def do(self) -> None:
        self.items.insert(self.index, self.item)

    def undo(self) -> None:
        del self.items[self.index]


class RemoveItem(Command):
    def __init__(self, items: MutableSequence[Any], index: int, text: str = "") -> None:
        if not 0 <= index < len(items):
            raise EditError(f"no item at position {index} of {len(items)}")
        self.items, self.index = items, index
        self.item = items[index]
        self.text = text or "Delete"

    def do(self) -> None:
        del self.items[self.index]

    def undo(self) -> None:
        self.items.insert(self.index, self.item)


class MoveItem(Command):
    """Move the item at `source` so that it ends up at index `dest`."""

    def __init__(self, items: MutableSequence[Any], source: int, dest: int, text: str = "") -> None:
        n = len(items)
        if not (0 <= source < n and 0 <= dest < n):
            raise EditError(f"cannot move item {source} to {dest} in a list of {n}")
        self.items, self.source, self.dest = items, source, dest
        self.text = text or "Move"

    def do(self) -> None:
        self.items.insert(self.dest, self.items.pop(self.source))

    def undo(self) -> None:
        self.items.insert(self.source, self.items.pop(self.dest))

    def is_obsolete(self) -> bool:
        return self.source == self.dest


class Macro(Command):
    """Several commands as one undo step."""

    def __init__(self, text: str, commands: list[Command] | None = None) -> None:
        self.text = text
        self.commands: list[Command] = list(commands or [])

    def do(self) -> None:
        for command in self.commands:
            command.do()

    def undo(self) -> None:
        for command in reversed(self.commands):
            command.undo()

    def is_obsolete(self) -> bool:
        return all(c.is_obsolete() for c in self.commands)


def apply(command: Command) -> Command:
    """Do `command` outside an undo history (the command line); the window's undo stack
    does the same on push and redo."""
    command.do()
    return command


# --- Project edits --------------------------------------------------------------------
# Small factories so every caller (UI, CLI, scripts) builds the same commands.


def set_field(
    obj: Any, name: str, value: Any, *, merge: bool = False, project: Any = None
) -> SetAttribute:
    """Change one field of a shot, project, character or style.

    With `merge`, consecutive changes of the same field merge into one undo step. Given
    the `project`, a shot's duration is changed by `set_shot_duration`, so its clips follow.
    """
    if dataclasses.is_dataclass(obj) and name not in {f.name for f in dataclasses.fields(obj)}:
        raise EditError(f"{type(obj).__name__} has no field {name!r}")
    key = ("field", id(obj), name) if merge else None
    if project is not None and name == "duration" and any(s is obj for s in project.shots):
        return set_shot_duration(project, obj, value, merge_key=key)
    label = f"Change {name.replace('_', ' ')}"
    return SetAttribute(obj, name, value, text=label, merge_key=key)


def add_shot(project: Any, shot: Any, index: int | None = None, *, clip: bool = False) -> Command:
    """A new shot in the storyboard; with `clip`, also its clip on the timeline, placed
    after the clips of the shot before it (or first, when it opens the storyboard)."""
    where = len(project.shots) if index is None else index
    insert = InsertItem(project.shots, where, shot, text="Add shot")
    if not clip:
        return insert
    from studio.timeline.timeline import Clip

    timeline = project.timeline
    frames = max(1, round(shot.duration * timeline.fps))
    clip_id = fresh_id(f"clip-{shot.id}", timeline.ids(), start=2, bare=True)
    new_clip = Clip(
        id=clip_id,
        shot_id=shot.id,
        take_id=None,
        source_in=0,
        source_out=frames,
    )
    before = {s.id for s in project.shots[:where]}
    at = 0
    for i, item in enumerate(timeline.items):
        if getattr(item, "shot_id", None) in before:
            at = i + 1
    return Macro(
        "Add shot",
        [insert, SetAttribute(project, "timeline", timeline.insert(at, new_clip))],
    )


def remove_shot(project: Any, index: int) -> Command:
    """The shot leaves the storyboard and its clips leave the timeline (rippled)."""
    remove = RemoveItem(project.shots, index, text="Delete shot")  # checks the index
    shot_id = project.shots[index].id
    timeline = project.timeline
    for clip in [c for c in timeline.clips() if c.shot_id == shot_id]:
        timeline = timeline.ripple_delete(clip.id)
    if timeline is project.timeline:
        return remove
    return Macro("Delete shot", [SetAttribute(project, "timeline", timeline), remove])


def move_shot(project: Any, source: int, dest: int) -> Command:
    """The shot at `source` moved to `dest` in the storyboard. While the edit follows the
    storyboard's order, the shot's clips move with it in the same step; an edit that the
    user rearranged keeps its order (`studio.timeline.shot_order`)."""
    from studio.timeline.shot_order import follows, in_story_order

    move = MoveItem(project.shots, source, dest, text="Move shot")  # checks the positions
    order = [shot.id for shot in project.shots]
    timeline = project.timeline
    if source == dest or not follows(timeline, order):
        return move
    order.insert(dest, order.pop(source))
    moved = in_story_order(timeline, order)
    if moved is timeline:
        return move
    return Macro("Move shot", [move, SetAttribute(project, "timeline", moved)])


def match_edit_to_storyboard(project: Any) -> Command | None:
    """The edit's clips put back in the storyboard's order, as one step; None when the
    edit follows it already."""
    from studio.timeline.shot_order import in_story_order

    timeline = project.timeline
    ordered = in_story_order(timeline, [shot.id for shot in project.shots])
    if ordered is timeline:
        return None
    return SetAttribute(project, "timeline", ordered, text="Match edit to storyboard")


class SetShotDuration(SetAttribute):
    """A shot's duration, and its untrimmed clips' length with it (one step). Merges as
    `SetAttribute` does (a spin box held down), carrying the timeline along."""

    def __init__(
        self, project: Any, shot: Any, seconds: float, merge_key: Hashable | None = None
    ) -> None:
        from studio.timeline.shot_order import fit_to_shot

        super().__init__(shot, "duration", seconds, text="Change duration", merge_key=merge_key)
        self.project = project
        self.old_timeline = project.timeline
        frames = max(1, round(seconds * project.timeline.fps))
        self.new_timeline = fit_to_shot(project.timeline, shot.id, frames)

    def do(self) -> None:
        super().do()
        self.project.timeline = self.new_timeline

    def undo(self) -> None:
        super().undo()
        self.project.timeline = self.old_timeline

    def merge_with(self, other: Command) -> bool:
        if not isinstance(other, SetShotDuration) or not super().merge_with(other):
            return False
        self.new_timeline = other.new_timeline
        return True

    def is_obsolete(self) -> bool:
        return self.new == self.old and self.new_timeline == self.old_timeline


def set_shot_duration(
    project: Any, shot: Any, seconds: float, *, merge_key: Hashable | None = None
) -> SetShotDuration:
    """Change a shot's duration (seconds); the clips of the shot that the user has not
    trimmed follow its new length, in the same undo step (`fit_to_shot`)."""
    if seconds <= 0:
        raise EditError(f"a shot lasts more than 0 seconds, not {seconds}")
    return SetShotDuration(project, shot, seconds, merge_key)


def set_timeline(project: Any, timeline: Any, text: str, merge_key: Hashable = None) -> Command:
    """Replace the (immutable) timeline; the edit itself is done by `studio.timeline.timeline`."""
    return SetAttribute(project, "timeline", timeline, text=text, merge_key=merge_key)


def add_take(shot: Any, take: Any, *, select: bool = True) -> Command:
    """A finished take joins its shot; it becomes the selected take by default."""
    commands: list[Command] = [InsertItem(shot.takes, len(shot.takes), take, text="Add take")]
    if select:
        commands.append(SetAttribute(shot, "selected_take", take.id))
    return Macro("Add take", commands)


def record_take(shot: Any, take: Any, *, select: bool) -> Command | None:
    """A rendered take as the project records it, in the window and on the command line:
    it joins its shot if the shot lacks it, and it becomes the selected take when `select`
    (the shot's own seed rather than a variation) or when the shot has none selected.
    None when the shot already has it as it should."""
    select = select or not shot.selected_take
    if shot.take(take.id) is None:
        return add_take(shot, take, select=select)
    if select and shot.selected_take != take.id:
        return set_field(shot, "selected_take", take.id)
    return None


# What a take rendered as a variation differs in from its shot: the variations of a render
# (the window's "Render N variations", `gallop render --variations`) count the seed up from
# the shot's and change nothing else.
VARIATION_FIELDS = ("seed",)
# What else a take may have been rendered with besides the shot's own settings (`gallop
# render --profile draft`, a draft finalized): picking the take adopts these too.
RENDER_FIELDS = ("profile", "quantization")


def pick_take(shot: Any, take_id: str) -> Command | None:
    """Make `take_id` the shot's take, as one undo step, wherever it is picked: the shot
    selects it and adopts what a variation changes (the take's seed) and how it was
    rendered (its profile and quantization), so rendering the shot again gives this take
    (it stays 'rendered') instead of the seed it had. None when the shot already has it
    so. Raises EditError when the shot has no such take."""
    take = shot.take(take_id)
    if take is None:
        raise EditError(f"shot {shot.title or shot.id!r} has no take {str(take_id)[:12]!r}")
    commands: list[Command] = []
    if shot.selected_take != take.id:
        commands.append(SetAttribute(shot, "selected_take", take.id, text="Pick take"))
    for name in VARIATION_FIELDS + RENDER_FIELDS:
        value = getattr(take.request, name)
        if getattr(shot, name) != value:
            commands.append(SetAttribute(shot, name, value, text="Pick take"))
    return Macro("Pick take", commands) if commands else None
