"""What an edit changed in a project: which shots' fields, whether shots came, went or
moved, the timeline, the bible (characters and styles), the project's own settings.

`ProjectSnapshot` remembers the project as it was and compares it with the project as it
is, so the answer never depends on a command saying what it touched: any edit, its undo
and its redo are described the same way. Only what changed is copied again, so after one
shot's edit the next comparison costs one pass over the shots in C (about 4 ms for 10,000
of them: the fields of an untouched shot are the very objects remembered).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import compress
from operator import ne
from typing import Any

from studio.project.model import Project, Shot, shot_id_of

# Fields that hold lists: remembered as copies, since an edit may change them in place.
_LIST_FIELDS = ("takes", "references", "characters")
TAKE_FIELDS = frozenset({"takes", "selected_take"})
SETTINGS_FIELDS = ("title", "fps", "width", "height", "default_model", "notes")


@dataclass
class ProjectChanges:
    """One edit's changes. `shots` maps a shot id to the names of its changed fields; a
    shot that came or went is not in it (`order` says the list of shots changed)."""

    shots: dict[str, frozenset[str]] = field(default_factory=dict)
    order: bool = False  # shots added, removed or reordered
    timeline: bool = False
    bible: bool = False
    settings: bool = False  # title, size, rate, default model, notes, sound files

    def __bool__(self) -> bool:
        return bool(self.shots) or self.order or self.timeline or self.bible or self.settings

    def takes(self) -> list[str]:
        """The shots whose takes or picked take changed."""
        return [shot_id for shot_id, names in self.shots.items() if names & TAKE_FIELDS]


def _shot_state(shot: Shot) -> dict[str, Any]:
    state = dict(vars(shot))
    for name in _LIST_FIELDS:
        state[name] = list(state[name])
    return state


def _bible_state(project: Project) -> tuple:
    return tuple(
        (
            type(item).__name__,
            item.id,
            item.name,
            item.description,
            tuple(item.references),
            item.loras,
        )
        for item in (*project.characters, *project.styles)
    )


def _settings_state(project: Project) -> tuple:
    audio = tuple((m.id, m.name, m.path) for m in project.audio)
    return (*(getattr(project, name) for name in SETTINGS_FIELDS), audio)


class ProjectSnapshot:
    """The project as it was at the last `compare` (or at creation)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._order = [shot.id for shot in project.shots]
        # Each shot's remembered fields, in the storyboard's order, and by id.
        self._states = [_shot_state(shot) for shot in project.shots]
        self._shots = dict(zip(self._order, self._states, strict=True))
        self._timeline = project.timeline
        self._bible = _bible_state(project)
        self._settings = _settings_state(project)

    def compare(self) -> ProjectChanges:
        """What changed since the last call; the snapshot then matches the project."""
        project = self.project
        shots = project.shots
        changes = ProjectChanges()
        order = list(map(shot_id_of, shots))
        if order != self._order:
            changes.order = True
            remembered = self._shots
            # A shot that came is remembered as it is now (`order` says it came); one that
            # went is forgotten.
            self._states = [remembered.get(shot.id) or _shot_state(shot) for shot in shots]
            self._order = order
            self._shots = dict(zip(order, self._states, strict=True))
        states = self._states
        # The scan runs in C (map, compress): a shot whose fields are the very objects
        # remembered costs one dictionary comparison, and only a changed one reaches Python.
        for i in compress(range(len(shots)), map(ne, map(vars, shots), states)):
            shot, before = shots[i], states[i]
            changes.shots[shot.id] = frozenset(
                name for name, value in vars(shot).items() if before.get(name) != value
            )
            states[i] = self._shots[shot.id] = _shot_state(shot)
        if project.timeline is not self._timeline:
            changes.timeline = project.timeline != self._timeline
            self._timeline = project.timeline
        bible = _bible_state(project)
        if bible != self._bible:
            changes.bible, self._bible = True, bible
        settings = _settings_state(project)
        if settings != self._settings:
            changes.settings, self._settings = True, settings
        return changes
