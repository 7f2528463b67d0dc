"""Export speed: ours against the ffmpeg binary doing the same job, and the stream-copy path.

Ten 640x360 takes of 2 s each (written as the engine writes takes), joined by 0.5 s
crossfades, over a music bed and a second sound track with fades, exported with the web
preset at CRF 20 (libx264 medium, AAC 192 kb/s). ffmpeg does the same with a filter graph
(xfade, volume, afade, amix) and the same encoder settings. Runs alternate, three each;
prints the medians and "our speed / ffmpeg's = X (goal >= 0.9)".

Then the same ten takes joined by cuts, exported with smart render: every GOP is copied.
Prints times realtime (goal >= 20), with the sound and without it. FFmpeg's AAC encoder
runs at about 20x realtime on one core here, so the sound is encoded in segments on every
core (`engine.export.sound`) and starts while the export is still planning.

The machine may be shared, so CPU seconds (all threads) are printed beside wall times.

    .venv/bin/python bench/export_speed.py
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.backends.title_card import title_card  # noqa: E402
from engine.export.job import export, export_request  # noqa: E402
from engine.export.presets import TAKE_SETTINGS  # noqa: E402
from engine.media.video import probe, write_video  # noqa: E402
from studio.jobs import GenerationRequest  # noqa: E402
from studio.project.model import AudioMedia, Project, Take  # noqa: E402
from studio.timeline.timeline import (  # noqa: E402
    AudioClip,
    AudioTrack,
    Clip,
    Timeline,
    Transition,
    TransitionKind,
)

W, H, FPS, CLIPS, CLIP_FRAMES, FADE, RUNS, CRF = 640, 360, 24, 10, 48, 12, 3, 20
RATE = 48000


def moving_take(index: int) -> list[np.ndarray]:
    """A title card panned across the frame: real motion for the encoder to work on."""
    card = title_card(f"Shot {index + 1}", W * 2, H)
    card = (card.astype(np.int16) + (index * 23) % 60).clip(0, 255).astype(np.uint8)
    return [card[:, 4 * i : 4 * i + W].copy() for i in range(CLIP_FRAMES)]


def make_project(folder: Path) -> Project:
    (folder / "takes").mkdir(parents=True)
    (folder / "media").mkdir()
    project = Project(title="Bench", width=W, height=H, fps=Fraction(FPS))
    for i in range(CLIPS):
        shot = project.new_shot(id=f"s{i}", title=f"Shot {i + 1}")
        project.shots.append(shot)
        media = f"takes/s{i}.mp4"
        s = TAKE_SETTINGS
        write_video(folder / media, moving_take(i), Fraction(FPS), crf=s.crf, preset=s.preset)
        request = GenerationRequest(
            prompt=f"s{i}", model_id="previz", width=W, height=H, frames=CLIP_FRAMES
        )
        shot.takes.append(Take(request.hash, request, media, "2024-01-01T00:00:00Z"))
        shot.selected_take = request.hash
    seconds = CLIPS * CLIP_FRAMES / FPS
    t = np.arange(round(seconds * RATE)) / RATE
    bed = 0.3 * np.sin(2 * np.pi * 220 * t)
    voice = 0.2 * np.sin(2 * np.pi * 330 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)
    soundfile.write(folder / "media/bed.wav", np.stack([bed, bed], 1), RATE)
    soundfile.write(folder / "media/voice.wav", np.stack([voice, voice], 1), RATE)
    project.audio = [
        AudioMedia("bed", "Bed", "media/bed.wav"),
        AudioMedia("voice", "Voice", "media/voice.wav"),
    ]
    return project


def edit(crossfade: bool, sound: bool = True) -> Timeline:
    fade = Transition(TransitionKind.CROSSFADE, FADE) if crossfade else Transition()
    clips = tuple(
        Clip(f"c{i}", f"s{i}", None, 0, CLIP_FRAMES, fade if i else Transition())
        for i in range(CLIPS)
    )
    duration = CLIPS * CLIP_FRAMES - (CLIPS - 1) * (FADE if crossfade else 0)
    tracks = (
        AudioTrack("music", "Music", (AudioClip("bed", "bed", 0, 0, duration, -6.0, 24, 48),)),
        AudioTrack("voice", "Voice", (AudioClip("v", "voice", 24, 0, duration - 48, 0, 12, 12),)),
    )
    return Timeline(Fraction(FPS), clips, tracks if sound else ())


def ffmpeg_command(folder: Path, out: Path) -> list[str]:
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y"]
    for i in range(CLIPS):
        cmd += ["-i", str(folder / f"takes/s{i}.mp4")]
    cmd += ["-i", str(folder / "media/bed.wav"), "-i", str(folder / "media/voice.wav")]
    duration = (CLIPS * CLIP_FRAMES - (CLIPS - 1) * FADE) / FPS
    step, fade = (CLIP_FRAMES - FADE) / FPS, FADE / FPS
    chain, last = [], "[0:v]"
    for i in range(1, CLIPS):
        label = f"[v{i}]"
        chain.append(f"{last}[{i}:v]xfade=transition=fade:duration={fade}:offset={i * step}{label}")
        last = label
    bed, voice = CLIPS, CLIPS + 1
    chain.append(
        f"[{bed}:a]atrim=0:{duration},volume=-6dB,afade=t=in:d=1,"
        f"afade=t=out:st={duration - 2}:d=2[bed]"
    )
    chain.append(
        f"[{voice}:a]atrim=0:{duration - 2},afade=t=in:d=0.5,"
        f"afade=t=out:st={duration - 2.5}:d=0.5,adelay=1000:all=1[voice]"
    )
    chain.append("[bed][voice]amix=inputs=2:normalize=0:duration=first[a]")
    cmd += ["-filter_complex", ";".join(chain), "-map", last, "-map", "[a]"]
    cmd += ["-c:v", "libx264", "-crf", str(CRF), "-preset", "medium", "-g", str(2 * FPS)]
    cmd += ["-pix_fmt", "yuv420p", "-colorspace", "bt709", "-color_primaries", "bt709"]
    cmd += ["-color_trc", "bt709", "-color_range", "tv"]
    cmd += ["-c:a", "aac", "-b:a", "192k", "-ar", str(RATE), "-movflags", "+faststart"]
    return [*cmd, str(out)]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "Bench.gallop"
        project = make_project(folder)
        project.timeline = edit(crossfade=True)
        ours, theirs, ours_cpu, theirs_cpu = [], [], [], []
        command = ffmpeg_command(folder, Path(tmp) / "ffmpeg.mp4")
        request = export_request(project, folder, Path(tmp) / "ours.mp4", "web", crf=CRF)
        for _ in range(RUNS):
            t0, c0 = time.perf_counter(), cpu(resource.RUSAGE_SELF)
            result = export(project, folder, request)
            ours.append(time.perf_counter() - t0)
            ours_cpu.append(cpu(resource.RUSAGE_SELF) - c0)
            t0, c0 = time.perf_counter(), cpu(resource.RUSAGE_CHILDREN)
            subprocess.run(command, check=True)
            theirs.append(time.perf_counter() - t0)
            theirs_cpu.append(cpu(resource.RUSAGE_CHILDREN) - c0)
        a, b = probe(result.path), probe(Path(tmp) / "ffmpeg.mp4")
        print(f"film: {result.frames} frames {W}x{H} at {FPS} fps, {result.seconds:.2f} s")
        print(f"ours:     {a.frames} frames, {line(ours, ours_cpu)}")
        print(f"ffmpeg's: {b.frames} frames, {line(theirs, theirs_cpu)}")
        ratio = statistics.median(theirs) / statistics.median(ours)
        by_cpu = statistics.median(theirs_cpu) / statistics.median(ours_cpu)
        print(f"our speed / ffmpeg's = {ratio:.2f} (goal >= 0.9); by CPU time {by_cpu:.2f}")

        for sound in (True, False):
            project.timeline = edit(crossfade=False, sound=sound)
            request = export_request(project, folder, Path(tmp) / "copy.mp4", "web")
            times = []
            for _ in range(RUNS):
                t0 = time.perf_counter()
                result = export(project, folder, request)
                times.append(time.perf_counter() - t0)
            best = statistics.median(times)
            print(
                f"stream copy {'with' if sound else 'without'} sound: "
                f"{result.copied_frames}/{result.frames} frames copied, {best:.3f} s -> "
                f"{result.seconds / best:.0f}x realtime (goal >= 20)"
            )
    return 0


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def line(wall: list[float], cpu_times: list[float]) -> str:
    runs = ", ".join(f"{t:.2f}" for t in wall)
    median = statistics.median(wall)
    return f"{median:.2f} s (runs {runs}), CPU {statistics.median(cpu_times):.2f} s"


if __name__ == "__main__":
    sys.exit(main())
