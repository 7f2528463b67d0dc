"""Farm scaling: eight tiny shots on one Ray actor, then on two; prints the speedup.

A local Ray cluster with two (fake) GPUs and one CPU core per actor. Each actor is warmed
up with one shot first (model load), so the figure is the steady-state throughput.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ray  # noqa: E402

from engine.render.farm import FarmEngine  # noqa: E402
from studio.camera.rig import preset  # noqa: E402
from studio.jobs import TERMINAL_EVENTS, Finished, GenerationRequest  # noqa: E402
from studio.project.takes import TakeStore  # noqa: E402

SHOTS = 8


def request(seed: int) -> GenerationRequest:
    return GenerationRequest(
        prompt=f"shot {seed}: waves against the lighthouse",
        model_id="tiny-wan",
        width=96,
        height=96,
        frames=17,
        fps=Fraction(16),
        seed=seed,
        steps=6,
        camera=preset("pan_left"),
    )


def run(actors: int, seed_base: int) -> float:
    done: dict[str, object] = {}
    cond = threading.Condition()

    def on_event(event) -> None:
        if isinstance(event, TERMINAL_EVENTS):
            with cond:
                done[event.job_id] = event
                cond.notify_all()

    def render(seeds: range) -> float:
        t0 = time.perf_counter()
        jobs = [farm.submit(request(s)) for s in seeds]
        with cond:
            cond.wait_for(lambda: all(j in done for j in jobs))
        assert all(isinstance(done[j], Finished) for j in jobs)
        return time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        farm = FarmEngine(TakeStore(Path(tmp) / "takes"), on_event, actors=actors)
        try:
            render(range(seed_base - actors, seed_base))  # one warm-up shot per actor
            return render(range(seed_base, seed_base + SHOTS))
        finally:
            farm.shutdown(120)


def main() -> int:
    ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False)
    try:
        one = run(1, 1000)
        two = run(2, 2000)
    finally:
        ray.shutdown()
    print(
        f"farm scaling, {SHOTS} tiny Wan shots: 1 actor {one:.2f}s, 2 actors {two:.2f}s, "
        f"speedup {one / two:.2f}x (ideal 2.0x on 2 cores)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
