"""Backends for tests that render in a child process; the child imports them by name
('tests.engine.render.host_backends:gated' for `python -m engine.render.process --backends`, or in
`GALLOP_BACKENDS` for `gallop render`), so they live in a module, not in a test."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from engine.backends.previz import PrevizBackend
from engine.protocol import Capabilities
from engine.render.worker import default_backend_factory
from studio.jobs import Stage

GATE = "GALLOP_TEST_GATE"  # a file path: jobs wait at their first step until it exists
CRASH_ONCE = "GALLOP_TEST_CRASH_ONCE"  # a file path: the first render in any child dies


class GatedPreviz(PrevizBackend):
    """The previz, held at its first step until the gate file exists (the job stays the
    running one, and later ones queued, however long the test takes)."""

    def generate(self, request, inputs, ctx):
        gate = Path(os.environ[GATE])
        while not gate.exists():
            ctx.check_cancelled()
            time.sleep(0.01)
        return super().generate(request, inputs, ctx)


class NoisyPreviz(PrevizBackend):
    """Prints to standard output from Python and from the file descriptor, as native
    libraries do: neither may reach the parent as a protocol message."""

    def generate(self, request, inputs, ctx):
        print("noisy: a line from print()")
        sys.stdout.flush()
        os.write(1, b"noisy: a line written to fd 1\n")
        return super().generate(request, inputs, ctx)


class CrashingPreviz(PrevizBackend):
    """Dies in the middle of its first render (as a native crash would), once."""

    def generate(self, request, inputs, ctx):
        flag = Path(os.environ[CRASH_ONCE])
        if not flag.exists():
            flag.touch()
            print("crashing: the last words of the engine", file=sys.stderr, flush=True)
            os._exit(3)
        return super().generate(request, inputs, ctx)


class SegfaultingPreviz(PrevizBackend):
    """Dies of a segmentation fault in the middle of its render, as native code does."""

    def generate(self, request, inputs, ctx):
        import faulthandler
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file left by the test
        faulthandler._sigsegv()


class HeldPreviz(PrevizBackend):
    """The previz, whose first render runs free; every later one writes `held: <prompt>` to
    standard error and then takes steps that never end until the job is cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.renders = 0

    def generate(self, request, inputs, ctx):
        self.renders += 1
        if self.renders == 1:
            return super().generate(request, inputs, ctx)
        print(f"held: {request.prompt}", file=sys.stderr, flush=True)
        while True:
            ctx.check_cancelled()  # raises once the job is cancelled
            time.sleep(0.01)  # one step


def _factory(previz_class):
    def build(name: str):
        return previz_class() if name == "previz" else default_backend_factory(name)

    return build


gated = _factory(GatedPreviz)
noisy = _factory(NoisyPreviz)
crashing = _factory(CrashingPreviz)
held = _factory(HeldPreviz)
segfaulting = _factory(SegfaultingPreviz)


class GatedScripted:
    """A tiny scripted backend (four steps, frames of one colour) that holds every job at
    its first step until the gate file exists, and notes each unload in the file beside
    it (`unloads_of(gate)`): the same test can drive it in this process, in the engine's
    child process and in a farm's actors."""

    name = "scripted"
    steps = 4

    def capabilities(self, model_id):
        return Capabilities()

    def load(self, model_id, ctx, profile=None) -> None:
        pass

    def generate(self, request, inputs, ctx):
        gate = Path(os.environ[GATE])
        while not gate.exists():
            ctx.check_cancelled()
            time.sleep(0.01)
        for step in range(1, self.steps + 1):
            ctx.check_cancelled()
            ctx.progress(step, self.steps, Stage.DENOISING)
        value = (request.seed * 37) % 256
        return np.full((request.frames, request.height, request.width, 3), value, np.uint8)

    def unload(self) -> None:
        with unloads_of(Path(os.environ[GATE])).open("a") as notes:
            notes.write("unloaded\n")


def unloads_of(gate: Path) -> Path:
    return gate.with_name(gate.name + ".unloads")


def gated_scripted(name: str) -> GatedScripted:
    return GatedScripted()
