"""Engine overhead: one tiny Wan request through the engine vs a direct pipe() call.

Both sides run the same loaded pipeline with the same arguments, alternating, with a fresh
seed per round so the take store never short-cuts the engine. The engine side includes
everything a user waits for: queueing, events, progress, writing the H.264 take and the
atomic insert into the take store. Prints the median ratio (goal <= 1.05).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from engine.backends.base import NullContext, RenderInputs  # noqa: E402
from engine.backends.diffusers import DiffusersBackend  # noqa: E402
from engine.render.worker import Engine  # noqa: E402
from studio.camera.rig import preset  # noqa: E402
from studio.jobs import TERMINAL_EVENTS, Finished, GenerationRequest  # noqa: E402
from studio.project.takes import TakeStore  # noqa: E402

ROUNDS = 12


def request(seed: int) -> GenerationRequest:
    return GenerationRequest(
        prompt="a lighthouse on a rock in a storm, waves breaking",
        negative_prompt="blurry",
        model_id="tiny-wan",
        width=160,
        height=160,
        frames=17,
        fps=Fraction(16),
        seed=seed,
        steps=4,
        camera=preset("dolly_in"),
    )


def main() -> int:
    torch.set_num_threads(torch.get_num_threads())
    backend = DiffusersBackend()
    backend.load("tiny-wan", NullContext())
    pipe = backend._loaded.pipes["t2v"]
    done: list = []
    finished = threading.Event()

    def on_event(event) -> None:
        done.append(event)
        if isinstance(event, TERMINAL_EVENTS):
            finished.set()

    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(TakeStore(Path(tmp) / "takes"), on_event, lambda name: backend)
        engine = engine.start()
        try:
            # Warm up both paths once (allocator, first-call caches).
            warm = request(0)
            pipe(
                **backend._call_kwargs(
                    backend.catalog.get("tiny-wan"), "t2v", warm, RenderInputs(), NullContext()
                )
            )
            ratios, engine_times, direct_times = [], [], []
            for r in range(1, ROUNDS + 1):
                req = request(r)
                kwargs = backend._call_kwargs(
                    backend.catalog.get("tiny-wan"), "t2v", req, RenderInputs(), NullContext()
                )

                def run_direct(kwargs=kwargs) -> float:
                    t0 = time.perf_counter()
                    pipe(**kwargs)
                    return time.perf_counter() - t0

                def run_engine(req=req) -> float:
                    finished.clear()
                    t0 = time.perf_counter()
                    engine.submit(req)
                    finished.wait()
                    return time.perf_counter() - t0

                # Alternate which side goes first so drift in machine load cancels out.
                if r % 2:
                    direct, through_engine = run_direct(), run_engine()
                else:
                    through_engine, direct = run_engine(), run_direct()
                assert isinstance(done[-1], Finished), done[-1]
                direct_times.append(direct)
                engine_times.append(through_engine)
                ratios.append(through_engine / direct)
        finally:
            engine.shutdown(60)
    ratio = statistics.median(ratios)
    through, direct = statistics.median(engine_times), statistics.median(direct_times)
    print(
        f"engine overhead, tiny Wan 160x160x17, 4 steps: engine {through:.3f}s"
        f" / direct pipe() {direct:.3f}s = {ratio:.3f} (goal <= 1.05)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
