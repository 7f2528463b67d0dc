"""The backend protocol: what every renderer (previz, diffusers, ...) offers the engine.

A backend turns a `GenerationRequest` plus its input images into frames. It is loaded and
unloaded by the engine thread only; device and dtype are chosen in `load`, never at import.
While it works it reports through the `RenderContext` and calls `ctx.check_cancelled()`
at every step, which raises `JobCancelled` so that no further work (no VAE decode) runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from studio.errors import StudioError
from studio.jobs import GenerationRequest, Profile, Stage


class JobCancelled(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised inside a backend when its job was cancelled."""


class RenderError(StudioError):
    """A render failed for a reason the user can act on (missing model, bad input...)."""


class OutOfMemory(RenderError):
    """The device ran out of memory even after every fallback."""


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do with a model: modes and frame-count rule."""

    text_to_video: bool = True
    image_to_video: bool = False
    video_to_video: bool = False
    frame_multiple: int = 1  # frames must be frame_multiple * n + 1 (1: any count)
    max_frames: int | None = None

    def snap_frames(self, frames: int) -> int:
        """The valid frame count nearest `frames` (ties go up), within `max_frames`."""
        m = self.frame_multiple
        if m <= 1:
            count = max(1, frames)
        else:
            k = max(1, (frames - 1 + m // 2) // m)
            count = k * m + 1
            if self.max_frames is not None and count > self.max_frames:
                count = (self.max_frames - 1) // m * m + 1
        if self.max_frames is not None:
            count = min(count, self.max_frames)
        return count


@dataclass
class RenderInputs:
    """Files and frames a request refers to by hash: the engine resolves them for the backend."""

    keyframe: Path | None = None
    references: tuple[Path, ...] = ()
    # RGB uint8 (h, w, 3) frames to continue from (the previous shot's or segment's last).
    continuity: np.ndarray | None = None
    # RGB uint8 (k, h, w, 3): the frames this clip must begin with (an extension segment's
    # overlap with the segment before). Image-to-video starts from the first of them; a
    # condition pipeline that takes several frames is given them all.
    lead_in: np.ndarray | None = None
    # RGB uint8 (t, h, w, 3) structure video for guided video-to-video.
    guide: np.ndarray | None = None


class RenderContext(Protocol):
    """Given to `Backend.generate`; implemented by the engine."""

    def progress(self, step: int, total: int, stage: Stage, message: str = "") -> None: ...

    def preview(self, step: int, image: np.ndarray) -> None: ...

    def check_cancelled(self) -> None:
        """Raise `JobCancelled` when the job was cancelled."""
        ...

    def log(self, message: str) -> None: ...


class NullContext:
    """A RenderContext that reports nothing and never cancels: for nested or scripted renders."""

    def progress(self, step: int, total: int, stage: Stage, message: str = "") -> None:
        pass

    def preview(self, step: int, image: np.ndarray) -> None:
        pass

    def check_cancelled(self) -> None:
        pass

    def log(self, message: str) -> None:
        pass


class Backend(Protocol):
    """A renderer. One instance lives in the engine thread and may keep a model loaded."""

    name: str

    def capabilities(self, model_id: str) -> Capabilities: ...

    def load(self, model_id: str, ctx: RenderContext, profile: Profile = Profile.QUALITY) -> None:
        """Make `model_id` ready in `profile` (no-op when it already is); choose device and
        dtype here."""
        ...

    def generate(
        self, request: GenerationRequest, inputs: RenderInputs, ctx: RenderContext
    ) -> np.ndarray:
        """Frames as RGB uint8 of shape (frames, height, width, 3)."""
        ...

    def unload(self) -> None: ...


ProgressCallback = Callable[[int, int, Stage], None]
