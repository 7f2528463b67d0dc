"""Builds the bundled example project `assets/examples/Lighthouse.gallop`.

Six shots of a short film with varied camera moves, a character and a style in the bible,
a timeline with a crossfade and a dip, and a synthesised sea-and-drone audio bed.
Run: `.venv/bin/python tools/build_example.py` (deterministic; rewrites the folder).
"""

from __future__ import annotations

import shutil
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.camera.easing import Easing  # noqa: E402
from studio.camera.rig import preset, with_move  # noqa: E402
from studio.project.io import save_project  # noqa: E402
from studio.project.model import AudioMedia, Character, Project, Shot, Style  # noqa: E402
from studio.timeline.timeline import (  # noqa: E402
    AudioClip,
    AudioTrack,
    Clip,
    Timeline,
    Transition,
    TransitionKind,
)

FOLDER = ROOT / "assets" / "examples" / "Lighthouse.gallop"
FPS = Fraction(24)
AUDIO = "media/sea_bed.ogg"
SAMPLE_RATE = 22_050


def sea_bed(seconds: float) -> np.ndarray:
    """Waves (filtered noise swelling every few seconds) over a low, slow drone; stereo."""
    rng = np.random.default_rng(1897)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    noise = rng.standard_normal((n, 2))
    # A one-pole low-pass per channel softens the noise into surf.
    alpha = 0.04
    surf = np.empty_like(noise)
    state = np.zeros(2)
    for i in range(n):
        state += alpha * (noise[i] - state)
        surf[i] = state
    swell = 0.55 + 0.45 * np.sin(2 * np.pi * t[:, None] / 6.5 - np.array([0.0, 0.9])) ** 2
    drone = 0.10 * np.sin(2 * np.pi * 55.0 * t) + 0.06 * np.sin(2 * np.pi * 82.4 * t + 1.0)
    drone *= 0.6 + 0.4 * np.sin(2 * np.pi * t / 11.0)
    mix = 2.2 * surf * swell + drone[:, None]
    fade = np.minimum(1.0, np.minimum(t, seconds - t) / 2.0)[:, None]
    return (0.8 * mix * fade / np.max(np.abs(mix))).astype(np.float32)


def build() -> Project:
    keeper = Character(
        id="keeper",
        name="The Keeper",
        description="a weathered lighthouse keeper in his sixties, grey beard, yellow oilskin "
        "coat, wool cap",
    )
    look = Style(
        id="nordic-noir",
        name="Nordic noir",
        description="desaturated teal and amber, 35mm film grain, anamorphic lens, low sun",
    )
    project = Project(
        title="The Lighthouse",
        fps=FPS,
        width=832,
        height=480,
        styles=[look],
        characters=[keeper],
        audio=[AudioMedia(id="sea-bed", name="Sea bed", path=AUDIO)],
        notes="A keeper lights the lamp through a storm and a ship finds its way home.",
    )

    def shot(ident: str, title: str, prompt: str, seconds: float, camera, **extra) -> Shot:
        return project.new_shot(
            id=ident,
            title=title,
            prompt=prompt,
            negative_prompt="blurry, distorted, text, watermark",
            seed=1000 + len(project.shots),
            duration=seconds,
            camera=camera,
            style="nordic-noir",
            **extra,
        )

    project.shots = [
        shot(
            "storm",
            "Storm at sea",
            "aerial view of a black stormy sea at dusk, huge waves, a lone lighthouse on a rock",
            5.0,
            preset("crane_down"),
        ),
        shot(
            "tower",
            "The tower",
            "a white stone lighthouse lashed by rain and spray, clouds racing behind it",
            4.0,
            preset("orbit_right"),
        ),
        shot(
            "keeper",
            "The keeper",
            "the keeper climbs a spiral iron staircase by lantern light, breathing hard",
            4.0,
            preset("handheld"),
            characters=["keeper"],
        ),
        shot(
            "lamp",
            "Lighting the lamp",
            "close on the keeper's hands striking a match, the great lens begins to glow",
            3.0,
            with_move(preset("dolly_in", 0.6), "tilt", 0.0, 12.0, Easing.EASE_OUT),
            characters=["keeper"],
        ),
        shot(
            "ship",
            "The ship",
            "a beam of light sweeps across the sea and finds a small fishing boat in the waves",
            4.0,
            preset("whip_pan"),
        ),
        shot(
            "dawn",
            "Dawn",
            "calm sea at dawn, the fishing boat enters the harbour, the lighthouse behind it",
            5.0,
            preset("crane_up"),
            continue_from_previous=True,
        ),
    ]
    items = []
    for s in project.shots:
        transition = Transition()
        if s.id == "keeper":
            transition = Transition(TransitionKind.CROSSFADE, 12)
        elif s.id == "dawn":
            transition = Transition(TransitionKind.DIP_BLACK, 24)
        items.append(
            Clip(
                id=f"clip-{s.id}",
                shot_id=s.id,
                take_id=None,
                source_in=0,
                source_out=s.frames,
                transition=transition,
            )
        )
    timeline = Timeline(fps=FPS, items=tuple(items))
    music = AudioClip(
        id="bed",
        media=AUDIO,
        start=0,
        source_in=0,
        source_out=timeline.duration,
        gain_db=-6.0,
        fade_in=24,
        fade_out=48,
    )
    project.timeline = Timeline(
        fps=FPS,
        items=tuple(items),
        audio_tracks=(AudioTrack(id="music", name="Music", clips=(music,)),),
    )
    return project


def main() -> None:
    project = build()
    if FOLDER.exists():
        shutil.rmtree(FOLDER)
    save_project(project, FOLDER)
    seconds = float(project.timeline.duration_seconds) + 1.0
    soundfile.write(FOLDER / AUDIO, sea_bed(seconds), SAMPLE_RATE, format="OGG", subtype="VORBIS")
    for sub in ("takes", "autosave"):
        (FOLDER / sub / ".keep").touch()
    print(f"wrote {FOLDER} ({len(project.shots)} shots, {seconds:.1f} s of audio)")


if __name__ == "__main__":
    main()
