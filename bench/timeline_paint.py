"""Timeline repaint speed: 1,000 clips and two audio tracks in a 1600x300 view; prints the
median and worst repaint at a close zoom (~30 clips) and at fit (all 1,000), goal < 16 ms.

Runs offscreen; the waveforms are read before timing so their drawing is included.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import soundfile  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from studio.project.model import AudioMedia, Project, Shot  # noqa: E402
from studio.timeline.timeline import AudioClip, AudioTrack, Clip, Timeline  # noqa: E402
from ui.document import Document  # noqa: E402
from ui.timeline.timeline_view import TimelineView  # noqa: E402

CLIPS, REPEATS, GOAL_MS = 1000, 50, 16.0


def build_document(folder: Path) -> Document:
    """1,000 clips of 2-4 s over 20 shots, with music and voice tracks of 30 s sounds."""
    rate, seconds = 22050, 30
    t = np.arange(rate * seconds) / rate
    sound = 0.5 * np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.3 * t))
    (folder / "media").mkdir(parents=True, exist_ok=True)
    soundfile.write(folder / "media/bed.wav", sound.astype(np.float32), rate)
    shots = [Shot(id=f"shot-{k}", title=f"Shot {k}: a long descriptive title") for k in range(20)]
    clips = [Clip(f"clip-{k}", f"shot-{k % 20}", None, 0, 48 + k % 5 * 12) for k in range(CLIPS)]
    timeline = Timeline(Fraction(24), tuple(clips))
    step = seconds * 24
    tracks = []
    for name in ("Music", "Voice"):
        audio = [
            AudioClip(f"{name}-{k}", "media/bed.wav", k * step, 0, step, -3.0, 12, 24)
            for k in range(timeline.duration // step)
        ]
        tracks.append(AudioTrack(name.lower(), name, tuple(audio)))
    timeline = Timeline(timeline.fps, timeline.items, tuple(tracks))
    media = [AudioMedia("bed", "Bed", "media/bed.wav")]
    project = Project(shots=shots, timeline=timeline, audio=media)
    return Document(project, folder)


def time_repaints(
    app: QApplication, view: TimelineView, full: bool
) -> tuple[list[float], list[float]]:
    """Wall-clock and GUI-thread CPU times of repaints in ms: `full` redraws everything
    (an edit, a scroll or a zoom); otherwise only the playhead moves (playback), over the
    cached picture. CPU time is the steadier figure on a busy machine."""
    view.repaint()  # warm caches (waveform request, fonts)
    view.waveforms.wait()
    app.processEvents()
    times, cpu = [], []
    for k in range(REPEATS):
        if full:
            view.invalidate()
        else:
            view.set_playhead(view.frame_at(100 + 20 * k))
        start, start_cpu = time.perf_counter(), time.thread_time()
        view.repaint()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
    return times, cpu


def main() -> int:
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        document = build_document(Path(tmp))
        view = TimelineView(document)
        view.resize(1600, 300)
        view.show()
        app.processEvents()
        clips = document.project.timeline.duration / CLIPS
        view.set_zoom(1600 / (30 * clips), anchor_x=view.x_of_frame(0))
        view.set_scroll(view.ppf * document.project.timeline.duration / 2)
        close, close_cpu = time_repaints(app, view, full=True)
        close_count = view.last_painted_clips
        playback, _ = time_repaints(app, view, full=False)
        view.fit()
        fit, fit_cpu = time_repaints(app, view, full=True)
        fit_count = view.last_painted_clips
        view.close()
    median = statistics.median
    worst = max(median(close), median(fit))
    print(
        f"repaint with {CLIPS} clips and 2 audio tracks, 1600x300: median {median(close):.1f} ms "
        f"(CPU {median(close_cpu):.1f}), worst {max(close):.1f} ms ({close_count} clips in "
        f"view); median {median(fit):.1f} ms (CPU {median(fit_cpu):.1f}), worst "
        f"{max(fit):.1f} ms (fit, {fit_count} in view, coalesced); playhead only: median "
        f"{median(playback):.1f} ms; goal < {GOAL_MS:g} ms; ratio {worst / GOAL_MS:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
