"""Edits as commands with do/undo, and the undo stack that runs them.

Every change a user makes to a project goes through `UndoStack.push`. Consecutive edits
that share a merge key (a slider drag) merge into one undo step; macros group several
commands into one step; the clean index tells whether the project has unsaved changes.
The UI wraps this stack; it holds no Qt itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Iterator, MutableSequence
from contextlib import contextmanager
from typing import Any

from studio.errors import EditError


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


class UndoStack:
    """Linear history of commands with an index, a clean index and listeners."""

    def __init__(self, limit: int = 0) -> None:
        self._commands: list[Command] = []
        self._index = 0
        self._clean: int | None = 0
        self._limit = limit
        self._macros: list[Macro] = []
        self._listeners: list[Callable[[], None]] = []
        # A merge stops at a macro boundary, a save, or an undo.
        self._can_merge = False

    # -- observation -------------------------------------------------------------------
    def add_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.remove(callback)

    def _changed(self) -> None:
        for callback in list(self._listeners):
            callback()

    @property
    def index(self) -> int:
        return self._index

    def __len__(self) -> int:
        return len(self._commands)

    @property
    def can_undo(self) -> bool:
        return not self._macros and self._index > 0

    @property
    def can_redo(self) -> bool:
        return not self._macros and self._index < len(self._commands)

    @property
    def undo_text(self) -> str:
        return self._commands[self._index - 1].text if self.can_undo else ""

    @property
    def redo_text(self) -> str:
        return self._commands[self._index].text if self.can_redo else ""

    @property
    def is_clean(self) -> bool:
        return self._clean == self._index

    def set_clean(self) -> None:
        self._clean = self._index
        self._can_merge = False
        self._changed()

    def clear(self) -> None:
        self._commands.clear()
        self._index = 0
        self._clean = 0
        self._can_merge = False
        self._changed()

    # -- editing -----------------------------------------------------------------------
    def push(self, command: Command) -> None:
        """Do `command` and record it (inside an open macro, record it in the macro)."""
        command.do()
        if self._macros:
            self._macros[-1].commands.append(command)
            return
        self._record(command)

    def _record(self, command: Command) -> None:
        del self._commands[self._index :]
        if self._clean is not None and self._clean > self._index:
            self._clean = None  # the saved state can no longer be reached
        top = self._commands[-1] if self._commands and self._can_merge else None
        if top is not None and top.merge_with(command):
            if top.is_obsolete() and self._clean != self._index:
                self._commands.pop()
                self._index -= 1
                self._can_merge = False
            self._changed()
            return
        self._commands.append(command)
        self._index += 1
        self._can_merge = command.merge_key is not None
        if self._limit and len(self._commands) > self._limit:
            drop = len(self._commands) - self._limit
            del self._commands[:drop]
            self._index -= drop
            if self._clean is not None:
                self._clean = self._clean - drop if self._clean >= drop else None
        self._changed()

    def begin_macro(self, text: str) -> None:
        self._macros.append(Macro(text))

    def end_macro(self) -> None:
        if not self._macros:
            raise EditError("no macro is open")
        macro = self._macros.pop()
        if not macro.commands:
            return
        if self._macros:
            self._macros[-1].commands.append(macro)
        else:
            self._can_merge = False
            self._record(macro)
            self._can_merge = False

    @contextmanager
    def macro(self, text: str) -> Iterator[None]:
        """Group the pushes inside the block into one step; on error, roll them back."""
        self.begin_macro(text)
        try:
            yield
        except BaseException:
            macro = self._macros.pop()
            macro.undo()
            raise
        self.end_macro()

    def undo(self) -> None:
        if not self.can_undo:
            return
        self._index -= 1
        self._commands[self._index].undo()
        self._can_merge = False
        self._changed()

    def redo(self) -> None:
        if not self.can_redo:
            return
        self._commands[self._index].do()
        self._index += 1
        self._can_merge = False
        self._changed()


# --- Project edits --------------------------------------------------------------------
# Small factories so every caller (UI, CLI, scripts) builds the same commands.


def set_field(obj: Any, name: str, value: Any, *, merge: bool = False) -> SetAttribute:
    """Change one field of a shot, project, character or style.

    With `merge`, consecutive changes of the same field merge into one undo step.
    """
    if dataclasses.is_dataclass(obj) and name not in {f.name for f in dataclasses.fields(obj)}:
        raise EditError(f"{type(obj).__name__} has no field {name!r}")
    key = ("field", id(obj), name) if merge else None
    label = f"Change {name.replace('_', ' ')}"
    return SetAttribute(obj, name, value, text=label, merge_key=key)


def set_camera(shot: Any, rig: Any, *, axis: str | None = None) -> SetAttribute:
    """A camera rig change; a slider drag on one axis merges into one undo step."""
    key = ("camera", id(shot), axis) if axis else None
    text = f"Camera {axis}" if axis else "Camera move"
    return SetAttribute(shot, "camera", rig, text=text, merge_key=key)


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
    used = {item.id for item in timeline.items}
    for track in timeline.audio_tracks:
        used |= {track.id, *(c.id for c in track.clips)}
    clip_id, n = f"clip-{shot.id}", 1
    while clip_id in used:
        n += 1
        clip_id = f"clip-{shot.id}-{n}"
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


def move_shot(project: Any, source: int, dest: int) -> MoveItem:
    return MoveItem(project.shots, source, dest, text="Move shot")


def set_timeline(project: Any, timeline: Any, text: str, merge_key: Hashable = None) -> Command:
    """Replace the (immutable) timeline; the edit itself is done by `studio.timeline.timeline`."""
    return SetAttribute(project, "timeline", timeline, text=text, merge_key=merge_key)


def add_take(shot: Any, take: Any, *, select: bool = True) -> Command:
    """A finished take joins its shot; it becomes the selected take by default."""
    commands: list[Command] = [InsertItem(shot.takes, len(shot.takes), take, text="Add take")]
    if select:
        commands.append(SetAttribute(shot, "selected_take", take.id))
    return Macro("Add take", commands)
