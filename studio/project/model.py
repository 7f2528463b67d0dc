"""The project model: a project, its shots and their takes, the character and style bible.

Mutable dataclasses edited only through `studio.commands`; immutable parts (camera rig,
timeline, requests) are replaced whole. `project_to_dict` / `project_from_dict` give the
JSON of `project.json`; reading validates every field and raises `ProjectError` naming the
JSON path of the first problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from operator import attrgetter
from typing import Any

from studio.camera.adherence import Adherence
from studio.camera.rig import CameraRig, rig_from_dict, rig_to_dict
from studio.errors import ProjectError
from studio.ids import Places, new_id
from studio.jobs import CameraMode, GenerationRequest, Profile, Quantization
from studio.project import validate as v
from studio.project.keyframes import ShotKeyframe, keyframes_to_json, read_keyframes
from studio.project.loras import Lora, loras_to_json, read_loras
from studio.timeline.timeline import Timeline, timeline_from_dict, timeline_to_dict

shot_id_of = attrgetter("id")  # a shot's id, in C (long storyboards are scanned with it)
DEFAULT_MODEL = "previz"
TAKE_ID = re.compile(r"^[0-9a-f]{64}$")
SHOT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def check_relative_path(value: Any, path: str) -> str:
    """A path inside the project folder, written with forward slashes; never escapes it."""
    problem = v.relative_path_problem(value)
    if problem is not None:
        raise ProjectError(path, problem)
    return value


def _read_path(value: Any, path: str) -> str:
    return check_relative_path(value, path)


def _read_id(value: Any, path: str) -> str:
    if not isinstance(value, str) or not SHOT_ID.match(value):
        raise ProjectError(path, "expected an id of letters, digits, '-' or '_'")
    return value


def _check_unique(ids: list[str], path: str, what: str) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            raise ProjectError(f"{path}[{i}].id", f"duplicate {what} id {ident!r}")
        seen.add(ident)


@dataclass
class BibleEntry:
    """An entry of the character and style bible: a name, a description in words,
    reference images (project-relative paths) and LoRAs (`studio.project.loras`), which
    every shot of the style or with the character renders with. A Character and a Style
    are never equal."""

    id: str
    name: str
    description: str = ""
    references: list[str] = field(default_factory=list)
    # Replaced whole (the entries are frozen).
    loras: tuple[Lora, ...] = ()


class Character(BibleEntry):
    """A recurring character: injected into prompts; its image can be a keyframe."""


class Style(BibleEntry):
    """A look shared by shots: palette, lens, grain, era, said in words and images."""


def _bible_to_dict(item: BibleEntry) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "references": list(item.references),
        # Written only when there are some: an entry without LoRAs keeps the file it had.
        **({"loras": loras_to_json(item.loras)} if item.loras else {}),
    }


def _bible_from_dict(cls: type[BibleEntry], data: Any, path: str):
    d = v.expect_dict(data, path, ("id", "name", "description", "references", "loras"))
    return cls(
        id=_read_id(d.get("id"), f"{path}.id"),
        name=v.get_str(d, "name", path, nonempty=True),
        description=v.get_str(d, "description", path, ""),
        references=v.get_list_of(d, "references", path, _read_path, default=()),
        loras=read_loras(d, "loras", path),
    )


@dataclass
class AudioMedia:
    """A sound file of the project (music bed, voice-over), under `media/`."""

    id: str
    name: str
    path: str


@dataclass(frozen=True)
class Take:
    """One rendered result of a shot; its id is the hash of the request that made it.

    What the engine measured on its frames comes with it from the take's manifest:
    `adherence` (its camera against its rig, `studio.camera.adherence`) and, for a take
    that continues from another, `colour_jump` (CIEDE2000 between the upstream take's last
    frame and its first). Both are None when not measured (older takes). A final rendered
    from a draft (`studio.finalize`) names that draft take in `draft`, as its manifest does."""

    id: str
    request: GenerationRequest
    media: str
    created: str  # ISO 8601, UTC
    adherence: Adherence | None = None
    colour_jump: float | None = None
    draft: str | None = None

    @property
    def is_draft(self) -> bool:
        return self.request.profile == Profile.DRAFT

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "request": self.request.to_dict(),
            "media": self.media,
            "created": self.created,
        }
        # Written only when measured: a take without them keeps the file it had.
        if self.adherence is not None:
            out["adherence"] = self.adherence.to_dict()
        if self.colour_jump is not None:
            out["colour_jump"] = self.colour_jump
        if self.draft is not None:
            out["draft"] = self.draft
        return out

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Take:
        keys = ("id", "request", "media", "created", "adherence", "colour_jump", "draft")
        d = v.expect_dict(data, path, keys)
        take_id = v.get_str(d, "id", path)
        if not TAKE_ID.match(take_id):
            raise ProjectError(f"{path}.id", "expected a 64-digit hexadecimal request hash")
        request = GenerationRequest.from_dict(d.get("request"), f"{path}.request")
        if request.hash != take_id:
            raise ProjectError(f"{path}.id", "does not match the hash of the take's request")
        return cls(
            id=take_id,
            request=request,
            media=check_relative_path(d.get("media"), f"{path}.media"),
            created=v.get_str(d, "created", path),
            **measures_from_dict(d, path),
        )


def measures_from_dict(data: dict[str, Any], path: str) -> dict[str, Any]:
    """`adherence`, `colour_jump` and `draft` of a take (the keys of `Take`) from JSON data
    that may have them (a project's take, a take's manifest); absent or null ones are None."""
    adherence = data.get("adherence")
    jump = data.get("colour_jump")
    draft = data.get("draft")
    if draft is not None and not (isinstance(draft, str) and TAKE_ID.match(draft)):
        raise ProjectError(f"{path}.draft", "expected the 64-digit id of a draft take")
    return {
        "draft": draft,
        "adherence": None
        if adherence is None
        else Adherence.from_dict(adherence, f"{path}.adherence"),
        "colour_jump": None
        if jump is None
        else v.check_float(jump, f"{path}.colour_jump", min_value=0.0),
    }


@dataclass(frozen=True)
class Dialogue:
    """A line of dialogue heard over a shot, as the screenplay writes it: who speaks
    (`speaker`, a name), what they say (`line`), how (`parenthetical`, without its
    brackets: "quietly") and where from (`extension`: "V.O.", "O.S."; empty when the speaker
    is on screen)."""

    speaker: str
    line: str
    parenthetical: str = ""
    extension: str = ""

    @property
    def words(self) -> int:
        return len(self.line.split())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"speaker": self.speaker, "line": self.line}
        if self.parenthetical:
            out["parenthetical"] = self.parenthetical
        if self.extension:
            out["extension"] = self.extension
        return out

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Dialogue:
        d = v.expect_dict(data, path, ("speaker", "line", "parenthetical", "extension"))
        return cls(
            speaker=v.get_str(d, "speaker", path, nonempty=True),
            line=v.get_str(d, "line", path, nonempty=True),
            parenthetical=v.get_str(d, "parenthetical", path, ""),
            extension=v.get_str(d, "extension", path, ""),
        )


@dataclass
class Shot:
    id: str
    title: str = ""
    prompt: str = ""
    negative_prompt: str = ""
    seed: int = 0
    seed_locked: bool = True
    duration: float = 5.0  # seconds; frames follow from fps and the model's frame rule
    fps: Fraction = Fraction(24)
    width: int = 832
    height: int = 480
    model_id: str = DEFAULT_MODEL
    camera: CameraRig = field(default_factory=CameraRig)
    camera_mode: CameraMode = CameraMode.PROMPT
    profile: Profile = Profile.QUALITY
    # How the model's weights are stored while it renders (`Quantization`): for small GPUs.
    quantization: Quantization = Quantization.NONE
    keyframe: str | None = None
    # The picture the shot ends on, for a model that renders from a first to a last frame.
    end_keyframe: str | None = None
    references: list[str] = field(default_factory=list)
    characters: list[str] = field(default_factory=list)
    style: str | None = None
    continue_from_previous: bool = False
    # Match colour and exposure to the previous shot at the join (chained shots).
    match_colour: bool = True
    takes: list[Take] = field(default_factory=list)
    selected_take: str | None = None
    notes: str = ""
    # Lines heard over the shot, in order; replaced whole (the entries are frozen).
    dialogue: tuple[Dialogue, ...] = ()
    # The shot's own LoRAs, after its style's and its characters' (replaced whole).
    loras: tuple[Lora, ...] = ()
    # Pictures the shot passes through, in time order (`studio.project.keyframes`).
    keyframes: tuple[ShotKeyframe, ...] = ()
    # End on the next shot's start picture (instead of `end_keyframe`).
    end_on_next: bool = False

    @property
    def frames(self) -> int:
        return max(1, round(self.duration * self.fps))

    def take(self, take_id: str | None) -> Take | None:
        return next((t for t in self.takes if t.id == take_id), None)

    @property
    def current_take(self) -> Take | None:
        return self.take(self.selected_take)

    def final_of(self, draft_id: str) -> Take | None:
        """The take rendered from the draft `draft_id` by finalizing it (the latest)."""
        return next((t for t in reversed(self.takes) if t.draft == draft_id), None)


_SHOT_KEYS = (
    "id title prompt negative_prompt seed seed_locked duration fps width height model_id "
    "camera camera_mode profile keyframe end_keyframe references characters style "
    "continue_from_previous "
    "match_colour "
    "takes selected_take notes dialogue loras keyframes end_on_next quantization"
).split()


def shot_to_dict(shot: Shot) -> dict[str, Any]:
    return {
        "id": shot.id,
        "title": shot.title,
        "prompt": shot.prompt,
        "negative_prompt": shot.negative_prompt,
        "seed": shot.seed,
        "seed_locked": shot.seed_locked,
        "duration": shot.duration,
        "fps": v.fraction_to_json(shot.fps),
        "width": shot.width,
        "height": shot.height,
        "model_id": shot.model_id,
        "camera": rig_to_dict(shot.camera),
        "camera_mode": shot.camera_mode.value,
        "profile": shot.profile.value,
        "keyframe": shot.keyframe,
        # Written only when set: a shot without one keeps the file it had.
        **({"end_keyframe": shot.end_keyframe} if shot.end_keyframe else {}),
        "references": list(shot.references),
        "characters": list(shot.characters),
        "style": shot.style,
        "continue_from_previous": shot.continue_from_previous,
        "match_colour": shot.match_colour,
        "takes": [t.to_dict() for t in shot.takes],
        "selected_take": shot.selected_take,
        "notes": shot.notes,
        # Written only when there is some: a shot without dialogue keeps the file it had.
        **({"dialogue": [d.to_dict() for d in shot.dialogue]} if shot.dialogue else {}),
        **({"loras": loras_to_json(shot.loras)} if shot.loras else {}),
        **(
            {"quantization": shot.quantization.value}
            if shot.quantization != Quantization.NONE
            else {}
        ),
        **({"keyframes": keyframes_to_json(shot.keyframes)} if shot.keyframes else {}),
        **({"end_on_next": True} if shot.end_on_next else {}),
    }


def shot_from_dict(data: Any, path: str) -> Shot:
    d = v.expect_dict(data, path, _SHOT_KEYS)
    keyframe = d.get("keyframe")
    end_keyframe = d.get("end_keyframe")
    style = d.get("style")
    takes = v.get_list_of(d, "takes", path, Take.from_dict, default=())
    _check_unique([t.id for t in takes], f"{path}.takes", "take")
    selected = v.get_optional_str(d, "selected_take", path)
    if selected is not None and selected not in {t.id for t in takes}:
        raise ProjectError(f"{path}.selected_take", f"no take {selected!r} in this shot")
    return Shot(
        id=_read_id(d.get("id"), f"{path}.id"),
        title=v.get_str(d, "title", path, ""),
        prompt=v.get_str(d, "prompt", path, ""),
        negative_prompt=v.get_str(d, "negative_prompt", path, ""),
        seed=v.get_int(d, "seed", path, 0, min_value=0, max_value=2**63 - 1),
        seed_locked=v.get_bool(d, "seed_locked", path, True),
        duration=v.get_float(d, "duration", path, min_value=0.04, max_value=3600.0),
        fps=v.get_fraction(d, "fps", path),
        width=v.get_int(d, "width", path, min_value=16, max_value=8192),
        height=v.get_int(d, "height", path, min_value=16, max_value=8192),
        model_id=v.get_str(d, "model_id", path, DEFAULT_MODEL, nonempty=True),
        camera=rig_from_dict(d.get("camera", {}), f"{path}.camera"),
        camera_mode=v.get_enum(d, "camera_mode", path, CameraMode, CameraMode.PROMPT),
        profile=v.get_enum(d, "profile", path, Profile, Profile.QUALITY),
        quantization=v.get_enum(d, "quantization", path, Quantization, Quantization.NONE),
        keyframe=None if keyframe is None else check_relative_path(keyframe, f"{path}.keyframe"),
        end_keyframe=None
        if end_keyframe is None
        else check_relative_path(end_keyframe, f"{path}.end_keyframe"),
        references=v.get_list_of(d, "references", path, _read_path, default=()),
        characters=v.get_list_of(d, "characters", path, _read_id, default=()),
        style=None if style is None else _read_id(style, f"{path}.style"),
        continue_from_previous=v.get_bool(d, "continue_from_previous", path, False),
        match_colour=v.get_bool(d, "match_colour", path, True),
        takes=takes,
        selected_take=selected,
        notes=v.get_str(d, "notes", path, ""),
        dialogue=tuple(v.get_list_of(d, "dialogue", path, Dialogue.from_dict, default=())),
        loras=read_loras(d, "loras", path),
        keyframes=read_keyframes(d, "keyframes", path),
        end_on_next=v.get_bool(d, "end_on_next", path, False),
    )


@dataclass
class Project:
    title: str = "Untitled"
    fps: Fraction = Fraction(24)
    width: int = 832
    height: int = 480
    default_model: str = DEFAULT_MODEL
    styles: list[Style] = field(default_factory=list)
    characters: list[Character] = field(default_factory=list)
    shots: list[Shot] = field(default_factory=list)
    timeline: Timeline = field(default_factory=Timeline)
    audio: list[AudioMedia] = field(default_factory=list)
    notes: str = ""
    # Where each shot id was last found in `shots` (`studio.ids.Places`), so that finding a
    # shot in a long storyboard does not scan it while the list is unchanged.
    _places: Places = field(default_factory=Places, init=False, repr=False, compare=False)

    def shot(self, shot_id: str) -> Shot | None:
        i = self._find(shot_id)
        return None if i < 0 else self.shots[i]

    def shot_index(self, shot_id: str) -> int:
        i = self._find(shot_id)
        if i < 0:
            raise KeyError(shot_id)
        return i

    def _find(self, shot_id: str) -> int:
        """The index of the shot with this id in `shots`, -1 when there is none."""
        return self._places.find(self.shots, shot_id, shot_id_of)

    def character(self, char_id: str) -> Character | None:
        return next((c for c in self.characters if c.id == char_id), None)

    def style(self, style_id: str | None) -> Style | None:
        return next((s for s in self.styles if s.id == style_id), None)

    def new_shot(self, **fields: Any) -> Shot:
        """A shot with the project's defaults and a fresh stable id."""
        base: dict[str, Any] = {
            "id": new_id("shot"),
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
            "model_id": self.default_model,
        }
        base.update(fields)
        return Shot(**base)

    def referenced_takes(self) -> set[str]:
        return {t.id for s in self.shots for t in s.takes}

    def media_paths(self) -> set[str]:
        """Every project-relative path the project points at."""
        paths = {a.path for a in self.audio}
        for item in [*self.characters, *self.styles]:
            paths.update(item.references)
            paths.update(lora.file for lora in item.loras if not lora.in_models_folder)
        for s in self.shots:
            paths.update(s.references)
            paths.update(k.image for k in s.keyframes)
            paths.update(lora.file for lora in s.loras if not lora.in_models_folder)
            if s.keyframe:
                paths.add(s.keyframe)
            if s.end_keyframe:
                paths.add(s.end_keyframe)
            paths.update(t.media for t in s.takes)
        for track in self.timeline.audio_tracks:
            paths.update(c.media for c in track.clips)
        return paths


_PROJECT_KEYS = (
    "title fps width height default_model styles characters shots timeline audio notes".split()
)


def project_to_dict(project: Project) -> dict[str, Any]:
    """The body of `project.json` (without the format header)."""
    return {
        "title": project.title,
        "fps": v.fraction_to_json(project.fps),
        "width": project.width,
        "height": project.height,
        "default_model": project.default_model,
        "styles": [_bible_to_dict(s) for s in project.styles],
        "characters": [_bible_to_dict(c) for c in project.characters],
        "shots": [shot_to_dict(s) for s in project.shots],
        "timeline": timeline_to_dict(project.timeline),
        "audio": [{"id": a.id, "name": a.name, "path": a.path} for a in project.audio],
        "notes": project.notes,
    }


def _audio_from_dict(data: Any, path: str) -> AudioMedia:
    d = v.expect_dict(data, path, ("id", "name", "path"))
    return AudioMedia(
        id=_read_id(d.get("id"), f"{path}.id"),
        name=v.get_str(d, "name", path, ""),
        path=check_relative_path(d.get("path"), f"{path}.path"),
    )


def project_from_dict(data: Any, path: str = "$") -> Project:
    d = v.expect_dict(data, path, _PROJECT_KEYS)
    styles = v.get_list_of(d, "styles", path, lambda x, p: _bible_from_dict(Style, x, p), ())
    characters = v.get_list_of(
        d, "characters", path, lambda x, p: _bible_from_dict(Character, x, p), ()
    )
    shots = v.get_list_of(d, "shots", path, shot_from_dict, default=())
    audio = v.get_list_of(d, "audio", path, _audio_from_dict, default=())
    _check_unique([s.id for s in styles], f"{path}.styles", "style")
    _check_unique([c.id for c in characters], f"{path}.characters", "character")
    _check_unique([s.id for s in shots], f"{path}.shots", "shot")
    _check_unique([a.id for a in audio], f"{path}.audio", "audio")
    char_ids = {c.id for c in characters}
    style_ids = {s.id for s in styles}
    for i, shot in enumerate(shots):
        for j, cid in enumerate(shot.characters):
            if cid not in char_ids:
                raise ProjectError(f"{path}.shots[{i}].characters[{j}]", f"no character {cid!r}")
        if shot.style is not None and shot.style not in style_ids:
            raise ProjectError(f"{path}.shots[{i}].style", f"no style {shot.style!r}")
    timeline = timeline_from_dict(d.get("timeline", {}), f"{path}.timeline")
    shot_ids = {s.id for s in shots}
    for i, clip in enumerate(timeline.items):
        shot_id = getattr(clip, "shot_id", None)
        if shot_id is not None and shot_id not in shot_ids:
            raise ProjectError(f"{path}.timeline.items[{i}].shot_id", f"no shot {shot_id!r}")
    return Project(
        title=v.get_str(d, "title", path, "Untitled"),
        fps=v.get_fraction(d, "fps", path),
        width=v.get_int(d, "width", path, min_value=16, max_value=8192),
        height=v.get_int(d, "height", path, min_value=16, max_value=8192),
        default_model=v.get_str(d, "default_model", path, DEFAULT_MODEL, nonempty=True),
        styles=styles,
        characters=characters,
        shots=shots,
        timeline=timeline,
        audio=audio,
        notes=v.get_str(d, "notes", path, ""),
    )
