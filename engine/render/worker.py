"""The engine: one long-lived worker thread that turns generation requests into takes,
and export requests into films.

Callers (the CLI, the farm's actors, and the engine process the studio window renders
through, engine/render/process.py) submit requests and receive events of `studio.jobs` through one
thread-safe callback. The thread owns the loaded models; commands reach it through a
condition-guarded queue, so it sleeps when idle.
A request whose hash is already in the take store finishes at once with no compute.
Cancel removes a queued job at once and stops a running one at its next step; a
cancelled or failed job leaves nothing in the take store, nor at an export's output.
An export (`ExportRequest` with `ExportInputs`) is written by `engine.export.run` on this
thread, with the progress throttle and the events of a render.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import threading
import time
import traceback
from abc import abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import numpy as np

from engine.media.adherence import measured, record_measures
from engine.models.installed import weights_of
from engine.protocol import (
    Backend,
    BackendFactory,
    EventSink,
    ExportInputs,
    JobCancelled,
    RenderInputs,
    RenderService,
    Submit,
)
from engine.render.extend import SegmentFiles, render
from engine.render.faults import failure, looks_out_of_memory
from engine.render.guide import record_camera, with_guide
from studio.errors import StudioError
from studio.jobs import (
    Cancelled,
    Event,
    ExportRequest,
    Finished,
    GenerationRequest,
    Preview,
    Priority,
    Progress,
    Quantization,
    Queued,
    Stage,
    Started,
)
from studio.project.model import Take
from studio.project.takes import TakeStore

PROGRESS_INTERVAL = 0.1  # seconds between progress events...
PROGRESS_STEP = 0.01  # ...unless progress moved by at least this fraction
PREVIEW_INTERVAL = 0.25


@dataclass
class Job:
    """A submitted job in a service's queue: its place (`order`, within its priority) and
    its cancel flag."""

    id: str
    request: GenerationRequest | ExportRequest
    inputs: RenderInputs | ExportInputs
    priority: Priority
    order: int
    label: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def of(cls, submitted: Submit, order: int) -> Self:
        return cls(
            submitted.job_id,
            submitted.request,
            submitted.inputs,
            submitted.priority,
            order,
            submitted.label,
        )

    @property
    def sort_key(self) -> tuple[int, int]:
        return (int(self.priority), self.order)


def deliver(sink: EventSink, event: Event) -> None:
    """Hand an event to a listener; a broken listener must not kill the worker thread."""
    try:
        sink(event)
    except Exception:
        traceback.print_exc()


class QueuedService(RenderService):
    """A render service that keeps its queue of jobs itself (the engine thread, the farm):
    they start by priority, then by their order, which `reorder` and `reprioritise`
    change. The queue is guarded by the service's one lock (`guard`), also held while a job
    is reported queued or cancelled (to `on_event`); `_queued` wakes the service's thread,
    which starts the jobs and lives as long as the service works."""

    job_class: type[Job] = Job
    name = "engine"  # as the error of a submit after `shutdown` calls it
    _thread: threading.Thread

    def __init__(self, guard: threading.Lock | threading.Condition, on_event: EventSink) -> None:
        self._guard = guard
        self._on_event = on_event
        self._pending: list[Job] = []
        self._order = itertools.count()
        self._stopping = False

    def _emit(self, event: Event) -> None:
        deliver(self._on_event, event)

    @abstractmethod
    def _queued(self) -> None:
        """A job was queued (called holding the guard)."""

    def _enqueue(self, submitted: Submit) -> None:
        job = self.job_class.of(submitted, next(self._order))
        with self._guard:
            if self._stopping:
                raise StudioError(f"the {self.name} has shut down")
            self._pending.append(job)
            self._emit(Queued(job.id, self._in_order().index(job)))
            self._queued()

    def _in_order(self) -> list[Job]:
        """The queued jobs in the order they start (called holding the guard)."""
        return sorted(self._pending, key=lambda j: j.sort_key)

    def _cancel_queued(self, job_id: str) -> bool:
        """Cancel the queued job with this id, if there is one (called holding the guard)."""
        for job in self._pending:
            if job.id == job_id:
                self._pending.remove(job)
                self._emit(Cancelled(job_id))
                return True
        return False

    def reprioritise(self, job_id: str, priority: Priority) -> bool:
        with self._guard:
            for job in self._pending:
                if job.id == job_id:
                    job.priority = priority
                    return True
        return False

    def reorder(self, job_ids: Sequence[str]) -> None:
        """Queued jobs start in this order (within their priority); others keep theirs."""
        with self._guard:
            by_id = {job.id: job for job in self._pending}
            for job_id in job_ids:
                if job_id in by_id:
                    by_id[job_id].order = next(self._order)

    def pending(self) -> list[str]:
        with self._guard:
            return [job.id for job in self._in_order()]

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


def default_backend_factory(name: str) -> Backend:
    """Backends are imported on first use, in the engine thread: torch loads lazily."""
    if name == "previz":
        from engine.backends.previz import PrevizBackend

        return PrevizBackend()
    if name == "diffusers":
        from engine.render.preload import preload_torch_libraries

        preload_torch_libraries()  # other threads keep running while torch loads
        from engine.backends.diffusers import DiffusersBackend

        return DiffusersBackend()
    raise StudioError(f"unknown render backend {name!r} (expected 'previz' or 'diffusers')")


# How much nicer (in Unix nice steps) the engine thread of a window runs than the window.
BACKGROUND_NICENESS = 10


def lower_thread_priority(steps: int = BACKGROUND_NICENESS) -> bool:
    """Lower the calling thread's CPU priority, and with it that of the threads it starts
    later (torch's compute threads): the window's thread then gets a core whenever it
    needs one. Linux only (elsewhere nothing changes); returns whether it took effect."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + steps))
    except (OSError, AttributeError):
        return False
    return True


def background_niceness() -> int | None:
    """The niceness of an engine below this thread (`BACKGROUND_NICENESS` more), or None
    where the system has none."""
    if not hasattr(os, "getpriority"):
        return None
    try:
        return min(19, os.getpriority(os.PRIO_PROCESS, 0) + BACKGROUND_NICENESS)
    except OSError:
        return None


def set_niceness(niceness: int, pid: int = 0) -> bool:
    try:
        os.setpriority(os.PRIO_PROCESS, pid, niceness)
    except (OSError, AttributeError):
        return False
    return True


def stored_take(store: TakeStore, request: GenerationRequest) -> Take | None:
    """The take of this exact request when the store has it whole: a take whose file no
    longer matches its recorded hash (cut short, swapped) is rendered again."""
    take_id = request.hash
    media = store.intact(take_id)
    if media is None:
        return None
    created = datetime.fromtimestamp(media.stat().st_mtime, UTC)
    return Take(
        id=take_id,
        request=request,
        media=f"{store.folder.name}/{media.name}",
        created=created.isoformat(timespec="seconds"),
        **measured(store, request),
    )


class _Context:
    """The RenderContext of one job: throttled progress with an ETA, previews, cancel."""

    def __init__(self, engine: Engine, job: Job) -> None:
        self._engine = engine
        self._job = job
        self._last_emit = 0.0
        self._last_fraction = -1.0
        self._last_preview = 0.0
        self._stage: Stage | None = None
        self._stage_start = 0.0
        self._stage_first_step = 0

    def progress(self, step: int, total: int, stage: Stage, message: str = "") -> None:
        now = self._engine.clock()
        if stage != self._stage:
            self._stage, self._stage_start, self._stage_first_step = stage, now, step
            self._last_fraction = -1.0
        fraction = step / total if total > 0 else 0.0
        due = (
            step >= total
            or fraction - self._last_fraction >= PROGRESS_STEP
            or now - self._last_emit >= PROGRESS_INTERVAL
        )
        if not due:
            return
        eta = None
        done = step - self._stage_first_step
        if done > 0 and total > step:
            eta = (now - self._stage_start) / done * (total - step)
        self._last_emit, self._last_fraction = now, fraction
        self._engine._emit(Progress(self._job.id, step, total, stage, eta, message))

    def preview(self, step: int, image: np.ndarray) -> None:
        now = self._engine.clock()
        if now - self._last_preview >= PREVIEW_INTERVAL:
            self._last_preview = now
            self._engine._emit(Preview(self._job.id, step, image))

    def check_cancelled(self) -> None:
        if self._job.cancel.is_set():
            raise JobCancelled(self._job.id)

    def log(self, message: str) -> None:
        self._engine._emit(
            Progress(self._job.id, 0, 0, self._stage or Stage.LOADING, None, message)
        )


class Engine(QueuedService):
    """The render engine, a `engine.protocol.RenderService`: `start()` it, `submit()`
    renders and exports, `shutdown()` once.

    `low_priority` (the window's engine) runs the engine thread, and the compute threads
    it starts, at a lower CPU priority than the window (`lower_thread_priority`).
    """

    def __init__(
        self,
        take_store: TakeStore,
        on_event: EventSink,
        backend_factory: BackendFactory = default_backend_factory,
        *,
        clock: Callable[[], float] = time.monotonic,
        low_priority: bool = False,
    ) -> None:
        self.take_store = take_store
        self.low_priority = low_priority
        self._backend_factory = backend_factory
        self.clock = clock
        self._cond = threading.Condition()
        super().__init__(self._cond, on_event)
        self._commands: deque[threading.Event] = deque()  # unloads, set once done
        self._current: Job | None = None
        self._backends: dict[str, Backend] = {}
        self._thread = threading.Thread(target=self._run, name="gallop-engine", daemon=True)

    # -- public API, any thread ----------------------------------------------------------
    def start(self) -> Engine:
        if self._thread.ident is None:
            self._thread.start()
        return self

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued job at once or a running one at its next step."""
        with self._cond:
            if self._cancel_queued(job_id):
                return True
            if self._current is not None and self._current.id == job_id:
                self._current.cancel.set()
                return True
        return False

    def cancel_all(self) -> None:
        with self._cond:
            pending, self._pending = self._pending, []
            for job in pending:
                self._emit(Cancelled(job.id))
            if self._current is not None:
                self._current.cancel.set()

    @property
    def running(self) -> str | None:
        with self._cond:
            return self._current.id if self._current else None

    def unload(self, *, wait: float | None = 0) -> None:
        """Free loaded models in the engine thread, after the current job and before any
        other starts. With `wait` (seconds, or None for as long as it takes), return once
        they are freed."""
        done = threading.Event()
        with self._cond:
            self._commands.append(done)
            self._cond.notify()
        if wait is None or wait > 0:
            done.wait(wait)

    def shutdown(self, timeout: float | None = None) -> None:
        """Cancel everything, unload the models and join the thread."""
        with self._cond:
            self._stopping = True
            pending, self._pending = self._pending, []
            for job in pending:
                self._emit(Cancelled(job.id))
            if self._current is not None:
                self._current.cancel.set()
            self._cond.notify()
        if threading.current_thread() is self._thread:
            return  # asked by a listener: the thread stops once the job's event is out
        if self._thread.is_alive():
            self._thread.join(timeout)
        elif self._backends:
            self._unload_all()

    # -- the engine thread ---------------------------------------------------------------
    def _queued(self) -> None:
        self._cond.notify()

    def _run(self) -> None:
        if self.low_priority:
            lower_thread_priority()
        try:
            while True:
                with self._cond:
                    while not self._pending and not self._commands and not self._stopping:
                        self._cond.wait()
                    done = self._commands.popleft() if self._commands else None
                    if done is not None:
                        job = None
                    elif self._stopping:
                        break
                    else:
                        job = min(self._pending, key=lambda j: j.sort_key)
                        self._pending.remove(job)
                        self._current = job
                if done is not None:
                    self._unload_all()
                    done.set()
                    continue
                self._run_one(job)
        finally:
            self._unload_all()
            with self._cond:
                for done in self._commands:
                    done.set()

    def _run_one(self, job: Job) -> None:
        """Run a job to its last event. Nothing it raises may end the thread: a caller
        waiting on the job would wait forever and every later job would stay queued."""
        try:
            end = self._run_job(job)
        except BaseException as exc:  # noqa: BLE001 - whatever escapes fails this job alone
            end = failure(job.id, exc)
        # The job stops being the running one as its last event goes out, in one step:
        # whoever hears that event finds the engine no longer on it.
        with self._cond:
            self._current = None
            try:
                self._emit(end)
            except BaseException:  # noqa: BLE001 - a listener's odd error; the loop goes on
                traceback.print_exc()

    def _unload_all(self) -> None:
        backends = list(self._backends.values())
        self._backends.clear()
        for backend in backends:
            try:
                backend.unload()
            except BaseException:  # noqa: BLE001 - a backend that cannot unload is dropped
                traceback.print_exc()

    def _backend(self, name: str) -> Backend:
        if name not in self._backends:
            self._backends[name] = self._backend_factory(name)
        return self._backends[name]

    def cached_take(self, request: GenerationRequest) -> Take | None:
        return stored_take(self.take_store, request)

    def _run_job(self, job: Job) -> Event:
        """Run one job, emitting its events up to its last one, which it returns. Whatever
        the backend, the take store or the file system raises becomes that last event."""
        self._emit(Started(job.id, job.label))
        tmp: Path | None = None
        partials: SegmentFiles | None = None
        end: Event
        export = isinstance(job.request, ExportRequest)
        try:
            if job.cancel.is_set():
                return Cancelled(job.id)
            if export:
                return self._run_export(job)
            # The store may hold anything under the take's name (a dangling link, a
            # folder): what it raises fails this job like any other render error.
            cached = self.cached_take(job.request)
            if cached is not None:
                return Finished(job.id, cached)
            ctx = _Context(self, job)
            # An extended shot offers each finished segment as a partial result; those
            # files go before the job's last event, whatever its outcome.
            partials = SegmentFiles(self.take_store.folder, job.id, job.request.fps, self._emit)
            backend = self._backend(job.request.backend)
            ctx.progress(0, 1, Stage.LOADING)
            if job.request.quantization == Quantization.NONE:
                backend.load(job.request.model_id, ctx, job.request.profile)
            else:  # only a diffusion model's request is ever quantized
                backend.load(
                    job.request.model_id, ctx, job.request.profile, job.request.quantization
                )
            ctx.check_cancelled()
            # A guided render's previz is made here, so its manifest names what it followed.
            inputs = with_guide(job.request, job.inputs)
            frames = render(backend, job.request, inputs, ctx, on_segment=partials.write)
            ctx.check_cancelled()
            if job.request.colour_match and job.inputs.continuity is not None:
                from engine.media.continuity import match_join

                frames = match_join(job.inputs.continuity, frames)
            ctx.progress(0, 1, Stage.WRITING)
            tmp = self._write_media(job, frames)
            ctx.check_cancelled()
            self.take_store.insert_file(
                job.request.hash,
                tmp,
                job.request.canonical_json(),
                move=True,
                model=weights_of(job.request.backend, job.request.model_id),
            )
            tmp = None
            # The camera against its rig (and a chained take's colour jump), in its manifest.
            record_measures(self.take_store, job.request, frames, job.inputs.continuity)
            record_camera(self.take_store, job.request, inputs)
            ctx.progress(1, 1, Stage.WRITING)
            take = self.cached_take(job.request)
            if take is None:
                raise StudioError("the take vanished from the take store as it was saved")
            end = Finished(job.id, take)
        except JobCancelled:
            end = Cancelled(job.id)
        except BaseException as exc:  # noqa: BLE001 - odd exceptions too: the loop goes on
            end = failure(job.id, exc, "Export" if export else "Render")
            if looks_out_of_memory(exc):
                # Free what the failed job held so the next one starts clean.
                self._unload_all()
        finally:
            with contextlib.suppress(Exception):
                if partials is not None:
                    partials.remove()
            if tmp is not None:
                with contextlib.suppress(OSError):
                    tmp.unlink()
        return end

    def _run_export(self, job: Job) -> Event:
        """Write an export's film; its progress goes through the job's throttle. The export
        removes what it wrote when it raises (cancelled or failed)."""
        from engine.export.run import Export

        assert isinstance(job.inputs, ExportInputs)
        ctx = _Context(self, job)

        def on_progress(done: int, total: int) -> None:
            ctx.progress(done, total, Stage.EXPORTING)

        export = Export(job.inputs.project, job.inputs.folder, job.request, on_progress, job.cancel)
        return Finished(job.id, export.run())

    def _write_media(self, job: Job, frames: np.ndarray) -> Path:
        from engine.media.video import write_video

        # Named with this process's pid, so a later run removes it if this one is killed.
        path = self.take_store.render_file(job.id)
        try:
            # Takes are working masters: near-lossless (crf 16) but quick to write.
            write_video(path, frames, job.request.fps, crf=16, preset="veryfast")
        except BaseException:
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        return path
