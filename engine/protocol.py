"""The engine's vocabulary: the render service, the backends it runs, and the commands
that cross the engine process's pipe.

`RenderService` is what the studio, the CLI and the batch renderer render through. The
engine thread (`engine.render.worker.Engine`), the engine in a child process
(`engine.render.process.EngineProcess`) and the Ray farm (`engine.render.farm.FarmEngine`)
all implement it, and tests/engine/render/test_service_contract.py holds each of them to it:

- `submit` queues a request and returns its job id at once; its events (`Queued`,
  `Started`, `Progress`..., then one of `Finished(take)`, `Failed`, `Cancelled`) reach the
  service's one event callback, on a thread of the service. A request whose take is
  already in the store finishes with no compute (`Started` then `Finished`).
- Queued jobs start by priority (`Priority.DRAFT` first), then by their order, which is
  the order they were submitted in until `reorder` or `reprioritise` changes it.
- `cancel` ends a queued job at once and a running one at its next step; a cancelled or
  failed job leaves nothing in the take store. `cancel_all` does that to every job.
- `unload` frees the loaded models once the running jobs are done, before any job queued
  after it starts.
- `shutdown` cancels everything, frees the models and stops the service; a later
  `submit` raises `StudioError`. It is called once.

Each service also takes an `ExportRequest` with its `ExportInputs`: the export is a job
like a render, in the same queue (final priority unless told), with the same events,
progress at `Stage.EXPORTING` and `Finished(ExportResult)`; a cancelled or failed export
leaves nothing at its output. The engine process writes it in its child, the farm on the
machine that drives it (where the project and the output are).

The three implementations subclass `RenderService` and inherit its `submit`, which settles
a request's job id, inputs and priority and hands the resulting `Submit` to their own
`_enqueue`: the rules of submitting are written once.

A `Backend` turns a `GenerationRequest` plus its input images into frames. It is loaded
and unloaded by the engine thread only; device and dtype are chosen in `load`, never at
import. While it works it reports through the `RenderContext` and calls
`ctx.check_cancelled()` at every step, which raises `JobCancelled` so that no further work
(no VAE decode) runs.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from studio.errors import StudioError
from studio.jobs import (
    Event,
    ExportRequest,
    GenerationRequest,
    Priority,
    Profile,
    Stage,
    new_job_id,
)
from studio.project.model import Project
from studio.project.takes import TakeStore
from studio.render_plan import snap_frames

EventSink = Callable[[Event], None]


# --- errors -------------------------------------------------------------------------------


class JobCancelled(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised inside a backend when its job was cancelled."""


class RenderError(StudioError):
    """A render failed for a reason the user can act on (missing model, bad input...)."""


class OutOfMemory(RenderError):
    """The device ran out of memory even after every fallback."""


# --- backends -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do with a model: modes and frame-count rule."""

    text_to_video: bool = True
    image_to_video: bool = False
    video_to_video: bool = False
    frame_multiple: int = 1  # frames must be frame_multiple * n + 1 (1: any count)
    max_frames: int | None = None

    def snap_frames(self, frames: int) -> int:
        """The valid frame count nearest `frames` (ties go up), within `max_frames`: the
        planner's rule (`studio.render_plan.snap_frames`)."""
        return snap_frames(frames, self.frame_multiple, self.max_frames)


@dataclass
class RenderInputs:
    """Files and frames a request refers to by hash: the engine resolves them for the backend."""

    keyframe: Path | None = None
    references: tuple[Path, ...] = ()
    # The LoRA files of the request's `loras`, in the same order.
    loras: tuple[Path, ...] = ()
    # RGB uint8 (h, w, 3) frames to continue from (the previous shot's or segment's last).
    continuity: np.ndarray | None = None
    # RGB uint8 (k, h, w, 3): the frames this clip must begin with (an extension segment's
    # overlap with the segment before). Image-to-video starts from the first of them; a
    # condition pipeline that takes several frames is given them all.
    lead_in: np.ndarray | None = None
    # RGB uint8 (t, h, w, 3) structure video for guided video-to-video.
    guide: np.ndarray | None = None
    # The picture the clip ends on (the shot's end keyframe), for a model that can end on a
    # given frame (first and last frame to video).
    last_frame: Path | None = None
    # Keyframes inside the clip: the pictures, and the frame each is shown at (as many).
    middle: tuple[Path, ...] = ()
    middle_frames: tuple[int, ...] = ()


@dataclass(frozen=True)
class ExportInputs:
    """What an `ExportRequest` is read against: the project (a snapshot the caller will not
    change while the export runs) and its folder, where the takes and sounds are."""

    project: Project
    folder: Path


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
        dtype here. A backend that quantizes (diffusers) also takes the request's
        `Quantization` as a fourth argument, given only when it is not NONE."""
        ...

    def generate(
        self, request: GenerationRequest, inputs: RenderInputs, ctx: RenderContext
    ) -> np.ndarray:
        """Frames as RGB uint8 of shape (frames, height, width, 3)."""
        ...

    def unload(self) -> None: ...


ProgressCallback = Callable[[int, int, Stage], None]
BackendFactory = Callable[[str], Backend]


# --- the render service -------------------------------------------------------------------


@runtime_checkable
class RenderService(Protocol):
    """What renders requests into takes and exports into films: the engine thread, the
    engine process, the farm.

    Every method may be called from any thread. The members are methods and the cheap
    `alive` and `take_store` (a runtime `isinstance` reads them all). An implementation
    subclasses this protocol, inherits `submit` and implements `_enqueue`."""

    take_store: TakeStore

    def start(self) -> RenderService:
        """Start working (the engine thread, the child, the farm's dispatcher); returns
        the service. Starting twice is harmless."""
        ...

    def submit(
        self,
        request: GenerationRequest | ExportRequest,
        inputs: RenderInputs | ExportInputs | None = None,
        *,
        priority: Priority | None = None,
        label: str = "",
        job_id: str | None = None,
    ) -> str:
        """Queue a render, or an export with its `ExportInputs`; returns its job id
        (`job_id` when given). With no `priority`, previz renders are drafts and everything
        else final. `label` is the `Started` event's description. Raises `StudioError` once
        the service has shut down, `TypeError` for an export without its inputs."""
        if isinstance(request, ExportRequest):
            if not isinstance(inputs, ExportInputs):
                raise TypeError("an export request needs its ExportInputs")
            default = Priority.FINAL
        else:
            default = Priority.DRAFT if request.backend == "previz" else Priority.FINAL
        job = Submit(
            job_id or new_job_id(),
            request,
            inputs or RenderInputs(),
            default if priority is None else priority,
            label,
        )
        self._enqueue(job)
        return job.job_id

    @abstractmethod
    def _enqueue(self, job: Submit) -> None:
        """Queue a job whose id, inputs and priority `submit` has settled, reporting it
        `Queued`; raise `StudioError` once the service has shut down."""

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued job at once or a running one at its next step; whether the
        job was there to cancel."""
        ...

    def cancel_all(self) -> None:
        """Cancel every queued and running job."""
        ...

    def reprioritise(self, job_id: str, priority: Priority) -> bool:
        """Give a queued job another priority; whether it was queued."""
        ...

    def reorder(self, job_ids: Sequence[str]) -> None:
        """Queued jobs start in this order (within their priority); others keep theirs."""
        ...

    def pending(self) -> list[str]:
        """The queued jobs, in the order they will start."""
        ...

    def unload(self) -> None:
        """Free the loaded models after the running jobs, before any later job starts."""
        ...

    def shutdown(self, timeout: float | None = None) -> None:
        """Cancel everything, free the models and stop, waiting up to `timeout` seconds."""
        ...

    @property
    def alive(self) -> bool:
        """Whether the service is working (not shut down, not crashed)."""
        ...


ServiceFactory = Callable[[TakeStore, EventSink], RenderService]


# --- commands on the engine process's pipe ------------------------------------------------
# The parent sends these to `engine.render.process`'s child, which handles each in one
# dispatch; the child sends back the `studio.jobs` events themselves and `Reply`.


@dataclass(frozen=True)
class Submit:
    """A request with its job id, inputs and priority settled: what `RenderService.submit`
    hands to `_enqueue`, and the command that carries it to the engine process."""

    job_id: str
    request: GenerationRequest | ExportRequest
    inputs: RenderInputs | ExportInputs
    priority: Priority
    label: str = ""

    def absolute(self) -> Submit:
        """This job with every file it names made absolute, for a process that works in
        another folder: each path of a render's inputs (keyframe, references...), an
        export's project folder and output."""
        request, inputs = self.request, self.inputs
        if isinstance(inputs, ExportInputs):
            assert isinstance(request, ExportRequest)
            request = replace(request, output=os.path.abspath(request.output))
            inputs = replace(inputs, folder=_absolute(inputs.folder))
        else:
            inputs = replace(inputs, **_absolute_paths(inputs))
        return replace(self, request=request, inputs=inputs)


def _absolute(path: os.PathLike[str]) -> Path:
    return Path(os.path.abspath(path))


def _absolute_paths(inputs: RenderInputs) -> dict[str, Any]:
    """The fields of `inputs` that hold a path or a tuple of paths, made absolute."""
    changed: dict[str, Any] = {}
    for name in (f.name for f in fields(inputs)):
        value = getattr(inputs, name)
        if isinstance(value, os.PathLike):
            changed[name] = _absolute(value)
        elif isinstance(value, tuple) and all(isinstance(v, os.PathLike) for v in value):
            changed[name] = tuple(_absolute(v) for v in value)
    return changed


@dataclass(frozen=True)
class Cancel:
    job_id: str


@dataclass(frozen=True)
class CancelAll:
    pass


@dataclass(frozen=True)
class Reprioritise:
    job_id: str
    priority: Priority


@dataclass(frozen=True)
class Reorder:
    job_ids: tuple[str, ...]


@dataclass(frozen=True)
class Unload:
    pass


@dataclass(frozen=True)
class Shutdown:
    pass


@dataclass(frozen=True)
class Ask:
    """A question whose answer comes back as `Reply(number, value)`: `what` is
    "pending" (the queued job ids in order) or "running" (the running job's id or None)."""

    number: int
    what: str


Command = Submit | Cancel | CancelAll | Reprioritise | Reorder | Unload | Shutdown | Ask


@dataclass(frozen=True)
class Reply:
    number: int
    value: Any
