"""The bridge between the engine and the window: engine events become Qt signals on the
GUI thread, and finished takes join their shots through the undo stack.

The engine runs in a process of its own (`engine.render.process.EngineProcess`), so torch and the
models never load in the window's process. The engine calls `_sink` on a thread of its
own (here, the thread that reads the child's events); a queued signal hands each event to
the GUI thread, where `_handle` is the one place that applies every kind of event. Job
state the panels show (stage, progress, ETA, last preview, error) lives in `JobInfo`
records.

A shot that continues from the previous one while that shot is still rendering waits for
it: its job is held here ("waiting for The ship"), planned and submitted once the
upstream's take lands (so it starts from that take's last frame), and cancelled, saying
why, when the upstream fails or is cancelled. `render_shots` queues several shots the way
"Render all" does: shots already rendered, or already queued, add nothing. `finalize`
renders the final of a draft take; when it lands, the shot adopts it and its manifest
names the draft (`studio.drafts.finalize_take`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from engine.protocol import RenderService, ServiceFactory
from engine.render.planning import PlannedRender, plan_finalize, plan_render
from engine.render.process import process_engine_factory
from studio.commands import record_take
from studio.drafts import finalize_take
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
    new_job_id,
)
from studio.project.model import Take
from ui.document import Document
from ui.system.qt_runtime import prepare_interpreter

# (take store, event sink) -> a render service: the engine process, a local engine, the farm
EngineFactory = ServiceFactory

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "rendering", "done", "failed", "cancelled"
WAITING = "waiting"  # held by the window until the shot it continues from has its take

log = logging.getLogger("gallop.render")


@dataclass
class JobInfo:
    id: str
    shot_id: str
    label: str
    request: GenerationRequest | None  # None while it waits: planned when it is submitted
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
    after: str | None = None  # the upstream's job this one waits for (WAITING)
    seed_offset: int = 0  # a variation: the seed counts up from the shot's
    options: dict[str, Any] = field(default_factory=dict)  # how to plan it (backend...)
    draft: str | None = None  # the draft take this job renders the final of

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 0.0

    @property
    def active(self) -> bool:
        return self.state in (WAITING, QUEUED, RUNNING)


@dataclass
class RenderBatch:
    """What `render_shots` did: the jobs it queued, and the shots it left alone."""

    jobs: list[str] = field(default_factory=list)
    rendered: list[str] = field(default_factory=list)  # up to date: nothing to render
    busy: list[str] = field(default_factory=list)  # already queued or rendering
    problems: list[str] = field(default_factory=list)  # "The ship: why it cannot render"

    def summary(self, total: int) -> str:
        """ "Queued 2 renders (4 already rendered)", "All 6 shots are rendered"."""
        if not total:
            return "The project has no shots to render"
        if not self.jobs and not self.busy and not self.problems and self.rendered:
            return f"All {total} shots are rendered" if total != 1 else "The shot is rendered"
        queued = len(self.jobs)
        parts = [
            f"Queued {queued} render{'s' if queued != 1 else ''}" if queued else "Nothing queued"
        ]
        if self.rendered:
            parts.append(f"{len(self.rendered)} already rendered")
        if self.busy:
            parts.append(f"{len(self.busy)} already in the queue")
        if self.problems:
            parts.append(f"{len(self.problems)} cannot render")
        return parts[0] + (f" ({', '.join(parts[1:])})" if parts[1:] else "")


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
        """Queue a shot (N seeds for variations); returns the job ids. A shot that
        continues from one still rendering waits for its take. Raises StudioError
        (RenderError) with a message for the user when the shot cannot be planned."""
        shot = self.document.project.shot(shot_id)
        if shot is None:
            raise StudioError(f"no shot {shot_id!r}")
        upstream = self.upstream_job(shot_id)
        planned = None if upstream is not None else self.plan(shot_id, **options)
        jobs = []
        for n in range(max(1, variations)):
            label = shot.title or shot.id
            if variations > 1:
                label = f"{label} (seed {shot.seed + n})"
            info = JobInfo(new_job_id(), shot.id, label, None, select=n == 0, seed_offset=n)
            info.options = dict(options)
            if planned is None:
                name = self._shot_name(upstream.shot_id)
                info.state, info.after, info.stage = WAITING, upstream.id, f"waiting for {name}"
                self.jobs[info.id] = info
                log.info("render %s of shot %s waits for %s", info.id, shot.id, upstream.id)
            else:
                self._submit(info, planned)
            self.jobAdded.emit(info.id)
            self.shotStateChanged.emit(shot.id)
            jobs.append(info.id)
        return jobs

    def render_shots(
        self, shot_ids: list[str], *, variations: int = 1, **options: Any
    ) -> RenderBatch:
        """Queue several shots in story order, as "Render all" does: a shot that is
        rendered (its take is what rendering it now gives) or already in the queue adds no
        job, and a chained shot waits for its upstream of the same batch. Shots that cannot
        render are listed with the reason; the others render all the same."""
        batch = RenderBatch()
        project = self.document.project
        for shot_id in shot_ids:
            shot = project.shot(shot_id)
            try:
                if shot is None:
                    raise StudioError(f"no shot {shot_id!r}")
                if self._has_active_job(shot_id):
                    batch.busy.append(shot_id)
                elif variations == 1 and self.document.shot_status(shot) == "rendered":
                    batch.rendered.append(shot_id)
                else:
                    batch.jobs += self.render_shot(shot_id, variations=variations, **options)
            except (StudioError, OSError) as exc:
                batch.problems.append(f"{self._shot_name(shot_id)}: {exc}")
        return batch

    def finalize(self, shot_id: str, draft_id: str) -> str:
        """Queue the final of the shot's draft take `draft_id` (quality profile, the draft's
        seed, prompt and camera); returns the job id. Raises StudioError (FinalizeError)
        saying why when the take is not a draft or the shot changed since it."""
        project = self.document.project
        shot = project.shot(shot_id)
        if shot is None:
            raise StudioError(f"no shot {shot_id!r}")
        planned = plan_finalize(project, self.document.folder, shot, draft_id)
        label = f"{shot.title or shot.id} (final)"
        info = JobInfo(new_job_id(), shot.id, label, None, draft=draft_id)
        self._submit(info, planned)
        self.jobAdded.emit(info.id)
        self.shotStateChanged.emit(shot.id)
        return info.id

    def upstream_job(self, shot_id: str) -> JobInfo | None:
        """The active job whose take the shot will continue from: that of the shot before
        it, when the shot continues from it and its take is on the way."""
        project = self.document.project
        shot = project.shot(shot_id)
        if shot is None or not shot.continue_from_previous:
            return None
        row = project.shot_index(shot_id)
        if row == 0:
            return None
        upstream = project.shots[row - 1].id
        found = None
        for info in self.jobs.values():
            if info.shot_id == upstream and info.active and info.select:
                found = info  # the latest one: its take is the one picked last
        return found

    def _has_active_job(self, shot_id: str) -> bool:
        return any(i.shot_id == shot_id and i.active and i.select for i in self.jobs.values())

    def _shot_name(self, shot_id: str) -> str:
        shot = self.document.project.shot(shot_id)
        return (shot.title or shot.id) if shot is not None else shot_id

    def _submit(self, info: JobInfo, planned: PlannedRender) -> None:
        """Send a planned job to the engine under its own id."""
        request = planned.request
        if info.seed_offset:
            request = replace(request, seed=request.seed + info.seed_offset)
        priority = Priority.DRAFT if request.backend == "previz" else Priority.FINAL
        self.engine.submit(
            request, planned.inputs, priority=priority, label=info.label, job_id=info.id
        )
        # Its events reach `_handle` on a later pass of the event loop: they find this.
        info.request, info.after = request, None
        info.state, info.stage = QUEUED, "queued"
        self.jobs[info.id] = info
        log.info(
            "render %s submitted: shot %s, %s %s, %dx%d, %d frames, seed %d",
            info.id,
            info.shot_id,
            request.backend,
            request.model_id,
            request.width,
            request.height,
            request.frames,
            request.seed,
        )

    def _start_waiting(self, upstream: JobInfo) -> None:
        """The upstream's take has landed: plan and submit the jobs that waited for it."""
        for info in [i for i in self.jobs.values() if i.after == upstream.id]:
            if info.state != WAITING:
                continue
            try:
                self._submit(info, self.plan(info.shot_id, **info.options))
            except (StudioError, OSError) as exc:
                info.after = None
                name = self._shot_name(upstream.shot_id)
                self._fail(info, f"cannot render after {name}: {exc}")
                continue
            self.jobChanged.emit(info.id)
            self.shotStateChanged.emit(info.shot_id)

    def _drop_waiting(self, upstream: JobInfo) -> None:
        """The upstream failed or was cancelled: what waited for it cannot start."""
        name = self._shot_name(upstream.shot_id)
        why = "failed" if upstream.state == FAILED else "was cancelled"
        for info in [i for i in self.jobs.values() if i.after == upstream.id]:
            if info.state == WAITING:
                self._cancel_waiting(info, f"not rendered: {name}, which it continues from, {why}")

    def _cancel_waiting(self, info: JobInfo, message: str) -> None:
        log.info("render %s of shot %s cancelled: %s", info.id, info.shot_id, message)
        info.state, info.stage, info.message = CANCELLED, "cancelled", message
        self.jobChanged.emit(info.id)
        self.shotStateChanged.emit(info.shot_id)
        self._drop_waiting(info)  # and what waited for this one, down the chain

    def _fail(self, info: JobInfo, message: str, detail: str = "") -> None:
        info.state, info.message, info.detail = FAILED, message, detail
        self.jobChanged.emit(info.id)
        self.jobFailed.emit(info.id, message)
        self.shotStateChanged.emit(info.shot_id)
        self._drop_waiting(info)

    def cancel(self, job_id: str) -> bool:
        info = self.jobs.get(job_id)
        if info is not None and info.state == WAITING:
            self._cancel_waiting(info, "cancelled before it started")
            return True
        return self._engine.cancel(job_id) if self._engine is not None else False

    def cancel_all(self) -> None:
        # What waits goes first: an upstream that ends before its cancel lands starts nothing.
        for info in list(self.jobs.values()):
            if info.state == WAITING:
                self._cancel_waiting(info, "cancelled before it started")
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
        if info.draft is not None:
            return [self.finalize(info.shot_id, info.draft)]
        return self.render_shot(info.shot_id, **info.options)

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
            self._fail(info, event.message, event.detail)
            return
        elif isinstance(event, Cancelled):
            log.info("render %s cancelled", info.id)
            info.state, info.stage, info.message = CANCELLED, "cancelled", ""
            self.jobChanged.emit(info.id)
            self.shotStateChanged.emit(info.shot_id)
            self._drop_waiting(info)
            return
        self.jobChanged.emit(info.id)
        if not isinstance(event, Preview):
            self.shotStateChanged.emit(info.shot_id)

    def _finished(self, info: JobInfo, take: Take) -> None:
        log.info("render %s finished: take %s of shot %s", info.id, take.id, info.shot_id)
        info.state, info.stage, info.take_id = DONE, "done", take.id
        info.step = info.total = max(info.total, 1)
        shot = self.document.project.shot(info.shot_id)
        if info.draft is not None and shot is not None:
            command = self._final_landed(shot, take, info.draft)
        else:
            command = record_take(shot, take, select=info.select) if shot is not None else None
        if command is not None:
            self.document.push(command)
        self.jobChanged.emit(info.id)
        self.jobFinished.emit(info.id, take.id)
        self.shotStateChanged.emit(info.shot_id)
        self._start_waiting(info)

    def _final_landed(self, shot, take: Take, draft_id: str):
        """A final's manifest names its draft; the shot adopts the final (one undo step)."""
        store = self.document.store
        try:
            if store.measures(take.id).get("draft") != draft_id:
                store.record_measures(take.id, {"draft": draft_id})
        except StudioError as exc:  # the take stays good: only the link is not written
            log.warning("take %s: cannot name its draft in its manifest: %s", take.id, exc)
        command = finalize_take(shot, take, draft_id)
        return None if command.is_obsolete() else command
