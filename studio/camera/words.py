"""Camera words: a rig's moves said the way each model family's prompt guide says them.

`studio.camera.rig.describe` reads a rig into `Move`s (dominant first) and a handheld
shake level; this module turns them into text. Without a family (or for one that is not in
`VOCABULARIES`) the words are the studio's own cinematography terms ("slow dolly in while
panning left"). A family's vocabulary follows the camera words its authors' prompt guide
and example prompts use, each with its source and a short quote (`Vocabulary.sources`), so
the text appended to a prompt is the kind the model was trained and documented to read:
Wan takes short comma-separated phrases ("camera slowly pushes in, camera pans left"),
LTX-Video, HunyuanVideo and CogVideoX read whole sentences ("The camera moves forward and
pans to the left."). A move a guide does not name is said in its style with the plain term.

Pure text work: no numpy, no file read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SPEEDS = ("slow", "", "fast")
SHAKES = ("subtle", "", "strong")
BACK_AND_FORTH = "back and forth"


@dataclass(frozen=True)
class Move:
    """One camera move, as words are made of it.

    `kind` is an axis of the rig ("pan", "tilt", "roll", "truck", "pedestal", "dolly",
    "zoom", "orbit"), or "whip_pan" (a fast, wide pan) or "dolly_zoom" (a dolly whose
    change of subject size a zoom cancels). `sign` is +1 for the axis's positive way (pan
    right, tilt up, dolly in, zoom in, orbit right...), -1 for the other way and 0 for a
    move that comes back to where it started. `speed` is "slow", "fast" or "".
    """

    kind: str
    sign: int = 1
    speed: str = ""


@dataclass(frozen=True)
class Source:
    """Where a vocabulary's words come from: a published guide and a short quote of it."""

    title: str
    url: str
    quote: str


@dataclass(frozen=True)
class Vocabulary:
    """How one model family's prompt guide words camera moves.

    `moves` maps a move kind to (template, positive way, negative way, both ways): the
    template's "{dir}" takes the way the move goes and "{speed}" the speed adverb and a
    space (nothing at normal speed). `sentence` families get "The camera " + the moves joined with
    "and" + "."; the others a comma-separated list of phrases.
    """

    name: str
    sentence: bool
    moves: Mapping[str, tuple[str, str, str, str]]
    static: str
    handheld: tuple[str, str, str]  # a subtle, a plain and a strong shake
    sources: tuple[Source, ...]
    slow: str = "slowly"
    fast: str = "quickly"


# The studio's own words: (verb, gerund, positive way, negative way, suffix).
_DEFAULT = {
    "pan": ("pan", "panning", "right", "left", ""),
    "whip_pan": ("whip pan", "whip panning", "right", "left", ""),
    "tilt": ("tilt", "tilting", "up", "down", ""),
    "roll": ("roll", "rolling", "clockwise", "counterclockwise", ""),
    "truck": ("truck", "trucking", "right", "left", ""),
    "pedestal": ("crane", "craning", "up", "down", ""),
    "dolly": ("dolly", "dollying", "in", "out", ""),
    "zoom": ("zoom", "zooming", "in", "out", ""),
    "orbit": ("orbit", "orbiting", "right", "left", " around the subject"),
}

_SIDEWAYS = ("to the right", "to the left")
_UP_DOWN = ("up", "down", "up and down")
_ACROSS = "from side to side"


def _m(
    template: str, positive: str = "", negative: str = "", both: str = BACK_AND_FORTH
) -> tuple[str, str, str, str]:
    """One row of `Vocabulary.moves`."""
    return template, positive, negative, both


_PLAIN_SENTENCE_MOVES = {
    "pan": _m("{speed}pans {dir}", *_SIDEWAYS),
    "whip_pan": _m("whip pans {dir}", *_SIDEWAYS),
    "tilt": _m("{speed}tilts {dir}", *_UP_DOWN),
    "roll": _m("{speed}rolls {dir}", "clockwise", "counterclockwise"),
    "truck": _m("{speed}trucks {dir}", *_SIDEWAYS, _ACROSS),
    "pedestal": _m("{speed}cranes {dir}", *_UP_DOWN),
    "dolly": _m("{speed}dollies {dir}", "in", "out", "in and out"),
    "zoom": _m("{speed}zooms {dir}", "in", "out", "in and out"),
    "orbit": _m("{speed}orbits {dir} around the subject", *_SIDEWAYS),
    "dolly_zoom": _m("{speed}makes a dolly zoom"),
}
_HANDHELD_SENTENCES = (
    "The camera is handheld, with a subtle shake.",
    "The camera is handheld.",
    "The camera is handheld, with a strong shake.",
)

VOCABULARIES: dict[str, Vocabulary] = {
    "wan": Vocabulary(
        name="Wan 2.1 / 2.2",
        sentence=False,
        moves={
            "pan": _m("camera {speed}pans {dir}", "right", "left"),
            "whip_pan": _m("whip pan {dir}", "right", "left"),
            "tilt": _m("camera {speed}tilts {dir}", *_UP_DOWN),
            "roll": _m("camera {speed}rolls {dir}", "clockwise", "counterclockwise"),
            "truck": _m("tracking shot, camera {speed}moves {dir}", "right", "left", _ACROSS),
            "pedestal": _m("camera {speed}moves {dir}", *_UP_DOWN),
            "dolly": _m("camera {speed}{dir}", "pushes in", "pulls out", "pushes in and out"),
            "zoom": _m("camera {speed}zooms {dir}", "in", "out", "in and out"),
            "orbit": _m("camera {speed}orbits {dir} around the subject", "right", "left"),
            "dolly_zoom": _m("dolly zoom"),
        },
        static="fixed camera",
        handheld=(
            "handheld camera, slight shake",
            "handheld camera",
            "handheld camera, strong shake",
        ),
        sources=(
            Source(
                "Qianwen video generation prompt guide (Wan models)",
                "https://www.aizs.com.cn/101/workspace/skills/qianwen-video-generation/"
                "references/prompt-guide.md",
                "Camera move | camera pushes in, camera pulls out, camera moves left, fixed "
                "camera, orbiting ... Camera: Explicit direction and speed — camera slowly "
                "pushes in",
            ),
            Source(
                "Wan 2.2 Prompting Guide (wowify.ai)",
                "https://www.wowify.ai/p/wan22",
                "Camera Movement: Wan 2.2 usually behaves best when you keep the camera "
                "instructions simple and readable. slow push-in, dolly in, dolly out, pan "
                "left / right, tilt up / down, tracking shot, orbit around subject, "
                "locked-off shot",
            ),
        ),
    ),
    "ltx": Vocabulary(
        name="LTX-Video",
        sentence=True,
        moves={
            **_PLAIN_SENTENCE_MOVES,
            "truck": _m("{speed}moves {dir}", "from left to right", "from right to left", _ACROSS),
            "pedestal": _m("{speed}moves {dir}", *_UP_DOWN),
        },
        static="The camera remains stationary.",
        handheld=_HANDHELD_SENTENCES,
        sources=(
            Source(
                "LTX-Video README, Model User Guide: Prompt Engineering",
                "https://github.com/Lightricks/LTX-Video#-prompt-engineering",
                "Include specific movements, appearances, camera angles, and environmental "
                "details - all in a single flowing paragraph. ... Specify camera angles and "
                "movements",
            ),
            Source(
                "LTX-Video README, example prompts",
                "https://github.com/Lightricks/LTX-Video#introduction",
                "The camera pans across a cityscape of tall buildings ... The camera moves "
                "from left to right ... the camera remains stationary, focused on the doorway",
            ),
            Source(
                "LTX-2 README, camera-control LoRAs",
                "https://github.com/Lightricks/LTX-2#full-model-list",
                "LTX-2-19b-LoRA-Camera-Control-Dolly-In ... Dolly-Out ... Jib-Up ... Static",
            ),
        ),
    ),
    "hunyuan": Vocabulary(
        name="HunyuanVideo",
        sentence=True,
        moves={
            **_PLAIN_SENTENCE_MOVES,
            "truck": _m("{speed}moves {dir}", *_SIDEWAYS, _ACROSS),
            "pedestal": _m("{speed}moves {dir}", "upward", "downward", "up and down"),
            "dolly": _m("{speed}moves {dir}", "forward", "back"),
            "orbit": _m("{speed}circles {dir} around the subject", *_SIDEWAYS),
            "whip_pan": _m("swiftly pans {dir}", *_SIDEWAYS),
        },
        static="The camera remains static.",
        handheld=_HANDHELD_SENTENCES,
        sources=(
            Source(
                "HunyuanVideo 1.5 Prompt Handbook, Camera Movement Library",
                "https://github.com/Tencent-Hunyuan/HunyuanVideo-1.5/blob/main/assets/"
                "HunyuanVideo_1_5_Prompt_Handbook_EN.md",
                "The camera moves upward/downward ... The camera moves to the left/right ... "
                "The camera moves forward | Dolly in ... The camera moves back | Dolly out ... "
                "The camera tilts up/down ... The camera pans to the left/right ... The camera "
                "circles around ... The camera remains static",
            ),
            Source(
                "HunyuanVideo README, Prompt Rewrite",
                "https://github.com/Tencent/HunyuanVideo#prompt-rewrite",
                "The Master mode enhances the description of aspects such as composition, "
                "lighting, and camera movement",
            ),
        ),
    ),
    "cogvideox": Vocabulary(
        name="CogVideoX",
        sentence=True,
        moves=_PLAIN_SENTENCE_MOVES,
        static="The camera remains still.",
        handheld=_HANDHELD_SENTENCES,
        sources=(
            Source(
                "CogVideo, inference/convert_demo.py",
                "https://github.com/THUDM/CogVideo/blob/main/inference/convert_demo.py",
                "The CogVideoX model is pre-trained and fine-tuned using longer and more "
                "detailed prompts.",
            ),
            Source(
                "CogVideo, inference/gradio_web_demo.py, example prompts",
                "https://github.com/THUDM/CogVideo/blob/main/inference/gradio_web_demo.py",
                "The camera follows behind a white vintage SUV with a black roof rack as it "
                "speeds up a steep dirt road",
            ),
        ),
    ),
}


def vocabulary(family: str | None) -> Vocabulary | None:
    """The family's vocabulary; None for the studio's own words (no or an unknown family)."""
    return VOCABULARIES.get(family or "")


def _check(moves: Sequence[Move], shake: str | None) -> None:
    for move in moves:
        if move.kind not in _DEFAULT and move.kind != "dolly_zoom":
            raise ValueError(f"unknown camera move {move.kind!r}")
        if move.speed not in SPEEDS or move.sign not in (-1, 0, 1):
            raise ValueError(f"a move's speed is one of {SPEEDS} and its sign -1, 0 or 1")
    if shake is not None and shake not in SHAKES:
        raise ValueError(f"a shake is one of {SHAKES}, not {shake!r}")


def _way(sign: int, positive: str, negative: str, both: str = BACK_AND_FORTH) -> str:
    return both if sign == 0 else positive if sign > 0 else negative


def _default_phrases(move: Move) -> tuple[str, str]:
    if move.kind == "dolly_zoom":
        return "dolly zoom", "dolly zooming"
    verb, gerund, positive, negative, suffix = _DEFAULT[move.kind]
    way = _way(move.sign, positive, negative)
    return f"{verb} {way}{suffix}", f"{gerund} {way}{suffix}"


def _default(moves: Sequence[Move], shake: str | None) -> str:
    handheld = None if shake is None else f"{shake} handheld camera shake".strip()
    if not moves:
        return handheld or "static camera"
    first, _ = _default_phrases(moves[0])
    text = f"{moves[0].speed} {first}".strip()
    if len(moves) > 1:
        text += " while " + " and ".join(_default_phrases(m)[1] for m in moves[1:])
    if handheld:
        text += f" with {handheld}"
    return text


def _family_phrase(words: Vocabulary, move: Move) -> str:
    template, *ways = words.moves[move.kind]
    adverb = {"slow": words.slow, "fast": words.fast}.get(move.speed, "")
    return template.format(speed=f"{adverb} " if adverb else "", dir=_way(move.sign, *ways))


def _and(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def phrase(moves: Sequence[Move], shake: str | None = None, family: str | None = None) -> str:
    """The moves (dominant first) and a handheld shake ("subtle", "" or "strong"; None for
    none) in the words of `family`'s prompt guide, or the studio's own without one."""
    _check(moves, shake)
    words = vocabulary(family)
    if words is None:
        return _default(moves, shake)
    handheld = None if shake is None else words.handheld[SHAKES.index(shake)]
    parts = [_family_phrase(words, move) for move in moves]
    if words.sentence:
        said = [f"The camera {_and(parts)}."] if parts else []
        said += [handheld] if handheld else []
        return " ".join(said) or words.static
    return ", ".join(parts + ([handheld] if handheld else [])) or words.static


def join_prompt(prompt: str, camera: str, family: str | None = None) -> str:
    """`prompt` followed by the camera words `camera` the way `family` reads them: a new
    sentence for a family that takes sentences, else after a comma. A prompt that already
    ends with those words is returned as it is, so joining twice adds them once."""
    camera = camera.strip()
    if not camera or prompt.rstrip().endswith(camera):
        return prompt
    words = vocabulary(family)
    base = prompt.rstrip().rstrip(".,")
    if not base.strip():
        return camera
    return f"{base}. {camera}" if words is not None and words.sentence else f"{base}, {camera}"
