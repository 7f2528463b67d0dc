"""Turn a screenplay (or plain prose) into a first storyboard.

`plan_storyboard(screenplay, project)` makes one establishing shot per scene heading, one
shot per action paragraph and one title-card shot per centred text (``> THE END <``):

- Prompts say the framing (from camera directions: "CLOSE ON" -> "Close-up"), the setting
  (interior or exterior, the place) and the light (from the heading's time of day: "NIGHT"
  -> "at night"; CONTINUOUS, LATER, SAME keep the light of the scene before), then the
  action. Titles never carry a number: the storyboard numbers its cards.
- The camera rig follows the directions of the action (`studio.script.direction`).
- Characters come from the character cues and from their introductions in the action
  ("MARA (30s), a coastguard in a red jacket, ..." gives Mara that description); they
  join `project.characters` (one per name) and are listed on the shots that name them or
  where they speak on screen (not in voice-over or off screen).
- Dialogue is kept on the shot it is heard over (speaker, line, parenthetical) and sets
  its length: about 2.75 words a second plus a breath a line, never shorter than the
  action needs, at most `MAX_SPEECH_SECONDS`.
- Transitions (DISSOLVE TO:, FADE OUT., SMASH CUT TO:...) become `TransitionCue`s between
  the shots they stand between; `with_transitions` puts them on a timeline. One with no
  shot on one side (FADE IN: at the very start) is written in the notes of its shot.

The shots are returned, not inserted: the caller adds them (through `studio.commands`).
`plan_prose(text, project)` makes one shot per paragraph of plain prose.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from studio.camera.rig import CameraRig, preset
from studio.errors import EditError
from studio.ids import new_id
from studio.project.model import Character, Dialogue, Project, Shot
from studio.script.direction import (
    framing,
    introductions,
    is_time_of_day,
    lighting,
    named_in,
    suggest_camera,
)
from studio.script.fountain import Element, Screenplay, ScriptError, heading_parts, read_text
from studio.timeline.timeline import CUT, Timeline, Transition, TransitionKind

__all__ = [
    "Storyboard",
    "TransitionCue",
    "plan_prose",
    "plan_shots",
    "plan_storyboard",
    "setting_phrase",
    "shot_duration",
    "speech_seconds",
    "suggest_camera",
    "transition_of",
    "with_transitions",
]

SECONDS_PER_CHARACTER = 0.06
WORDS_PER_SECOND = 2.75
SECONDS_PER_LINE = 0.5  # a breath before each line of dialogue
ESTABLISHING_SECONDS = 3.0
TITLE_CARD_SECONDS = 3.0
MIN_SECONDS, MAX_SECONDS = 2.0, 12.0
MAX_SPEECH_SECONDS = 30.0
DISSOLVE_SECONDS = 0.5  # 12 frames at 24 fps
FADE_SECONDS = 1.0
TITLE_CARD_MODEL = "previz"  # draws the text as a title card
# Character extensions of a speaker who is heard but not seen.
OFF_SCREEN = frozenset({"V.O.", "VO", "O.S.", "OS", "O.C.", "OC", "V.O", "O.S", "O.C"})

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
_CONTINUED = re.compile(r"^(?:CONT['’]?D|CONTINUED|CONT\.?)$", re.IGNORECASE)


def shot_duration(action_chars: int, base: float = 0.0) -> float:
    """Seconds for a shot with this much action text, within MIN_SECONDS..MAX_SECONDS."""
    seconds = base + SECONDS_PER_CHARACTER * action_chars
    return round(min(MAX_SECONDS, max(MIN_SECONDS, seconds)), 2)


def speech_seconds(dialogue: Sequence[Dialogue]) -> float:
    """How long the lines take to say: WORDS_PER_SECOND, plus a breath before each."""
    words = sum(d.words for d in dialogue)
    return words / WORDS_PER_SECOND + SECONDS_PER_LINE * len(dialogue)


def _with_speech(seconds: float, dialogue: Sequence[Dialogue]) -> float:
    """A shot's length once its dialogue is heard: long enough for the lines, never
    shorter than the action needs, at most MAX_SPEECH_SECONDS."""
    if not dialogue:
        return seconds
    return round(min(MAX_SPEECH_SECONDS, max(seconds, speech_seconds(dialogue))), 2)


# --- words -------------------------------------------------------------------------------


def _capitalise(text: str) -> str:
    """ "JOE'S DINER" -> "Joe's Diner"; text already in mixed case is kept."""
    if text != text.upper():
        return text
    return " ".join(w[:1].upper() + w[1:].lower() for w in text.split(" "))


def plain(text: str) -> str:
    """Text without emphasis markers and escapes, on one line."""
    return _SPACES.sub(" ", _EMPHASIS.sub(lambda m: m.group(1) or "", text)).strip()


_CAPITALS = re.compile(r"(?<![\w'’])[A-Z][A-Z'’\-]*(?:\s+[A-Z][A-Z'’\-]*)+(?![\w'’])")


def _sentence(text: str, names: Sequence[str]) -> str:
    """`text` as a prompt says it: characters' names written in capitals become names
    ("MARA" -> "Mara"), other runs of words in capitals are lowered ("THE LIFEBOAT",
    "PUSH IN"), and the first letter is a capital."""
    for name in names:
        upper = name.upper()
        pattern = rf"(?<![\w'’]){re.escape(upper)}(?![\w])"
        text = re.sub(pattern, lambda _m, n=name: n, text)
    text = _CAPITALS.sub(lambda m: m.group().lower(), text)
    if text == text.upper():
        text = text.lower()
    return text[:1].upper() + text[1:]


def _end_lines(text: str) -> str:
    """A line of an action in capitals ("CLOSE ON MARA") ends its sentence where the line
    ends, so the next line does not run on from it once the lines are joined."""
    lines = text.split("\n")
    for i, line in enumerate(lines[:-1]):
        bare = line.rstrip()
        if bare == bare.upper() and any(c.isalpha() for c in bare) and bare[-1] not in ".!?:;,-":
            lines[i] = f"{bare}."
    return "\n".join(lines)


def _join(*sentences: str) -> str:
    """Sentences joined into one text, each ending with a full stop unless it has one."""
    parts = [s.strip().rstrip(".") if s.strip()[-1:] == "." else s.strip() for s in sentences]
    text = ". ".join(p for p in parts if p)
    return text if not text or text[-1] in ".!?…" else f"{text}."


def _snippet(text: str, words: int = 6) -> str:
    parts = text.split(" ")
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


# --- settings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Setting:
    kind: str  # "Interior", "Exterior"...
    place: str  # as written in the heading
    light: str  # words of lighting; "" when the heading says none
    other: str = ""  # a time part that is neither light nor continuity ("moving")

    def phrase(self) -> str:
        place = _capitalise(self.place)
        return ", ".join(p for p in (self.kind, place, self.light, self.other) if p)


def _setting(heading: Element | None, light_before: str) -> _Setting:
    if heading is None:
        return _Setting("", "", "")
    setting, location, time = heading_parts(plain(heading.text))
    parts = [p.strip() for p in location.split(" - ")] + ([time] if time else [])
    kind = _SETTINGS.get(setting, "")
    if setting.startswith(("INT./EXT", "INT/EXT", "I/E")):
        kind = "Interior and exterior"
    times: list[str] = []
    while len(parts) > 1 and is_time_of_day(parts[-1]):
        times.insert(0, parts.pop())
    other = ""
    if len(parts) > 1 and time and parts[-1] == time:
        other = parts.pop().lower()
    words = [w for w in (lighting(t) for t in times) if w]
    # CONTINUOUS, LATER, SAME: the light goes on from the scene before.
    light = words[0] if words else light_before if times else ""
    return _Setting(kind, " - ".join(parts), light, other)


def setting_phrase(heading: Element | None, light_before: str = "") -> str:
    """ "INT. HOUSE - KITCHEN - NIGHT" -> "Interior, House - Kitchen, at night, low light"."""
    return _setting(heading, light_before).phrase()


# --- transitions -------------------------------------------------------------------------


@dataclass(frozen=True)
class TransitionCue:
    """A screenplay transition, leading into the planned shot at index `into`."""

    into: int
    kind: TransitionKind
    seconds: float  # 0 for a cut
    text: str  # as written: "DISSOLVE TO:"

    def transition(self, fps: Fraction) -> Transition:
        if self.kind is TransitionKind.CUT:
            return CUT
        return Transition(self.kind, max(1, round(self.seconds * fps)))


def transition_of(text: str) -> tuple[TransitionKind, float]:
    """The timeline transition a screenplay transition asks for, with its length: a
    dissolve crosses, a fade dips to black (or white), any cut is a cut."""
    upper = " ".join(text.upper().split())
    if "DISSOLVE" in upper:
        return TransitionKind.CROSSFADE, DISSOLVE_SECONDS
    if "WHITE" in upper and ("FADE" in upper or "FLASH" in upper or "WHITE OUT" in upper):
        return TransitionKind.DIP_WHITE, FADE_SECONDS
    if "FADE" in upper or "BLACK" in upper:
        return TransitionKind.DIP_BLACK, FADE_SECONDS
    return TransitionKind.CUT, 0.0


def with_transitions(
    timeline: Timeline, shots: Sequence[Shot], cues: Sequence[TransitionCue]
) -> tuple[Timeline, list[TransitionCue]]:
    """`timeline` with each cue's transition into the clip of its shot, and the cues that
    did not fit there (clips too short, a gap before), which stay cuts."""
    left: list[TransitionCue] = []
    for cue in cues:
        if cue.kind is TransitionKind.CUT or not 0 <= cue.into < len(shots):
            continue
        clip = next((c for c in timeline.clips() if c.shot_id == shots[cue.into].id), None)
        if clip is None:
            left.append(cue)
            continue
        try:
            timeline = timeline.set_transition(clip.id, cue.transition(timeline.fps))
        except EditError:
            left.append(cue)
    return timeline, left


# --- the plan ----------------------------------------------------------------------------


@dataclass
class _Beat:
    title: str
    prompt: str
    base: float = 0.0
    action_chars: int = 0
    camera: tuple[str, CameraRig] = ("static", CameraRig())
    names: list[str] = field(default_factory=list)  # casefolded character names
    dialogue: list[Dialogue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    model_id: str | None = None


@dataclass
class Storyboard:
    """The planned shots, in order, and the transitions between them."""

    shots: list[Shot]
    transitions: list[TransitionCue] = field(default_factory=list)


def _cast(screenplay: Screenplay) -> dict[str, tuple[str, str]]:
    """casefolded name -> (name, description) of every character, first appearance first:
    the speakers of the cues and those the action introduces."""
    cast: dict[str, tuple[str, str]] = {}
    for element in screenplay.elements:
        if element.kind == "character":
            key = element.text.casefold()
            cast.setdefault(key, (element.text, ""))
        elif element.kind == "action":
            for name, description in introductions(framing(plain(element.text))[1]):
                key = name.casefold()
                known, said = cast.get(key, (name, ""))
                cast[key] = (known, said or description)
    return cast


def _character_ids(project: Project, cast: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Ids of the characters (casefolded names), adding the missing ones to the project
    with the description the screenplay gives them."""
    known = {c.name.casefold(): c.id for c in project.characters}
    for key, (name, description) in cast.items():
        if key not in known:
            character = Character(new_id("char"), _capitalise(name), description)
            project.characters.append(character)
            known[key] = character.id
    return known


def _extension(extensions: Sequence[str]) -> str:
    return " ".join(x for x in extensions if not _CONTINUED.match(x.strip()))


class _Planner:
    def __init__(self, screenplay: Screenplay, project: Project) -> None:
        self.screenplay = screenplay
        self.project = project
        self.ids = _character_ids(project, _cast(screenplay))
        self.names = [c.name for c in project.characters]
        self.beats: list[_Beat] = []
        self.cues: list[TransitionCue] = []
        self.pending: list[str] = []  # notes waiting for the next shot
        self.transition: Element | None = None  # waiting for the shot after it

    def name_of(self, key: str) -> str:
        character = self.project.character(self.ids.get(key, ""))
        return character.name if character is not None else _capitalise(key)

    def add(self, beat: _Beat) -> _Beat:
        beat.notes[:0] = self.pending
        self.pending.clear()
        written = self.transition.text if self.transition is not None else ""
        if written and self.beats:
            kind, seconds = transition_of(written)
            self.cues.append(TransitionCue(len(self.beats), kind, seconds, written))
        elif written:
            beat.notes.insert(0, f"Transition in: {written}")
        self.transition = None
        self.beats.append(beat)
        return beat

    def link(self, beat: _Beat, text: str) -> None:
        for name in named_in(text, self.names):
            key = name.casefold()
            if key not in beat.names:
                beat.names.append(key)

    def on_transition(self, element: Element) -> None:
        if self.transition is None:
            self.transition = element
            return
        kept, _ = transition_of(self.transition.text)
        if kept is TransitionKind.CUT:  # CUT TO: then DISSOLVE TO: -> the dissolve
            self.transition = element

    def plan(self) -> Storyboard:
        light = ""
        for scene in self.screenplay.scenes():
            setting = _setting(scene.heading, light)
            light = setting.light or light
            self.scene(scene.heading, scene.elements, setting)
        if self.transition is not None and self.beats:
            self.beats[-1].notes.append(f"Transition out: {self.transition.text}")
        if self.pending and self.beats:
            self.beats[-1].notes.extend(self.pending)
        shots = [self.shot(b) for b in self.beats]
        return Storyboard(shots, self.cues)

    def scene(self, heading: Element | None, elements: Sequence[Element], setting: _Setting):
        phrase = setting.phrase()
        place = _capitalise(setting.place) or (plain(heading.text) if heading else "")
        current: _Beat | None = None
        if heading is not None:
            current = self.add(_Beat(place, f"Wide shot. {phrase}.", ESTABLISHING_SECONDS))
            if setting.kind in ("Exterior", "Establishing"):
                current.camera = ("zoom_out", preset("zoom_out", 0.3))
        speaker: Element | None = None
        parenthetical = ""
        for element in elements:
            kind = element.kind
            if kind not in ("character", "dialogue", "parenthetical", "lyric", "note"):
                speaker, parenthetical = None, ""
            if kind == "action" and plain(element.text):
                current = self.action(element, phrase, place)
            elif kind == "centered" and plain(element.text):
                current = None
                self.title_card(plain(element.text))
            elif kind == "character":
                speaker, parenthetical = element, ""
            elif kind == "parenthetical":
                parenthetical = plain(element.text).strip("()").strip()
            elif kind in ("dialogue", "lyric") and plain(element.text):
                if kind == "lyric" and not parenthetical:
                    parenthetical = "singing"
                if current is None:
                    who = self.name_of(speaker.text.casefold()) if speaker else "Someone"
                    prompt = _join(phrase, f"{who} speaks")
                    current = self.add(_Beat(f"{place}: {who}" if place else who, prompt))
                self.line(current, speaker, parenthetical, plain(element.text))
                parenthetical = ""
            elif kind == "transition":
                self.on_transition(element)
            elif kind == "note":
                (current.notes if current else self.pending).append(f"Note: {element.text}")

    def action(self, element: Element, phrase: str, place: str) -> _Beat:
        text = plain(_end_lines(element.text))
        words, rest = framing(text)
        rest = _sentence(rest, self.names)
        prompt = _join(words, phrase, rest)
        summary = _snippet(rest or text)
        beat = self.add(_Beat(f"{place}: {summary}" if place else summary, prompt))
        beat.action_chars = len(text)
        beat.camera = suggest_camera(text)
        self.link(beat, text)
        return beat

    def title_card(self, text: str) -> None:
        seconds = max(TITLE_CARD_SECONDS, len(text.split()) / WORDS_PER_SECOND + 1.0)
        beat = self.add(_Beat(_snippet(_capitalise(text)), text, base=min(seconds, MAX_SECONDS)))
        beat.model_id = TITLE_CARD_MODEL
        beat.notes.append("Title card")

    def line(self, beat: _Beat, speaker: Element | None, parenthetical: str, text: str) -> None:
        key = speaker.text.casefold() if speaker else ""
        extension = _extension(speaker.extensions) if speaker else ""
        who = self.name_of(key) if speaker else "Song"
        beat.dialogue.append(Dialogue(who, text, parenthetical, extension))
        off_screen = any(x.strip().upper() in OFF_SCREEN for x in extension.split())
        if speaker and not off_screen and key not in beat.names:
            beat.names.append(key)

    def shot(self, beat: _Beat) -> Shot:
        seconds = shot_duration(beat.action_chars, beat.base)
        duration = _with_speech(seconds, beat.dialogue)
        notes = [f"Camera: {beat.camera[0].replace('_', ' ')}", *beat.notes]
        if beat.dialogue and speech_seconds(beat.dialogue) > MAX_SPEECH_SECONDS:
            said = round(speech_seconds(beat.dialogue))
            notes.append(
                f"Dialogue: about {said} s of lines, more than the {MAX_SPEECH_SECONDS:g} s "
                "the shot holds: split it into shots"
            )
        extra = {"model_id": beat.model_id} if beat.model_id else {}
        return self.project.new_shot(
            title=beat.title,
            prompt=beat.prompt,
            duration=duration,
            camera=beat.camera[1],
            characters=[self.ids[k] for k in beat.names if k in self.ids],
            notes="\n".join(notes),
            dialogue=tuple(beat.dialogue),
            **extra,
        )


def plan_storyboard(screenplay: Screenplay, project: Project) -> Storyboard:
    """Shots and transitions for `screenplay`; its characters join `project.characters`."""
    return _Planner(screenplay, project).plan()


def plan_shots(screenplay: Screenplay, project: Project) -> list[Shot]:
    """The shots of `plan_storyboard`, without the transitions between them."""
    return plan_storyboard(screenplay, project).shots


def plan_prose(text: str | bytes, project: Project) -> list[Shot]:
    """One shot per paragraph (separated by blank lines) of plain prose."""
    clean = read_text(text)
    paragraphs = [plain(p) for p in re.split(r"\n\s*\n", clean)]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        raise ScriptError(1, "the text is empty")
    shots = []
    for paragraph in paragraphs:
        name, rig = suggest_camera(paragraph)
        shots.append(
            project.new_shot(
                title=_snippet(paragraph),
                prompt=paragraph,
                duration=shot_duration(len(paragraph)),
                camera=rig,
                notes=f"Camera: {name.replace('_', ' ')}",
            )
        )
    return shots
