"""The bridge between the engine and the window: engine events become Qt signals on the
GUI thread, and finished takes join their shots through the undo stack.

The engine runs in a process of its own (`engine.render.process.EngineProcess`), so torch and the
models never load in the window's process. The engine calls `_sink` on a thread of its
own (here, the thread that reads the child's events); a queued signal hands each event to
the GUI thread, where `_handle` is the one place that applies every kind of event. Job
state the panels show (stage, progress, ETA, last preview, error) lives in `JobInfo`
records.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from engine.protocol import RenderService, ServiceFactory
from engine.render.planning import PlannedRender, plan_render
from engine.render.process import process_engine_factory
from studio.commands import record_take
from studio.errors import StudioError
from studio.jobs import (
    Cancelled,
    Event,
    Failed,
    Finished,
    GenerationRequest,
    Partial,
    Preview,
    Priority,
    Progress,
    Queued,
    Started,
)
from studio.project.model import Take
from ui.document import Document
from ui.qt_runtime import prepare_interpreter

# (take store, event sink) -> a render service: the engine process, a local engine, the farm
EngineFactory = ServiceFactory

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "rendering", "done", "failed", "cancelled"

log = logging.getLogger("gallop.render")


@dataclass
class JobInfo:
    id: str
    shot_id: str
    label: str
    request: GenerationRequest
    state: str = QUEUED
    stage: str = "queued"
    step: int = 0
    total: int = 0
    eta: float | None = None
    message: str = ""
    detail: str = ""
    preview: Any = None  # the last preview image (H, W, 3 uint8)
    take_id: str | None = None
    select: bool = True

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 0.0

    @property
    def active(self) -> bool:
        return self.state in (QUEUED, RUNNING)


class EngineBridge(QObject):
    jobAdded = Signal(str)  # noqa: N815 - Qt signal naming
    jobChanged = Signal(str)  # noqa: N815 - state, progress or preview moved
    jobFinished = Signal(str, str)  # noqa: N815 - job id, take id
    jobFailed = Signal(str, str)  # noqa: N815 - job id, message
    jobRemoved = Signal(str)  # noqa: N815
    shotStateChanged = Signal(str)  # noqa: N815 - a shot's job state changed
    _event = Signal(object)

    def __init__(
        self,
        document: Document,
        engine_factory: EngineFactory | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        prepare_interpreter()  # threads of this process must not hold up the window
        # By default the engine runs in a process of its own: torch never loads in this one.
        self._factory = engine_factory or process_engine_factory(low_priority=True)
        self._engine: RenderService | None = None
        self.jobs: dict[str, JobInfo] = {}
        self._event.connect(self._handle, Qt.QueuedConnection)

    # -- engine life -------------------------------------------------------------------
    @property
    def engine(self) -> RenderService:
        """The engine, started on first use (it imports torch only when a model needs it)."""
        if self._engine is None:
            self._engine = self._factory(self.document.store, self._sink)
        return self._engine

    def set_engine_factory(self, factory: EngineFactory) -> None:
        """Use another engine (the farm) from the next render on; the old one drains."""
        old, self._engine = self._engine, None
        self._factory = factory
        if old is not None:
            old.shutdown(timeout=0)

    def shutdown(self, timeout: float | None = 10.0) -> None:
        if self._engine is not None:
            self._engine.shutdown(timeout)
            self._engine = None

    @property
    def busy(self) -> bool:
        return any(job.active for job in self.jobs.values())

    def _sink(self, event: Event) -> None:
        self._event.emit(event)  # any thread -> the GUI thread

    # -- requests ----------------------------------------------------------------------
    def plan(self, shot_id: str, **options: Any) -> PlannedRender:
        shot = self.document.project.shot(shot_id)
        if shot is None:
            raise StudioError(f"no shot {shot_id!r}")
        return plan_render(self.document.project, self.document.folder, shot, **options)

    def render_shot(self, shot_id: str, *, variations: int = 1, **options: Any) -> list[str]:
        """Queue a shot (N seeds for variations); returns the job ids. Raises StudioError
        (RenderError) with a message for the user when the shot cannot be planned."""
        planned = self.plan(shot_id, **options)
        shot = planned.shot
        jobs = []
        for n in range(max(1, variations)):
            request = planned.request
            if n:
                request = replace(request, seed=request.seed + n)
            label = shot.title or shot.id
            if variations > 1:
                label = f"{label} (seed {request.seed})"
            priority = Priority.DRAFT if request.backend == "previz" else Priority.FINAL
            job_id = self.engine.submit(request, planned.inputs, priority=priority, label=label)
            log.info(
                "render %s submitted: shot %s, %s %s, %dx%d, %d frames, seed %d",
                job_id,
                shot.id,
                request.backend,
                request.model_id,
                request.width,
                request.height,
                request.frames,
                request.seed,
            )
            info = JobInfo(job_id, shot.id, label, request, select=n == 0)
            # Events of this job may already wait in the queue; they find the record.
            self.jobs.setdefault(job_id, info)
            self.jobAdded.emit(job_id)
            self.shotStateChanged.emit(shot.id)
            jobs.append(job_id)
        return jobs

    def cancel(self, job_id: str) -> bool:
        return self._engine.cancel(job_id) if self._engine is not None else False

    def cancel_all(self) -> None:
        if self._engine is not None:
            self._engine.cancel_all()

    def reorder(self, job_ids: list[str]) -> None:
        if self._engine is not None:
            self._engine.reorder(job_ids)

    def retry(self, job_id: str) -> list[str]:
        info = self.jobs.get(job_id)
        if info is None:
            return []
        self.remove(job_id)
        return self.render_shot(info.shot_id)

    def remove(self, job_id: str) -> None:
        """Forget a finished, failed or cancelled job (the queue's 'clear')."""
        info = self.jobs.get(job_id)
        if info is not None and not info.active:
            del self.jobs[job_id]
            self.jobRemoved.emit(job_id)
            self.shotStateChanged.emit(info.shot_id)

    def job_for_shot(self, shot_id: str) -> JobInfo | None:
        """The shot's active job, else its most recent one."""
        found = None
        for info in self.jobs.values():
            if info.shot_id == shot_id:
                if info.active:
                    return info
                found = info
        return found

    # -- events, on the GUI thread -------------------------------------------------------
    def _handle(self, event: Event) -> None:
        info = self.jobs.get(event.job_id)
        if info is None:
            return  # a job of an engine we no longer follow
        if isinstance(event, Queued):
            info.state = QUEUED
        elif isinstance(event, Started):
            info.state, info.stage = RUNNING, "starting"
        elif isinstance(event, Progress):
            info.state = RUNNING
            info.stage, info.step, info.total = str(event.stage), event.step, event.total
            info.eta, info.message = event.eta_seconds, event.message
        elif isinstance(event, Preview):
            info.preview = event.image
        elif isinstance(event, Partial):
            info.message = f"segment {event.index + 1} of {event.count} done"
        elif isinstance(event, Finished):
            self._finished(info, event.result)
            return
        elif isinstance(event, Failed):
            log.warning("render %s failed: %s", info.id, event.message)
            if event.detail:
                log.info("render %s failure details:\n%s", info.id, event.detail)
            info.state, info.message, info.detail = FAILED, event.message, event.detail
            self.jobChanged.emit(info.id)
            self.jobFailed.emit(info.id, event.message)
            self.shotStateChanged.emit(info.shot_id)
            return
        elif isinstance(event, Cancelled):
            log.info("render %s cancelled", info.id)
            info.state, info.stage = CANCELLED, "cancelled"
            self.jobChanged.emit(info.id)
            self.shotStateChanged.emit(info.shot_id)
            return
        self.jobChanged.emit(info.id)
        if not isinstance(event, Preview):
            self.shotStateChanged.emit(info.shot_id)

    def _finished(self, info: JobInfo, take: Take) -> None:
        log.info("render %s finished: take %s of shot %s", info.id, take.id, info.shot_id)
        info.state, info.stage, info.take_id = DONE, "done", take.id
        info.step = info.total = max(info.total, 1)
        shot = self.document.project.shot(info.shot_id)
        command = record_take(shot, take, select=info.select) if shot is not None else None
        if command is not None:
            self.document.push(command)
        self.jobChanged.emit(info.id)
        self.jobFinished.emit(info.id, take.id)
        self.shotStateChanged.emit(info.shot_id)
