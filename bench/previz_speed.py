"""Previz speed: a 5 s 832x480 shot at 24 fps; prints times realtime (goal >= 5).

Renders the dolly-in and whip-pan presets over a title card a few times each and reports
the median, with and without writing the H.264 take.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.backends.base import NullContext, RenderInputs  # noqa: E402
from engine.backends.previz import PrevizBackend  # noqa: E402
from engine.media.video import write_video  # noqa: E402
from studio.camera.rig import preset  # noqa: E402
from studio.jobs import GenerationRequest  # noqa: E402

SECONDS, FPS, REPEATS = 5, 24, 5


def main() -> int:
    backend = PrevizBackend()
    for name in ("dolly_in", "whip_pan"):
        request = GenerationRequest(
            prompt="a white stone lighthouse lashed by rain and spray",
            model_id="previz",
            backend="previz",
            width=832,
            height=480,
            frames=SECONDS * FPS,
            fps=Fraction(FPS),
            camera=preset(name),
        )
        render_times, total_times = [], []
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                frames = backend.generate(request, RenderInputs(), NullContext())
                t1 = time.perf_counter()
                write_video(Path(tmp) / "take.mp4", frames, request.fps, crf=16, preset="veryfast")
                t2 = time.perf_counter()
                render_times.append(t1 - t0)
                total_times.append(t2 - t0)
        render, total = statistics.median(render_times), statistics.median(total_times)
        print(
            f"previz {name} 832x480 {request.frames} frames: {render:.2f} s -> "
            f"{SECONDS / render:.1f}x realtime (goal >= 5); with the H.264 take "
            f"{total:.2f} s -> {SECONDS / total:.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
