"""The pictures the camera panel's previz moves over, read off the GUI thread.

The panel describes what to read as a `SourceAsk` (plain values: paths, the title card's
words, the size) on the GUI thread, and `read_source` runs on the panel's `Background`
worker: the start picture (the keyframe, else the picked take's first frame, else a title
card of the prompt) and the pictures the shot passes through later, each fitted to the
previz, with a note on where they come from and on any that cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.backends.pictures import fit_cover, load_image
from engine.backends.surround import surround
from engine.backends.title_card import title_card
from engine.media.video import first_frame
from studio.errors import StudioError


@dataclass(frozen=True)
class SourceAsk:
    folder: Path
    keyframe: str | None  # project-relative
    take: Path | None  # the picked take's file, when there is no keyframe
    card_text: str  # the title card's words, when neither can be read
    seed: int
    keys: tuple[tuple[float, str], ...]  # (fraction of the shot, project-relative picture)
    width: int
    height: int


@dataclass(frozen=True)
class Source:
    picture: np.ndarray
    keys: list[tuple[float, np.ndarray]]
    note: str


def read_source(ask: SourceAsk) -> Source:
    picture, note = _start_picture(ask)
    keys, problem = _key_pictures(ask)
    # The wall around each picture is drawn here too, where it costs the window nothing:
    # the previz finds it kept (by the picture's content) when its loop starts.
    for made in (picture, *(key for _, key in keys)):
        surround(np.ascontiguousarray(made))
    return Source(picture, keys, note + problem)


def _start_picture(ask: SourceAsk) -> tuple[np.ndarray, str]:
    problem = ""
    size = ask.width, ask.height
    if ask.keyframe:
        try:
            picture = fit_cover(load_image(ask.folder / ask.keyframe), *size)
            return picture, f"Over the keyframe {Path(ask.keyframe).name}"
        except (StudioError, ValueError, OSError) as error:
            problem = f"{error}. "
    elif ask.take is not None:
        try:
            return fit_cover(first_frame(ask.take), *size), "Over the take's first frame"
        except Exception as error:  # noqa: BLE001 - any unreadable video falls back
            problem = f"The take could not be read ({error}). "
    card = title_card(ask.card_text, *size, seed=ask.seed)
    return card, f"{problem}Over a title card (no keyframe image)"


def _key_pictures(ask: SourceAsk) -> tuple[list[tuple[float, np.ndarray]], str]:
    loaded, missing = [], []
    for t, image in ask.keys:
        try:
            loaded.append((t, fit_cover(load_image(ask.folder / image), ask.width, ask.height)))
        except (StudioError, ValueError, OSError):
            missing.append(Path(image).name)
    count = len(loaded)
    note = f", dissolving into {count} more picture{'s' * (count > 1)}" if count else ""
    if missing:
        note += f" ({', '.join(missing)} cannot be read)"
    return loaded, note
