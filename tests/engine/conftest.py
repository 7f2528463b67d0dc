"""Shared test doubles for the engine: an event recorder and scriptable backends."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pytest

from engine.backends.base import Capabilities, RenderInputs
from engine.render.worker import Engine
from studio.jobs import TERMINAL_EVENTS, Event, GenerationRequest, Stage
from studio.project.takes import TakeStore


class Recorder:
    """Collects events from the engine thread; waits for conditions without sleeping."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._cond = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[Event]], bool], timeout: float = 30.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: predicate(self.events), timeout), self.events

    def wait_done(self, job_id: str, timeout: float = 60.0) -> Event:
        self.wait_for(
            lambda evs: any(isinstance(e, TERMINAL_EVENTS) and e.job_id == job_id for e in evs),
            timeout,
        )
        return self.of(job_id)[-1]

    def of(self, job_id: str) -> list[Event]:
        with self._cond:
            return [e for e in self.events if e.job_id == job_id]

    def kinds(self, job_id: str) -> list[str]:
        return [type(e).__name__ for e in self.of(job_id)]


class ScriptedBackend:
    """A backend whose steps the test controls: it can block, fail or run free."""

    name = "scripted"

    def __init__(self, steps: int = 4, block_at: int | None = None, error: Exception | None = None):
        self.steps = steps
        self.block_at = block_at
        self.error = error
        self.reached = threading.Event()
        self.proceed = threading.Event()
        self.loads = 0
        self.generated: list[str] = []
        self.decoded: list[str] = []
        self.unloaded = 0

    def capabilities(self, model_id: str) -> Capabilities:
        return Capabilities()

    def load(self, model_id: str, ctx, profile=None) -> None:
        self.loads += 1

    def generate(self, request: GenerationRequest, inputs: RenderInputs, ctx) -> np.ndarray:
        self.generated.append(request.prompt)
        for step in range(1, self.steps + 1):
            if step == self.block_at:
                self.reached.set()
                assert self.proceed.wait(30)
            ctx.check_cancelled()
            if self.error is not None and step == 2:
                raise self.error
            ctx.progress(step, self.steps, Stage.DENOISING)
        self.decoded.append(request.prompt)
        value = (request.seed * 37) % 256
        return np.full((request.frames, request.height, request.width, 3), value, np.uint8)

    def unload(self) -> None:
        self.unloaded += 1


def make_request(prompt: str = "a lighthouse", seed: int = 1, **kw) -> GenerationRequest:
    base = dict(
        prompt=prompt,
        model_id="scripted",
        width=32,
        height=32,
        frames=3,
        seed=seed,
        backend="scripted",
    )
    base.update(kw)
    return GenerationRequest(**base)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def store(tmp_path) -> TakeStore:
    return TakeStore(tmp_path / "takes")


@pytest.fixture
def make_engine(store, recorder):
    engines: list[Engine] = []

    def build(backend) -> Engine:
        engine = Engine(store, recorder, lambda name: backend).start()
        engines.append(engine)
        return engine

    yield build
    for engine in engines:
        engine.shutdown(timeout=30)
