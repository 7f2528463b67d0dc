"""Backends for tests that render in a child process; the child imports them by name
('tests.engine.render.host_backends:gated' for `python -m engine.render.process --backends`, or in
`GALLOP_BACKENDS` for `gallop render`), so they live in a module, not in a test."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from engine.backends.previz import PrevizBackend
from engine.render.worker import default_backend_factory

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
