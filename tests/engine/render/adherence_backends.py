"""Backends whose takes follow their rig to a known degree, for the camera-adherence tests
(named in `GALLOP_BACKENDS` as 'tests.engine.render.adherence_backends:by_seed', so they
live in a module): a take's seed decides how its camera obeys."""

from __future__ import annotations

import numpy as np

from engine.backends.previz import PrevizBackend


class StillBackend(PrevizBackend):
    """The previz's first frame held for the whole take: a camera that never moves."""

    name = "still"

    def generate(self, request, inputs, ctx):
        frames = super().generate(request, inputs, ctx)
        frames[1:] = frames[0]
        return frames


class BySeedBackend(PrevizBackend):
    """Seed % 3 == 0: a still take; 1: the rig's path slowed down (its frames at 70 % of
    their time, so the take ends short of the move); 2: the rig's own frames with film
    grain. So of three seeds in a row, exactly one
    follows its rig, one half follows it, and one ignores it."""

    name = "by-seed"

    def generate(self, request, inputs, ctx):
        frames = super().generate(request, inputs, ctx)
        kind = request.seed % 3
        if kind == 0:
            frames[1:] = frames[0]
        elif kind == 1:
            frames = frames[np.round(np.arange(len(frames)) * 0.7).astype(int)]
        else:
            grain = np.random.default_rng(request.seed).normal(0.0, 4.0, frames.shape)
            frames = np.clip(frames + grain, 0, 255).astype(np.uint8)
        return frames


def by_seed(name: str):
    return BySeedBackend()


def still(name: str):
    return StillBackend()
