"""Turn a screenplay (or plain prose) into a first list of shots.

`plan_shots(screenplay, project)` makes one establishing shot per scene heading and one shot
per action paragraph in the scene. Each prompt names the setting (interior or exterior,
location, time of day) and the action; the duration follows the text (about 0.06 s per
character of action plus 2.5 s per speech or lyric line heard over the shot, clamped to
2..12 s); the camera is suggested from the words of the action. Speakers found in character
cues are added to `project.characters` (one per name, extensions stripped) and listed on the
shots they speak over. Transitions are written in the notes of the shot they leave (or, at
the very start, the shot they lead into), and Fountain notes in the notes of their shot.

The shots are returned, not inserted: the caller adds them (through `studio.commands`).
`plan_prose(text, project)` makes one shot per paragraph of plain prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from studio.camera.rig import CameraRig, preset, with_move
from studio.ids import new_id
from studio.project.model import Character, Project, Shot
from studio.script.fountain import Element, Screenplay, ScriptError, heading_parts, read_text

SECONDS_PER_CHARACTER = 0.06
SECONDS_PER_LINE = 2.5
ESTABLISHING_SECONDS = 3.0
MIN_SECONDS, MAX_SECONDS = 2.0, 12.0

_SETTINGS = {
    "INT.": "Interior",
    "INT": "Interior",
    "EXT.": "Exterior",
    "EXT": "Exterior",
    "EST.": "Establishing",
    "EST": "Establishing",
}
_EMPHASIS = re.compile(r"\\(.)|[*_]")
_SPACES = re.compile(r"\s+")


def shot_duration(action_chars: int, heard_lines: int, base: float = 0.0) -> float:
    """Seconds for a shot with this much action text and this many lines heard over it."""
    seconds = base + SECONDS_PER_CHARACTER * action_chars + SECONDS_PER_LINE * heard_lines
    return round(min(MAX_SECONDS, max(MIN_SECONDS, seconds)), 2)


def _has(text: str, *words: str) -> bool:
    return any(re.search(rf"(?<![\w']){re.escape(w)}(?!\w)", text) for w in words)


def suggest_camera(text: str) -> tuple[str, CameraRig]:
    """A camera move suggested by the words of `text`, as (move name, rig)."""
    lower = text.casefold()
    left, right = _has(lower, "left"), _has(lower, "right")
    if _has(lower, "close on", "close-up", "close up", "closeup", "extreme close"):
        return "dolly_in", preset("dolly_in", 0.3)
    if _has(lower, "pan", "pans", "panning"):
        name = "pan_left" if left and not right else "pan_right"
        return name, preset(name)
    if _has(lower, "aerial", "overhead", "bird's-eye", "bird's eye", "birds-eye", "birdseye"):
        return "crane_down", preset("crane_down")
    if _has(lower, "tracking", "track", "tracks", "follows", "follow", "following"):
        if left != right:
            name = "truck_left" if left else "truck_right"
            return name, with_move(CameraRig(), "truck", 0.0, -1.0 if left else 1.0)
        return "dolly_in", preset("dolly_in")
    if _has(lower, "wide", "wide shot", "establishing"):
        return "zoom_out", preset("zoom_out", 0.3)
    if _has(lower, "pov", "p.o.v.", "point of view"):
        return "handheld", preset("handheld")
    return "static", preset("static")


def _capitalise(text: str) -> str:
    """ "JOE'S DINER" -> "Joe's Diner"; text already in mixed case is kept."""
    if text != text.upper():
        return text
    return " ".join(w[:1].upper() + w[1:].lower() for w in text.split(" "))


def plain(text: str) -> str:
    """Text without emphasis markers and escapes, on one line."""
    return _SPACES.sub(" ", _EMPHASIS.sub(lambda m: m.group(1) or "", text)).strip()


def setting_phrase(heading: Element | None) -> str:
    """ "INT. HOUSE - KITCHEN - DAY" -> "Interior, House - Kitchen, day"."""
    if heading is None:
        return ""
    setting, location, time = heading_parts(plain(heading.text))
    parts = []
    if setting.startswith(("INT./EXT", "INT/EXT", "I/E")):
        parts.append("Interior and exterior")
    elif setting:
        parts.append(_SETTINGS.get(setting, ""))
    if location:
        parts.append(_capitalise(location))
    if time:
        parts.append(time.lower())
    return ", ".join(p for p in parts if p)


@dataclass
class _Beat:
    title: str
    prompt: str
    base: float = 0.0
    action_chars: int = 0
    heard: int = 0
    camera: tuple[str, CameraRig] = ("static", CameraRig())
    speakers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _character_ids(project: Project, names: list[str]) -> dict[str, str]:
    """Ids of the characters named (casefolded), adding the missing ones to the project."""
    known = {c.name.casefold(): c.id for c in project.characters}
    for name in names:
        key = name.casefold()
        if key not in known:
            character = Character(id=new_id("char"), name=_capitalise(name))
            project.characters.append(character)
            known[key] = character.id
    return known


def plan_shots(screenplay: Screenplay, project: Project) -> list[Shot]:
    """Shots for `screenplay`; its speakers are added to `project.characters`."""
    ids = _character_ids(project, screenplay.characters())
    beats: list[_Beat] = []
    pending: list[str] = []  # notes waiting for the next shot

    def add(beat: _Beat) -> _Beat:
        beat.notes[:0] = pending
        pending.clear()
        beats.append(beat)
        return beat

    number = 0
    for scene in screenplay.scenes():
        setting = setting_phrase(scene.heading)
        place = plain(scene.location) if scene.heading else ""
        current: _Beat | None = None
        if scene.heading is not None:
            number += 1
            title = f"{number}. {_capitalise(place) or plain(scene.heading.text)}"
            current = add(_Beat(title, f"Wide shot. {setting}.", ESTABLISHING_SECONDS))
            if scene.setting.startswith(("EXT", "EST")):
                current.camera = ("zoom_out", preset("zoom_out", 0.3))
        count = 0
        speaker = ""
        for element in scene.elements:
            if element.kind == "action" and plain(element.text):
                count += 1
                text = plain(element.text)
                name = _capitalise(place) if place else "Scene"
                prompt = f"{setting}. {text}" if setting else text
                current = add(_Beat(f"{number}.{count} {name}", prompt))
                current.action_chars = len(text)
                current.camera = suggest_camera(element.text)
            elif element.kind == "character":
                speaker = element.text
            elif element.kind in ("dialogue", "lyric") and plain(element.text):
                if current is None:
                    who = _capitalise(speaker) if speaker else "Someone"
                    current = add(_Beat(f"{number}.0 {who}", f"{setting}. {who} speaks."))
                    current.prompt = current.prompt.lstrip(". ")
                current.heard += 1
                if speaker and speaker not in current.speakers:
                    current.speakers.append(speaker)
            elif element.kind == "transition":
                if beats:
                    beats[-1].notes.append(f"Transition: {element.text}")
                else:
                    pending.append(f"Transition in: {element.text}")
            elif element.kind == "note":
                (current.notes if current else pending).append(f"Note: {element.text}")
    if pending and beats:
        beats[-1].notes.extend(pending)
    return [
        project.new_shot(
            title=b.title,
            prompt=b.prompt,
            duration=shot_duration(b.action_chars, b.heard, b.base),
            camera=b.camera[1],
            characters=[ids[s.casefold()] for s in b.speakers],
            notes="\n".join([f"Camera: {b.camera[0].replace('_', ' ')}", *b.notes]),
        )
        for b in beats
    ]


def plan_prose(text: str | bytes, project: Project) -> list[Shot]:
    """One shot per paragraph (separated by blank lines) of plain prose."""
    clean = read_text(text)
    paragraphs = [plain(p) for p in re.split(r"\n\s*\n", clean)]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        raise ScriptError(1, "the text is empty")
    shots = []
    for number, paragraph in enumerate(paragraphs, start=1):
        name, rig = suggest_camera(paragraph)
        words = paragraph.split(" ")
        title = " ".join(words[:6]) + (" …" if len(words) > 6 else "")
        shots.append(
            project.new_shot(
                title=f"{number}. {title}",
                prompt=paragraph,
                duration=shot_duration(len(paragraph), 0),
                camera=rig,
                notes=f"Camera: {name.replace('_', ' ')}",
            )
        )
    return shots
