"""The words of a screenplay that direct the picture rather than tell the story.

- Time of day in a scene heading becomes words of lighting for the prompt (`lighting`);
  continuity words (CONTINUOUS, LATER, SAME) say nothing of the light and are dropped.
- Camera directions in the action (CLOSE ON, INSERT, POV, AERIAL, TRACKING, WIDE, ANGLE
  ON, PUSH IN) become a framing said in words and a camera move on the rig
  (`suggest_camera`, `framing`).
- A character's introduction ("MARA (30s), a young coastguard in a red jacket, ...")
  gives the bible a description (`introductions`), and the characters named in the action
  are found in it (`named_in`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from studio.camera.rig import CameraRig, preset, with_move

# --- time of day -----------------------------------------------------------------------

# Most specific first: "LATE AFTERNOON" is afternoon, "LATER THAT NIGHT" is night.
_LIGHTING: tuple[tuple[str, str], ...] = (
    (r"magic hour|golden hour", "golden hour light"),
    (r"pre-?dawn|before dawn", "before dawn, deep blue light"),
    (r"dawn|first light|daybreak", "at dawn, cold first light"),
    (r"sunrise", "at sunrise, low golden light"),
    (r"sunset|sundown", "at sunset, low golden light"),
    (r"dusk", "at dusk, fading light"),
    (r"twilight|blue hour", "at twilight, blue light"),
    (r"midnight|night|nightfall", "at night, low light"),
    (r"evening", "in the evening, warm low light"),
    (r"afternoon", "afternoon daylight"),
    (r"noon|midday|mid-day", "harsh midday sun"),
    (r"morning", "soft morning light"),
    (r"day|daytime|daylight", "daylight"),
)
_CONTINUITY = re.compile(
    r"^(?:continuous|cont(?:inued|['’]d)?|later|moments later|seconds later|minutes later|"
    r"a (?:moment|few (?:moments|seconds|minutes)) later|same(?: time)?|simultaneous|"
    r"back to scene|intercut|meanwhile)$"
)


def _has_word(text: str, pattern: str) -> bool:
    return re.search(rf"(?<![\w-])(?:{pattern})(?![\w-])", text) is not None


def lighting(time: str) -> str | None:
    """Words of lighting for a heading's time of day: "NIGHT" -> "at night, ...".

    "" for continuity words (CONTINUOUS, LATER, MOMENTS LATER, SAME...) that say nothing
    of the light, and None for anything else (a year, MOVING, FLASHBACK), which the caller
    may keep as written.
    """
    lower = " ".join(time.casefold().replace("(", " ").replace(")", " ").split())
    if not lower:
        return ""
    for pattern, words in _LIGHTING:
        if _has_word(lower, pattern):
            return words
    if _CONTINUITY.match(lower.rstrip(".")):
        return ""
    return None


def is_time_of_day(part: str) -> bool:
    """Whether one " - " part of a heading speaks of time or continuity, not of the place."""
    return lighting(part) is not None


# --- camera and framing ----------------------------------------------------------------


def aerial_rig() -> CameraRig:
    """A high crane looking down: the camera rises while it tilts down."""
    return with_move(preset("crane_up"), "tilt", 0.0, -20.0)


def _truck(direction: float) -> CameraRig:
    return with_move(CameraRig(), "truck", 0.0, direction)


@dataclass(frozen=True)
class _Direction:
    pattern: str  # lower-case words
    framing: str  # said in the prompt; "" for a pure camera move
    move: str  # the name of the camera move
    loose: bool = True  # also recognised in ordinary lower-case prose

    @property
    def anywhere(self) -> re.Pattern[str]:
        return re.compile(rf"(?<![\w'’])(?:{self.pattern})(?![\w'’])", re.IGNORECASE)

    @property
    def leading(self) -> re.Pattern[str]:
        """The direction opening a text, with its owner ("MARA'S POV") and what joins it
        to the rest ("CLOSE ON", "AERIAL -", "INSERT:")."""
        return re.compile(
            rf"^\s*(?:(?P<owner>[A-Za-z][\w'’.-]*(?: [A-Za-z][\w'’.-]*){{0,2}})['’]s\s+)?"
            rf"(?P<words>{self.pattern})(?![\w'’])"
            rf"(?P<join>\s+(?:on|of|to)(?!\w))?\s*(?P<mark>[:.,\-–—]*)\s*",
            re.IGNORECASE,
        )

    def capitals(self, text: str) -> bool:
        return any(m.group().isupper() for m in self.anywhere.finditer(text))

    def found(self, text: str) -> bool:
        """In capitals anywhere, at the start in any case, or (loose ones) anywhere."""
        if self.loose and self.anywhere.search(text):
            return True
        return bool(self.leading.match(text)) or self.capitals(text)


_DIRECTIONS: tuple[_Direction, ...] = (
    _Direction(r"extreme close[- ]?ups?|extreme close on|ecu", "Extreme close-up", "dolly_in"),
    _Direction(r"close[- ]?ups?|closeup|close on|close shot|cu", "Close-up", "dolly_in"),
    _Direction(r"insert(?: shot)?", "Insert close-up", "static", loose=False),
    _Direction(r"p\.?o\.?v\.?|point of view", "Point of view shot", "handheld"),
    _Direction(
        r"aerial(?: shot| view)?|overhead(?: shot)?|bird['’]?s[- ]?eye(?: view)?|birdseye",
        "Aerial shot, high angle looking down",
        "aerial",
    ),
    _Direction(r"push(?:es|ing)? in", "", "push_in"),
    _Direction(r"pull(?:s|ing)? (?:back|out)", "", "dolly_out"),
    _Direction(r"pan(?:s|ning)?", "", "pan"),
    _Direction(r"track(?:s|ing)? with|tracking(?: shot)?", "Tracking shot", "truck"),
    _Direction(r"tracks?", "", "truck", loose=False),
    _Direction(r"follow(?:s|ing)?", "", "follow"),
    _Direction(r"wide(?: shot| view| angle)|wide on|establishing(?: shot)?", "Wide shot", "wide"),
    _Direction(r"wide", "Wide shot", "wide", loose=False),
    _Direction(r"angle on", "Medium shot", "static", loose=False),
)


def _rig(move: str, lower: str) -> tuple[str, CameraRig]:
    left = _has_word(lower, "left")
    right = _has_word(lower, "right")
    if move == "dolly_in":
        return "dolly_in", preset("dolly_in", 0.3)
    if move == "push_in":
        return "dolly_in", preset("dolly_in")
    if move == "pan":
        name = "pan_left" if left and not right else "pan_right"
        return name, preset(name)
    if move == "aerial":
        return "crane_up_tilt_down", aerial_rig()
    if move == "truck":
        return ("truck_left", _truck(-1.0)) if left and not right else ("truck_right", _truck(1.0))
    if move == "follow":
        if left != right:
            return ("truck_left", _truck(-1.0)) if left else ("truck_right", _truck(1.0))
        return "dolly_in", preset("dolly_in")
    if move == "wide":
        return "zoom_out", preset("zoom_out", 0.3)
    if move == "handheld":
        return "handheld", preset("handheld")
    if move == "dolly_out":
        return "dolly_out", preset("dolly_out")
    return "static", CameraRig()


def suggest_camera(text: str) -> tuple[str, CameraRig]:
    """A camera move suggested by the words of `text`, as (move name, rig)."""
    for direction in _DIRECTIONS:
        if direction.found(text):
            return _rig(direction.move, text.casefold())
    return "static", CameraRig()


def framing(text: str) -> tuple[str, str]:
    """(framing words, the text without the camera direction it opens with).

    "CLOSE ON the radio." -> ("Close-up", "the radio."); "MARA'S POV - the boat." ->
    ("Point of view shot from Mara", "the boat."). A direction in capitals later in the
    text gives its framing and leaves the text whole. ("", text) when there is none, or
    when plain words at the start already say it ("Tracking left with the car").
    """
    for direction in _DIRECTIONS:
        if not direction.framing:
            continue
        match = direction.leading.match(text)
        if match is not None:
            said = match.group("words")
            apart = match.group("join") or match.group("mark") or said.isupper()
            if not apart and not said.casefold().endswith(" on"):
                return "", text
            words = direction.framing
            if match.group("owner"):
                words = f"{words} from {_title(match.group('owner'))}"
            return words, text[match.end() :]
        if direction.capitals(text):
            return direction.framing, text
    return "", text


def _title(words: str) -> str:
    if words != words.upper():
        return words
    return " ".join(w[:1].upper() + w[1:].lower() for w in words.split(" "))


# --- characters ------------------------------------------------------------------------

_WORD = r"[A-Z](?:[A-Z'’\-]*[A-Z])?"
_NAME = rf"(?:(?:MR|MRS|MS|DR|MISS)\.?\s)?{_WORD}(?:\s{_WORD}){{0,2}}"
_INTRO = re.compile(
    rf"(?<![\w'’])(?P<name>{_NAME})(?![\w'’])"
    r"(?:\s*\((?P<age>[^()\n]{1,40})\))?"
    r"(?:\s*,\s*(?P<who>[^,.;:!?\n]{2,120}?)\s*(?=[,.;:!?\n]|$))?"
)
# Words in capitals that are screen directions, not names.
_NOT_NAMES = frozenset(
    (
        "A AN ANGLE AERIAL BACK BANG BOOM CLOSE CONTINUOUS CONT'D CRASH CU CUT DAY DISSOLVE ECU "
        "END EXT FADE FLASHBACK IN INSERT INT LATER NIGHT O.S OK ON OS OUT OVER PAN POV "
        "PUSH PULL SFX SHOT SMASH SUPER THE TITLE TO TRACKING VO V.O WIDE WE"
    ).split()
)
# How a description may not start: these begin an action, not a description.
_NOT_DESCRIPTIONS = frozenset(
    "and but or then so he she they it we you i who which that as when while where "
    "says said asks asked shouts whispers looks turns runs walks".split()
)


def _age_words(age: str) -> str:
    age = " ".join(age.split())
    if re.match(r"^(?:\d|early|mid|late)", age, re.IGNORECASE):
        return f"aged {age}"
    return age


def _clean_name(name: str) -> str:
    words = name.split()
    while words and words[0].rstrip(".") in _NOT_NAMES:
        words.pop(0)
    return " ".join(words)


def introductions(text: str) -> list[tuple[str, str]]:
    """(NAME, description) of each character introduced in `text`: a name in capitals
    followed by an age in brackets and/or a description set off by commas."""
    found: list[tuple[str, str]] = []
    for match in _INTRO.finditer(text):
        name = _clean_name(match.group("name"))
        age, who = match.group("age"), match.group("who")
        if sum(c.isalpha() for c in name) < 2 or (age is None and who is None):
            continue
        parts = []
        if who is not None:
            first = who.split()[0]
            if who[0].islower() and first.casefold() not in _NOT_DESCRIPTIONS:
                parts.append(who.strip())
        if age is not None and age.strip():
            parts.append(_age_words(age))
        if parts:
            found.append((name, ", ".join(parts)))
    return found


def named_in(text: str, names: list[str]) -> list[str]:
    """The names of `names` that `text` mentions, in capitals ("MARA") or as a name is
    written ("Mara"), first mention first; possessives count ("MARA'S")."""
    spots: list[tuple[int, str]] = []
    for name in names:
        forms = {name.upper(), _title(name.upper()), name}
        pattern = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
        match = re.search(rf"(?<![\w'’])(?:{pattern})(?![\w])", text)
        if match:
            spots.append((match.start(), name))
    return [name for _, name in sorted(spots)]
