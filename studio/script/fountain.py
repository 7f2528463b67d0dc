"""A parser of the Fountain screenplay format (https://fountain.io/syntax).

`parse(source)` turns a Fountain text (or its UTF-8 bytes) into a `Screenplay`: the title
page as a dict (keys lower-cased, multi-line values joined with newlines) and a flat tuple of
frozen `Element`s. `Screenplay.scenes()` groups the elements under their scene headings.

Element kinds: scene_heading, action, character, dialogue, parenthetical, transition,
centered, note, section, synopsis, page_break, lyric. Emphasis markers (``*italic*``,
``**bold**``, ``_underline_``) and escapes are left in the text as written. Boneyard
(``/* ... */``) is removed; notes (``[[ ... ]]``) become `note` elements placed after the
element they were written in (or on their own where they stand alone).

Malformed input (an unclosed boneyard or note, control characters, bytes that are not
UTF-8, an empty text) raises `ScriptError` naming the line; anything else is parsed
leniently.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from studio.errors import StudioError

KINDS: tuple[str, ...] = (
    "scene_heading",
    "action",
    "character",
    "dialogue",
    "parenthetical",
    "transition",
    "centered",
    "note",
    "section",
    "synopsis",
    "page_break",
    "lyric",
)


class ScriptError(StudioError):
    """A screenplay text cannot be read; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Element:
    """One screenplay element; `line` is where it starts in the source (1-based).

    `extensions` holds a character cue's extensions without brackets ("V.O.", "CONT'D"),
    `dual` marks a cue written with a trailing '^', `forced` an element forced with its
    marker ('.', '!', '@', '>'), `scene_number` a heading's ``#number#`` and `depth` a
    section's number of '#'.
    """

    kind: str
    text: str
    line: int = 0
    extensions: tuple[str, ...] = ()
    dual: bool = False
    forced: bool = False
    scene_number: str = ""
    depth: int = 0


@dataclass(frozen=True)
class Scene:
    """A scene heading (None for what comes before the first) and the elements under it."""

    heading: Element | None
    elements: tuple[Element, ...]

    @property
    def setting(self) -> str:
        return heading_parts(self.heading.text)[0] if self.heading else ""

    @property
    def location(self) -> str:
        return heading_parts(self.heading.text)[1] if self.heading else ""

    @property
    def time(self) -> str:
        return heading_parts(self.heading.text)[2] if self.heading else ""

    def of_kind(self, kind: str) -> list[Element]:
        return [e for e in self.elements if e.kind == kind]


@dataclass(frozen=True)
class Screenplay:
    elements: tuple[Element, ...] = ()
    title_page: dict[str, str] = field(default_factory=dict)

    def scenes(self) -> list[Scene]:
        """Elements grouped under their headings; a leading group has heading None."""
        scenes: list[Scene] = []
        heading: Element | None = None
        body: list[Element] = []
        for element in self.elements:
            if element.kind == "scene_heading":
                if heading is not None or body:
                    scenes.append(Scene(heading, tuple(body)))
                heading, body = element, []
            else:
                body.append(element)
        if heading is not None or body:
            scenes.append(Scene(heading, tuple(body)))
        return scenes

    def of_kind(self, kind: str) -> list[Element]:
        return [e for e in self.elements if e.kind == kind]

    def characters(self) -> list[str]:
        """The names of the character cues, first appearance first, without duplicates."""
        seen: dict[str, str] = {}
        for e in self.elements:
            if e.kind == "character":
                seen.setdefault(e.text.casefold(), e.text)
        return list(seen.values())


# --- headings ----------------------------------------------------------------------------

_HEADING = re.compile(r"^(?:INT\.?/EXT|INT/EXT|I/E|INT|EXT|EST)(?:\.|\s)", re.IGNORECASE)
_SETTING = re.compile(r"^(INT\.?/EXT\.?|I/E\.?|INT\.?|EXT\.?|EST\.?)(?=\s|$)\s*", re.IGNORECASE)
_SCENE_NUMBER = re.compile(r"\s*#([\w.\-]*)#\s*$")
_DASH = re.compile(r"\s+[-\u2013\u2014]+\s+")


def heading_parts(text: str) -> tuple[str, str, str]:
    """(setting, location, time) of a heading: "INT. HOUSE - DAY" -> ("INT.", "HOUSE", "DAY")."""
    text = text.strip()
    match = _SETTING.match(text)
    setting = match.group(1).upper() if match else ""
    rest = text[match.end() :] if match else text
    parts = _DASH.split(rest.strip())
    if len(parts) >= 2:
        return setting, " - ".join(parts[:-1]).strip(), parts[-1].strip()
    return setting, rest.strip(), ""


# --- reading and comments ----------------------------------------------------------------

_NOTE_MARK = "\x00"  # stands for a note in the text; never in valid input
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f"}
_TOKENS = re.compile(r"/\*|\[\[|\n")
_INLINE_NOTE = re.compile(r"(?<=\S) ?\x00|\x00")


def read_text(source: str | bytes) -> str:
    """`source` as clean text: UTF-8 decoded, newlines normalised, no control characters."""
    if isinstance(source, bytes | bytearray):
        try:
            source = bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = bytes(source).count(b"\n", 0, error.start) + 1
            raise ScriptError(line, "the text is not UTF-8 (is this a binary file?)") from None
    if not isinstance(source, str):
        raise ScriptError(1, f"expected text, found {type(source).__name__}")
    text = source.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    for index, char in enumerate(text):
        if char in _ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs"):
            line = text.count("\n", 0, index) + 1
            raise ScriptError(
                line, f"unexpected control character U+{ord(char):04X} (is this a binary file?)"
            )
    return text.replace("\f", " ").replace("\t", "    ")


@dataclass(frozen=True)
class _Line:
    text: str  # without notes or boneyard
    number: int
    notes: tuple[Element, ...]

    @property
    def blank(self) -> bool:
        return not self.text.strip() and not self.notes

    @property
    def notes_only(self) -> bool:
        return not self.text.strip() and bool(self.notes)


def _split_lines(text: str) -> list[_Line]:
    """Lines with boneyard removed and notes taken out, each with its source line number."""
    raw: list[tuple[str, int]] = []
    notes: list[Element] = []
    buffer: list[str] = []
    line = start = 1
    pos = 0
    while True:
        match = _TOKENS.search(text, pos)
        if match is None:
            buffer.append(text[pos:])
            break
        buffer.append(text[pos : match.start()])
        token = match.group()
        if token == "\n":
            raw.append(("".join(buffer), start))
            buffer = []
            line += 1
            start = line
            pos = match.end()
            continue
        close = "*/" if token == "/*" else "]]"
        end = text.find(close, match.end())
        if end < 0:
            what = "boneyard '/*' is never closed with '*/'"
            if token == "[[":
                what = "note '[[' is never closed with ']]'"
            raise ScriptError(line, what)
        body = text[match.end() : end]
        if token == "[[":
            note = "\n".join(part.strip() for part in body.strip().split("\n"))
            notes.append(Element("note", note, line))
            buffer.append(_NOTE_MARK)
        line += body.count("\n")
        pos = end + 2
    raw.append(("".join(buffer), start))
    out: list[_Line] = []
    queue = iter(notes)
    for content, number in raw:
        count = content.count(_NOTE_MARK)
        mine = tuple(next(queue) for _ in range(count))
        out.append(_Line(_INLINE_NOTE.sub("", content), number, mine))
    return out


# --- title page --------------------------------------------------------------------------

_TITLE_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9 ._'-]*):(.*)$")


def _is_continuation(text: str) -> bool:
    return text.startswith("   ") and bool(text.strip())


def _title_page(lines: list[_Line]) -> tuple[dict[str, str], int, list[Element]]:
    """The title page and the index of the first body line (0 where there is none)."""
    first = 0
    while first < len(lines) and lines[first].blank:
        first += 1
    if first >= len(lines):
        return {}, 0, []
    match = _TITLE_KEY.match(lines[first].text)
    if match is None or _HEADING.match(lines[first].text.strip()):
        return {}, 0, []
    if _is_transition(lines[first].text.strip()):
        return {}, 0, []
    page: dict[str, str] = {}
    notes: list[Element] = []
    key = ""
    end = first
    while end < len(lines) and not lines[end].blank:
        line = lines[end]
        notes.extend(line.notes)
        if line.notes_only:
            end += 1
            continue
        match = _TITLE_KEY.match(line.text)
        if match is not None and not line.text.startswith(" "):
            key = match.group(1).strip().lower()
            value = match.group(2).strip()
            page[key] = value if key not in page else f"{page[key]}\n{value}".strip("\n")
        elif key and (_is_continuation(line.text) or not page[key]):
            value = line.text.strip()
            page[key] = f"{page[key]}\n{value}" if page[key] else value
        else:
            return {}, 0, []
        end += 1
    return page, end, notes


# --- body --------------------------------------------------------------------------------

_PAGE_BREAK = re.compile(r"^={3,}$")
_CUE = re.compile(r"^(?P<name>[^()]*?)\s*(?P<ext>(?:\([^()]*\)\s*)*)$")
_EXTENSION = re.compile(r"\(([^()]*)\)")
_TRANSITION_WORDS = {"FADE IN:", "FADE OUT.", "FADE OUT:", "FADE TO BLACK.", "FADE TO BLACK:"}


def _is_transition(s: str) -> bool:
    if not s or s != s.upper() or not any(c.isalpha() for c in s):
        return False
    return s.endswith("TO:") or s in _TRANSITION_WORDS


# Lines in capitals that direct the camera ("CLOSE ON MARA", "JOE'S POV") are action, even
# with text right under them; a cue forced with '@' is a cue all the same.
_CAMERA_LINE = re.compile(
    r"^(?:[\w'’ .-]+['’]S\s+)?(?:CLOSE ON|CLOSE[- ]?UP|CLOSEUP|EXTREME CLOSE|ANGLE ON|INSERT|"
    r"P\.?O\.?V\.?|WIDE (?:SHOT|ON|ANGLE)|AERIAL|OVERHEAD|TRACKING|PUSH IN|PULL BACK|"
    r"BACK TO|INTERCUT|SUPER|ESTABLISHING|ECU|MCU|CU)(?![\w'’])"
)


def _cue(s: str, forced: bool) -> tuple[str, tuple[str, ...], bool] | None:
    """(name, extensions, dual) if `s` can be a character cue."""
    if not forced and _CAMERA_LINE.match(s):
        return None
    dual = s.endswith("^")
    if dual:
        s = s[:-1].rstrip()
    match = _CUE.match(s)
    if match is None:
        return None
    name = match.group("name").strip()
    if not name or not any(c.isalpha() for c in name):
        return None
    if not forced and name != name.upper():
        return None
    extensions = tuple(x.strip() for x in _EXTENSION.findall(match.group("ext")))
    return name, extensions, dual


class _Parser:
    def __init__(self, lines: list[_Line], start: int) -> None:
        self.lines = lines
        self.i = start
        self.out: list[Element] = []

    def next_has_text(self) -> bool:
        """Whether the line after the current one (skipping lone notes) has text."""
        j = self.i + 1
        while j < len(self.lines) and self.lines[j].notes_only:
            j += 1
        return j < len(self.lines) and not self.lines[j].blank

    def run(self) -> list[Element]:
        after_blank = True
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.blank:
                after_blank = True
                self.i += 1
                continue
            if line.notes_only:
                self.out.extend(line.notes)
                self.i += 1
                continue
            self.element(line, after_blank)
            after_blank = False
        return self.out

    def single(self, kind: str, text: str, line: _Line, **extra) -> None:
        self.out.append(Element(kind, text, line.number, **extra))
        self.out.extend(line.notes)
        self.i += 1

    def element(self, line: _Line, after_blank: bool) -> None:
        s = line.text.strip()
        if _PAGE_BREAK.match(s):
            return self.single("page_break", "", line)
        if s.startswith("#"):
            body = s.lstrip("#")
            return self.single("section", body.strip(), line, depth=len(s) - len(body))
        if s.startswith("="):
            return self.single("synopsis", s[1:].strip(), line)
        if s.startswith("~"):
            return self.single("lyric", s[1:].strip(), line)
        if s.startswith(">") and s.endswith("<") and len(s) >= 2:
            return self.single("centered", s[1:-1].strip(), line)
        if s.startswith(">") and s[1:].strip():
            return self.single("transition", s[1:].strip(), line, forced=True)
        if s.startswith("!"):
            return self.action(line, s[1:], forced=True)
        if s.startswith(".") and len(s) > 1 and s[1] not in ". ":
            return self.heading(line, s[1:], forced=True)
        if s.startswith("@") and (cue := _cue(s[1:].strip(), forced=True)):
            return self.dialogue(line, cue, forced=True)
        if after_blank and _HEADING.match(s):
            return self.heading(line, s, forced=False)
        if after_blank and _is_transition(s):
            return self.single("transition", s, line)
        if after_blank and self.next_has_text() and (cue := _cue(s, forced=False)):
            return self.dialogue(line, cue, forced=False)
        return self.action(line, line.text, forced=False)

    def heading(self, line: _Line, s: str, forced: bool) -> None:
        number = ""
        match = _SCENE_NUMBER.search(s)
        if match:
            number = match.group(1)
            s = s[: match.start()]
        self.single("scene_heading", s.strip(), line, forced=forced, scene_number=number)

    def action(self, line: _Line, first: str, forced: bool) -> None:
        texts = [first.strip()]
        notes = list(line.notes)
        self.i += 1
        while self.i < len(self.lines) and not self.lines[self.i].blank:
            nxt = self.lines[self.i]
            notes.extend(nxt.notes)
            if not nxt.notes_only:
                texts.append(nxt.text.strip())
            self.i += 1
        self.out.append(Element("action", "\n".join(texts), line.number, forced=forced))
        self.out.extend(notes)

    def dialogue(self, line: _Line, cue: tuple[str, tuple[str, ...], bool], forced: bool) -> None:
        name, extensions, dual = cue
        self.out.append(Element("character", name, line.number, extensions, dual, forced))
        self.out.extend(line.notes)
        self.i += 1
        speech: list[str] = []
        speech_line = 0
        notes: list[Element] = []

        def flush() -> None:
            nonlocal speech
            if speech:
                self.out.append(Element("dialogue", "\n".join(speech).strip("\n"), speech_line))
                speech = []
            self.out.extend(notes)
            notes.clear()

        while self.i < len(self.lines):
            nxt = self.lines[self.i]
            if nxt.blank and len(nxt.text) < 2:
                break
            notes.extend(nxt.notes)
            s = nxt.text.strip()
            self.i += 1
            if nxt.notes_only:
                continue
            if s.startswith("(") and s.endswith(")"):
                flush()
                self.out.append(Element("parenthetical", s, nxt.number))
            elif s.startswith("~"):
                flush()
                self.out.append(Element("lyric", s[1:].strip(), nxt.number))
            else:
                if not speech:
                    speech_line = nxt.number
                speech.append(s)
        flush()


def parse(source: str | bytes) -> Screenplay:
    """The screenplay written in `source`; ScriptError if it cannot be read."""
    text = read_text(source)
    if not text.strip():
        raise ScriptError(1, "the screenplay is empty")
    lines = _split_lines(text)
    page, start, notes = _title_page(lines)
    elements = notes + _Parser(lines, start).run()
    return Screenplay(tuple(elements), page)
