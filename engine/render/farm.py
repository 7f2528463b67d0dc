"""The shot farm: renders on many GPUs, on one or several machines, with Ray.

`FarmEngine` is a `engine.protocol.RenderService`, like the local engine (the events of
`studio/jobs.py` through one callback), so `gallop render --ray` and the studio window
can use it in place of the local engine. Its queue is its own: jobs wait in the driver,
ordered by priority and then by their order (which `reorder` and `reprioritise` change),
and start as actors become idle; `unload` frees the models of each actor before it takes
its next job. Each Ray actor holds one GPU (`num_gpus=1`) and
runs a real local `Engine` inside, so its pipeline stays loaded between shots and the
out-of-memory ladder runs where the GPU is. Finished takes come back as bytes and enter
the project's take store with an atomic insert (or are written straight into a shared
take folder when one is given). An actor that dies mid-shot is replaced and the shot is
retried on another actor, up to `max_retries` times; nothing partial is ever stored.

Exports share the queue but not the actors: each is written by an engine thread of the
driver (the process that made the farm), one at a time, while the actors go on rendering.
An export needs no GPU, and it reads the project's takes and writes the film where the
driver is: on the machine with the project folder. On an actor it would need every take
shipped to it and the film shipped back, and would hold a GPU it does not use.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import traceback
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.protocol import EventSink, RenderInputs, ServiceFactory
from engine.render.guide import record_camera
from engine.render.process import DEFAULT_BACKENDS, load_factory
from engine.render.worker import Engine, Job, QueuedService, stored_take
from studio.errors import StudioError
from studio.jobs import (
    TERMINAL_EVENTS,
    Cancelled,
    Event,
    ExportRequest,
    Failed,
    Finished,
    GenerationRequest,
    Queued,
    Started,
)
from studio.project.takes import TakeStore

INSTALL_HINT = "pip install 'gallop-studio[cluster]'"

log = logging.getLogger(__name__)


class FarmUnavailable(StudioError):
    pass


def require_ray():
    try:
        import ray
    except ImportError:
        raise FarmUnavailable(
            f"rendering on a Ray cluster needs Ray, which is not installed: {INSTALL_HINT}"
        ) from None
    return ray


# --- what travels to an actor -------------------------------------------------------------


def pack_inputs(inputs: RenderInputs) -> dict[str, Any]:
    """Input files as bytes: an actor on another machine cannot read the project folder."""
    return {
        "keyframe": None
        if inputs.keyframe is None
        else (inputs.keyframe.name, inputs.keyframe.read_bytes()),
        "references": [(p.name, p.read_bytes()) for p in inputs.references],
        "loras": [(p.name, p.read_bytes()) for p in inputs.loras],
        "middle": [(p.name, p.read_bytes()) for p in inputs.middle],
        "middle_frames": list(inputs.middle_frames),
        "continuity": inputs.continuity,
        "guide": inputs.guide,
        "last_frame": None
        if inputs.last_frame is None
        else (inputs.last_frame.name, inputs.last_frame.read_bytes()),
    }


def unpack_inputs(payload: dict[str, Any], folder: Path) -> RenderInputs:
    folder.mkdir(parents=True, exist_ok=True)

    def write(index: int, item: tuple[str, bytes]) -> Path:
        path = folder / f"{index}-{item[0]}"
        path.write_bytes(item[1])
        return path

    keyframe = payload["keyframe"]
    return RenderInputs(
        keyframe=None if keyframe is None else write(0, keyframe),
        references=tuple(write(i + 1, r) for i, r in enumerate(payload["references"])),
        loras=tuple(
            write(len(payload["references"]) + i + 1, lora)
            for i, lora in enumerate(payload.get("loras", ()))
        ),
        middle=tuple(write(-2 - i, m) for i, m in enumerate(payload.get("middle", ()))),
        middle_frames=tuple(payload.get("middle_frames", ())),
        continuity=payload["continuity"],
        guide=payload["guide"],
        last_frame=None if payload.get("last_frame") is None else write(-1, payload["last_frame"]),
    )


class ShotWorker:
    """The body of a farm actor: a local engine whose events go back through a Ray queue.
    `backends` names its backend factory as 'module:function' (imported in the actor)."""

    def __init__(
        self, events: Any, shared_takes: str | None = None, backends: str = DEFAULT_BACKENDS
    ) -> None:
        from engine.render.worker import Engine

        self._events = events
        self._tmp = Path(tempfile.mkdtemp(prefix="gallop-farm-"))
        self._shared = shared_takes is not None
        self.store = TakeStore(Path(shared_takes) if shared_takes else self._tmp / "takes")
        self._done: dict[str, Event] = {}
        self._cancelled: set[str] = set()  # cancelled before their render reached the engine
        self._handover = threading.Lock()  # a render reaching the engine, or a cancel
        self._cond = threading.Condition()
        self.engine = Engine(self.store, self._on_event, load_factory(backends)).start()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, TERMINAL_EVENTS):
            with self._cond:
                self._done[event.job_id] = event
                self._cond.notify_all()
        elif not isinstance(event, Queued):
            self._events.put(event)

    def pid(self) -> int:
        return os.getpid()

    def render(
        self, job_id: str, request: dict[str, Any], payload: dict[str, Any], label: str = ""
    ) -> dict:
        req = GenerationRequest.from_dict(request)
        inputs = unpack_inputs(payload, self._tmp / "inputs" / job_id)
        with self._handover:
            if job_id in self._cancelled:
                self._cancelled.discard(job_id)
                return {"status": "cancelled"}
            self.engine.submit(req, inputs, label=label, job_id=job_id)
        with self._cond:
            self._cond.wait_for(lambda: job_id in self._done)
            event = self._done.pop(job_id)
        if isinstance(event, Finished):
            media = self.store.find(req.hash)
            result = {"status": "finished", "ext": media.suffix.lstrip(".")}
            if not self._shared:
                result["data"] = media.read_bytes()
                result["measures"] = self.store.measures(req.hash)  # the camera, the join
                self.store.remove(req.hash)  # the project's store keeps it now
            return result
        if isinstance(event, Failed):
            return {"status": "failed", "message": event.message, "detail": event.detail}
        return {"status": "cancelled"}

    def cancel(self, job_id: str) -> None:
        with self._handover:
            if not self.engine.cancel(job_id):
                self._cancelled.add(job_id)  # its render has not begun: it never will

    def unload(self) -> None:
        """Free the loaded models; returns once they are (after the current job)."""
        self.engine.unload(wait=None)

    def shutdown(self) -> None:
        self.engine.shutdown(timeout=60)


@dataclass
class _FarmJob(Job):
    """A job of the farm: also the actor rendering it, that render's call, and its tries."""

    attempts: int = 0
    actor: Any = None
    ref: Any = None

    @property
    def export(self) -> bool:
        return isinstance(self.request, ExportRequest)


class FarmEngine(QueuedService):
    """Renders requests on Ray actors, one GPU each, and writes exports on the driver; a
    `RenderService` with the engine's events. `backends` names the actors' backend factory
    as 'module:function'. It starts working as it is made (`start` returns it); after
    `shutdown` a submit raises."""

    job_class = _FarmJob
    name = "farm"

    def __init__(
        self,
        take_store: TakeStore,
        on_event: EventSink,
        *,
        address: str = "local",
        actors: int | None = None,
        gpus_per_actor: float = 1.0,
        cpus_per_actor: float = 1.0,
        max_retries: int = 2,
        shared_takes: bool = False,
        init_options: dict[str, Any] | None = None,
        backends: str = DEFAULT_BACKENDS,
    ) -> None:
        ray = require_ray()
        self._ray = ray
        self.take_store = take_store
        self.max_retries = max_retries
        self._started_ray = False
        if not ray.is_initialized():
            options = {"log_to_driver": False, "include_dashboard": False}
            options.update(init_options or {})
            ray.init(address=None if address == "local" else address, **options)
            self._started_ray = True
        from ray.util.queue import Queue

        gpus = ray.cluster_resources().get("GPU", 0)
        count = actors or max(1, int(gpus // gpus_per_actor) if gpus_per_actor else 1)
        self._actor_options = {
            "num_gpus": gpus_per_actor if gpus else 0,
            "num_cpus": cpus_per_actor,
            "max_concurrency": 4,  # render blocks; cancel and pid must still get through
        }
        self._shared = str(take_store.folder) if shared_takes else None
        self.backends = backends
        self._events = Queue()
        self._remote = ray.remote(ShotWorker)
        log.info("Ray cluster %s: %g GPUs, %d render actors", address, gpus, count)
        self._actors = [self._new_actor() for _ in range(count)]
        self._idle: deque[Any] = deque(self._actors)
        self._lock = threading.Lock()
        super().__init__(self._lock, on_event)
        self._to_unload: set[Any] = set()  # actors to free before their next job
        self._running: dict[Any, _FarmJob] = {}
        self._exporter: Engine | None = None  # the driver's engine, made for the first export
        self._exporting: _FarmJob | None = None  # the export it is writing
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._dispatch, name="gallop-farm", daemon=True)
        self._thread.start()

    @property
    def actor_count(self) -> int:
        return len(self._actors)

    def _new_actor(self):
        return self._remote.options(**self._actor_options).remote(
            self._events, self._shared, self.backends
        )

    # -- the render service -----------------------------------------------------------------
    def start(self) -> FarmEngine:
        """The farm starts as it is made: nothing more to do."""
        return self

    def cancel(self, job_id: str) -> bool:
        with self._lock:
            if self._cancel_queued(job_id):
                return True
            for job in self._running.values():
                if job.id == job_id:
                    job.cancel.set()
                    job.actor.cancel.remote(job_id)
                    return True
            export, exporter = self._exporting, self._exporter
            if export is None or export.id != job_id:
                return False
            export.cancel.set()  # for `_start_export`, should it be handing it over
        # Outside the lock: the exporter holds its own while it reports a job's end.
        if exporter is not None:
            exporter.cancel(job_id)
        return True

    def cancel_all(self) -> None:
        with self._lock:
            ids = [job.id for job in self._pending] + [j.id for j in self._running.values()]
            if self._exporting is not None:
                ids.append(self._exporting.id)
        for job_id in ids:
            self.cancel(job_id)

    def running_jobs(self) -> list[str]:
        """The jobs the actors are rendering now (several at once, one per actor), and the
        export the driver is writing."""
        with self._lock:
            running = [job.id for job in self._running.values()]
            return running + ([self._exporting.id] if self._exporting is not None else [])

    def unload(self) -> None:
        """Free every actor's models: an idle actor's at once, a busy one's once its job
        is done, in either case before it takes another job."""
        with self._lock:
            self._to_unload.update(self._actors)
        self._wake.set()

    def actor_for(self, job_id: str):
        """The actor rendering a job (for tests and diagnostics), or None."""
        with self._lock:
            for job in self._running.values():
                if job.id == job_id:
                    return job.actor
        return None

    def shutdown(self, timeout: float | None = None) -> None:
        self.cancel_all()
        with self._lock:
            self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
        with self._lock:
            exporter = self._exporter
        if exporter is not None:  # its export, cancelled above, ends as Cancelled
            exporter.shutdown(timeout)
        for actor in self._actors:
            with contextlib.suppress(Exception):
                self._ray.get(actor.shutdown.remote(), timeout=30)
            with contextlib.suppress(Exception):
                self._ray.kill(actor)
        with contextlib.suppress(Exception):
            self._ray.kill(self._events.actor)
        if self._started_ray:
            self._ray.shutdown()

    # -- the dispatcher thread ----------------------------------------------------------------
    def _queued(self) -> None:
        self._wake.set()

    def _drain_events(self) -> None:
        while True:
            try:
                batch = self._events.get_nowait_batch(max(1, self._events.qsize()))
            except Exception:  # the queue is empty
                return
            if not batch:
                return
            for event in batch:
                self._emit(event)

    def _unload_idle(self) -> None:
        """Free the models of the idle actors that were asked to (waits until they are)."""
        with self._lock:
            actors = [actor for actor in self._idle if actor in self._to_unload]
            self._to_unload.difference_update(actors)
        if not actors:
            return
        calls = [actor.unload.remote() for actor in actors]
        for call in calls:
            try:
                self._ray.get(call, timeout=60)
            except Exception as exc:  # noqa: BLE001 - a dead actor is replaced when used
                log.warning("a render node could not free its models: %s", exc)

    def _start_ready(self) -> None:
        """Start the queued jobs in order, each where there is room for it: a render on an
        idle actor, an export on the driver when it is writing none."""
        self._unload_idle()
        export = None
        with self._lock:
            for job in self._in_order():
                if job.export:
                    if self._exporting is None:
                        self._pending.remove(job)
                        self._exporting = export = job
                    continue
                if not self._idle:
                    continue
                self._pending.remove(job)
                cached = stored_take(self.take_store, job.request)
                if cached is not None:
                    self._emit(Started(job.id, job.label))
                    self._emit(Finished(job.id, cached))
                    continue
                job.actor = self._idle.popleft()
                job.attempts += 1
                job.ref = job.actor.render.remote(
                    job.id, job.request.to_dict(), pack_inputs(job.inputs), job.label
                )
                self._running[job.ref] = job
        if export is not None:
            self._start_export(export)

    # -- exports, on the driver -------------------------------------------------------------
    def _start_export(self, job: _FarmJob) -> None:
        """Hand an export to the driver's engine (outside the farm's lock: the engine
        reports a job's end holding its own, and that report takes the farm's)."""
        with self._lock:
            if self._exporter is None:
                self._exporter = Engine(self.take_store, self._export_event).start()
            exporter = self._exporter
        exporter.submit(
            job.request, job.inputs, priority=job.priority, label=job.label, job_id=job.id
        )
        if job.cancel.is_set():  # cancelled as it was handed over, before the engine knew it
            exporter.cancel(job.id)

    def _export_event(self, event: Event) -> None:
        """The driver's engine reports an export: its place in the farm's queue was
        reported already; its end makes room for the next export."""
        if isinstance(event, Queued):
            return
        if isinstance(event, TERMINAL_EVENTS):
            with self._lock:
                self._exporting = None
            self._wake.set()
        self._emit(event)

    def _dispatch(self) -> None:
        ray = self._ray
        while True:
            self._start_ready()
            with self._lock:
                refs = list(self._running)
                stopping = self._stopping
            if stopping and not refs:
                break
            if not refs:
                self._wake.wait(0.1)
                self._wake.clear()
                self._drain_events()
                continue
            done, _ = ray.wait(refs, num_returns=1, timeout=0.1)
            self._drain_events()
            for ref in done:
                with self._lock:
                    job = self._running.pop(ref)
                self._finish(job, ref)
        self._drain_events()

    def _finish(self, job: _FarmJob, ref) -> None:
        ray = self._ray
        try:
            result = ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            self._replace(job.actor)
            if job.cancel.is_set():
                self._emit(Cancelled(job.id))
            elif job.attempts <= self.max_retries:
                log.warning(
                    "a render node died during %s (attempt %d); retrying on another: %s",
                    job.label or job.id,
                    job.attempts,
                    exc,
                )
                with self._lock:
                    self._pending.append(job)  # retried on another actor, keeping its place
            else:
                self._emit(Failed(job.id, f"the render node died {job.attempts} times", str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - a task error is reported, the farm goes on
            with self._lock:
                self._idle.append(job.actor)
            self._emit(Failed(job.id, f"Render failed on the farm: {exc}", traceback.format_exc()))
            return
        with self._lock:
            self._idle.append(job.actor)
        status = result["status"]
        if status == "finished":
            if "data" in result:
                self.take_store.insert_bytes(
                    job.request.hash, result["data"], job.request.canonical_json(), result["ext"]
                )
                if result.get("measures"):
                    self.take_store.record_measures(job.request.hash, result["measures"])
                record_camera(self.take_store, job.request)  # made from the request alone
            take = stored_take(self.take_store, job.request)
            if take is None:
                self._emit(Failed(job.id, "the finished take did not reach the take store"))
            else:
                self._emit(Finished(job.id, take))
        elif status == "failed":
            self._emit(Failed(job.id, result["message"], result.get("detail", "")))
        else:
            self._emit(Cancelled(job.id))

    def _replace(self, dead) -> None:
        with self._lock:
            if dead in self._actors:
                self._actors.remove(dead)
            self._to_unload.discard(dead)
            with contextlib.suppress(ValueError):
                self._idle.remove(dead)
            if not self._stopping:
                fresh = self._new_actor()
                self._actors.append(fresh)
                self._idle.append(fresh)


def farm_engine_factory(address: str, **options: Any) -> ServiceFactory:
    """An engine factory for `BatchRenderer` that renders on a Ray cluster."""

    def build(store: TakeStore, sink: EventSink) -> FarmEngine:
        return FarmEngine(store, sink, address=address, **options)

    return build
