"""Shared by the export tests: takes that say which frame they show, probes, packets."""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soundfile

from engine.export.job import ExportResult, export, export_request
from engine.export.presets import TAKE_SETTINGS
from engine.media.video import write_video
from studio.jobs import GenerationRequest
from studio.project.model import AudioMedia, Project, Take
from studio.timeline.timeline import (
    AudioClip,
    AudioTrack,
    Clip,
    Timeline,
    Transition,
    TransitionKind,
)

W, H = 128, 72
RATE = 48000
FFPROBE = shutil.which("ffprobe")


def ffmpeg() -> str | None:
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    return imageio_ffmpeg.get_ffmpeg_exe()


def grey(i: int) -> int:
    return 16 + 7 * i


def index_of(frame: np.ndarray) -> int:
    return round((float(frame.mean()) - 16) / 7)


def pattern(i: int, seed: int, size=(W, H)) -> np.ndarray:
    """A moving gradient with texture: a picture an encoder has to work on."""
    w, h = size
    x = np.arange(w)[None, :] + 3 * i
    y = np.arange(h)[:, None]
    base = (x * 5 + y * 3 + seed * 40) % 256
    noise = np.random.default_rng(seed * 1000 + i).integers(0, 24, (h, w))
    picture = (base + noise).clip(0, 255).astype(np.uint8)
    return np.dstack([picture, np.roll(picture, seed * 7, axis=1), 255 - picture])


def write_take(folder: Path, name: str, frames=24, size=(W, H), fps=Fraction(24), **kw):
    level = kw.pop("level", None)
    moving = kw.pop("moving", False)
    w, h = size
    if moving:
        pictures = [pattern(i, len(name) + ord(name[0]), size) for i in range(frames)]
    else:
        pictures = [
            np.full((h, w, 3), grey(i) if level is None else level, np.uint8) for i in range(frames)
        ]
    settings = dict(crf=TAKE_SETTINGS.crf, preset=TAKE_SETTINGS.preset, gop=TAKE_SETTINGS.gop)
    settings.update(kw)
    (folder / "takes").mkdir(exist_ok=True)
    write_video(folder / "takes" / f"{name}.mp4", pictures, fps, **settings)
    return f"takes/{name}.mp4"


def add_shot(project: Project, folder: Path, shot_id: str, take=True, **take_kw):
    shot = project.new_shot(id=shot_id, title=f"Shot {shot_id}")
    project.shots.append(shot)
    if take:
        media = write_take(folder, shot_id, **take_kw)
        request = GenerationRequest(prompt=shot_id, model_id="previz", width=W, height=H, frames=24)
        shot.takes.append(Take(request.hash, request, media, "2024-01-01T00:00:00Z"))
        shot.selected_take = request.hash
    return shot


def add_bed(project: Project, folder: Path, frames: int, value=0.25, **clip_kw):
    (folder / "media").mkdir(exist_ok=True)
    data = np.full((RATE * 4, 2), value, np.float32)
    soundfile.write(folder / "media/bed.wav", data, RATE, subtype="FLOAT")
    project.audio.append(AudioMedia("bed", "Bed", "media/bed.wav"))
    clip = AudioClip("a1", "bed", 0, 0, frames, **clip_kw)
    track = AudioTrack("music", "Music", (clip,))
    project.timeline = Timeline(project.timeline.fps, project.timeline.items, (track,))


def cut(clip_id, shot, a, b, transition=None):
    return Clip(clip_id, shot, None, a, b, transition or Transition())


def fade(frames: int) -> Transition:
    return Transition(TransitionKind.CROSSFADE, frames)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name)


def ffprobe_json(path: Path) -> dict:
    out = subprocess.run(
        [FFPROBE, "-v", "error", "-print_format", "json", "-show_streams", "-show_format"]
        + [str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stderr == ""
    return json.loads(out.stdout)


def decodes_cleanly(path: Path) -> None:
    exe = ffmpeg()
    if exe is None:
        return
    out = subprocess.run(
        [exe, "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stderr == "", out.stderr


def decode_all(path: Path) -> list[np.ndarray]:
    """Every picture of a file in order, straight from the decoder (GIFs have no rate)."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def video_packets(path: Path) -> dict[int, bytes]:
    """Packet bytes by the frame they show."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        scale = Fraction(stream.time_base) * Fraction(stream.average_rate)
        start = stream.start_time or 0
        return {round((p.pts - start) * scale): bytes(p) for p in container.demux(stream) if p.size}


def run(project, folder, output, preset="web", **kw) -> ExportResult:
    return export(project, folder, export_request(project, folder, output, preset, **kw))
