"""Camera adherence speed: measuring a 5 s 832x480 take at 24 fps (120 frames) against its
rig, as the engine does after every take; prints times realtime (goal >= 10).

The takes are previz renders of a textured title card along the pan-right, dolly-in and
whip-pan presets; each is measured a few times and the median reported.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.backends.base import NullContext, RenderInputs  # noqa: E402
from engine.backends.previz import PrevizBackend  # noqa: E402
from engine.media.adherence import measure_adherence  # noqa: E402
from studio.camera.rig import preset  # noqa: E402
from studio.jobs import GenerationRequest  # noqa: E402

SECONDS, FPS, REPEATS, GOAL = 5, 24, 5, 10.0


def main() -> int:
    backend = PrevizBackend()
    worst = float("inf")
    for name in ("pan_right", "dolly_in", "whip_pan"):
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
        frames = backend.generate(request, RenderInputs(), NullContext())
        times, cpu = [], []
        for _ in range(REPEATS):
            start, start_cpu = time.perf_counter(), time.process_time()
            result = measure_adherence(frames, request.camera, float(request.fps))
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        median = statistics.median(times)
        ratio = SECONDS / median
        worst = min(worst, ratio)
        print(
            f"adherence {name} 832x480 {request.frames} frames: {median * 1000:.0f} ms -> "
            f"{ratio:.1f}x realtime (goal >= {GOAL:g}); {statistics.median(cpu) * 1000:.0f} ms "
            f"of CPU; score {result.score:.1f}"
        )
    print(f"slowest: {worst:.1f}x realtime ({'meets' if worst >= GOAL else 'misses'} the goal)")
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
        print(f"load average {load:.1f} on {os.cpu_count()} cores (a busy machine reads slower)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
