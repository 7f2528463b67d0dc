"""Render a project's shots headlessly: plan, skip what is up to date, run, record takes.

Used by `gallop render`, locally or on the farm. Every shot that is ready is submitted at
once (the local engine runs them one by one; the farm spreads them over its GPUs). A shot
that continues from the previous one waits until that shot's take exists. After each
finished take the project is saved atomically, so an interruption keeps every finished take.
With `variations`, each shot renders that many takes with consecutive seeds.

Ctrl+C (SIGINT), wherever it lands, is taken up between two events: the waiting shots are
dropped, the running one is cancelled at its next step and every take that finished is
recorded. A second Ctrl+C is Python's KeyboardInterrupt again, wherever it lands.

`GALLOP_BACKENDS=module:function` names the backend factory of the engines that render
here (`engine.engine:default_backend_factory` when unset), as `python -m engine.host
--backends` does for the window's engine: a scripted backend can stand in for a real one.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.backends.base import RenderError
from engine.engine import BackendFactory, Engine, EventSink, default_backend_factory
from engine.models.catalog import Catalog
from engine.planning import PlannedRender, plan_render
from studio.errors import StudioError
from studio.jobs import TERMINAL_EVENTS, Event, Failed, Finished, Profile
from studio.model import Project, Shot
from studio.project_io import ProjectSession, load_project
from studio.takes import TakeStore

EngineFactory = Callable[[TakeStore, EventSink], Any]


@dataclass
class BatchResult:
    rendered: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled


def select_shots(project: Project, ids: list[str] | None) -> list[Shot]:
    if not ids:
        return list(project.shots)
    known = {s.id for s in project.shots}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise StudioError(
            f"no shot {', '.join(map(repr, unknown))}; shots are {', '.join(sorted(known))}"
        )
    return [s for s in project.shots if s.id in ids]


def record_take(shot: Shot, take, *, select: bool = True) -> None:
    if shot.take(take.id) is None:
        shot.takes.append(take)
    if select:
        shot.selected_take = take.id


BACKENDS_ENV = "GALLOP_BACKENDS"


def backends_from_environment() -> BackendFactory:
    """The backend factory `GALLOP_BACKENDS` names, or the default one."""
    spec = os.environ.get(BACKENDS_ENV, "").strip()
    if not spec:
        return default_backend_factory
    from engine.host import load_factory

    try:
        return load_factory(spec)
    except (ImportError, AttributeError) as exc:
        raise StudioError(f"{BACKENDS_ENV}={spec!r} names no backend factory: {exc}") from exc


def local_engine_factory(
    backend_factory: BackendFactory | None = None, *, low_priority: bool = False
):
    """Engines on this machine (with `backends_from_environment()` unless given a
    factory); `low_priority` for a window's (see `Engine`)."""
    backend_factory = backend_factory or backends_from_environment()

    def build(store: TakeStore, sink: EventSink) -> Engine:
        return Engine(store, sink, backend_factory, low_priority=low_priority).start()

    return build


@dataclass
class _Work:
    shot: Shot
    variation: int
    plan: PlannedRender | None = None


class BatchRenderer:
    """Runs one project's renders on an engine, reporting every event to `on_event`."""

    def __init__(
        self,
        folder: Path,
        *,
        backend: str | None = None,
        model_id: str | None = None,
        profile: Profile | None = None,
        variations: int = 1,
        engine_factory: EngineFactory | None = None,
        on_event: Callable[[PlannedRender, Event], None] | None = None,
        on_plan: Callable[[int, int, PlannedRender], None] | None = None,
    ) -> None:
        if variations < 1:
            raise StudioError("variations must be at least 1")
        self.folder = Path(folder)
        self.backend = backend
        self.model_id = model_id
        self.profile = profile
        self.variations = variations
        self.on_event = on_event or (lambda plan, event: None)
        self.on_plan = on_plan or (lambda i, n, plan: None)
        self._events: queue.Queue[Event] = queue.Queue()
        self._engine_factory = engine_factory or local_engine_factory()
        self.engine: Any = None
        self.interrupted = False
        self._ctrl_c = False  # set by SIGINT, taken up by the loop between two events

    def cancel(self) -> None:
        if self.engine is not None:
            self.engine.cancel_all()

    def run(self, shot_ids: list[str] | None = None) -> BatchResult:
        result = BatchResult()
        self.interrupted = self._ctrl_c = False
        with ProjectSession(self.folder) as session:
            project = load_project(self.folder)
            shots = select_shots(project, shot_ids)
            self._project, self._session, self._result = project, session, result
            self._catalog = Catalog()
            self._store = TakeStore(self.folder / "takes")
            self._waiting = [_Work(s, k) for s in shots for k in range(self.variations)]
            self._count = len(self._waiting)
            self._submitted = 0
            self._running: dict[str, _Work] = {}
            with self._ctrl_c_between_events():
                self.engine = self._engine_factory(self._store, self._events.put)
                try:
                    self._loop()
                finally:
                    self.engine.shutdown(timeout=60)
        return result

    @contextmanager
    def _ctrl_c_between_events(self) -> Iterator[None]:
        """The first SIGINT only sets a flag that the loop takes up between two events:
        raised as KeyboardInterrupt wherever it landed (in the middle of recording a
        finished take, say), it would skip the orderly stop. Later ones raise again."""
        if (
            threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        ):
            yield  # Ctrl+C is ignored, or handled by someone else
            return

        def on_ctrl_c(signum, frame) -> None:
            self._ctrl_c = True
            signal.signal(signal.SIGINT, signal.default_int_handler)

        signal.signal(signal.SIGINT, on_ctrl_c)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    # -- scheduling -------------------------------------------------------------------------
    def _blocked(self, work: _Work) -> bool:
        """A chained shot waits while the shot it continues from is still to render."""
        if not work.shot.continue_from_previous:
            return False
        index = self._project.shot_index(work.shot.id)
        if index == 0:
            return False
        upstream = self._project.shots[index - 1].id
        busy = [w.shot.id for w in self._waiting] + [w.shot.id for w in self._running.values()]
        return upstream in busy

    def _submit_ready(self) -> None:
        for work in list(self._waiting):
            if self._blocked(work):
                continue
            self._waiting.remove(work)
            self._submitted += 1
            self._start(work)

    def _start(self, work: _Work) -> None:
        shot, result = work.shot, self._result
        try:
            plan = plan_render(
                self._project,
                self.folder,
                shot,
                catalog=self._catalog,
                backend=self.backend,
                model_id=self.model_id,
                profile=self.profile,
            )
        except (RenderError, StudioError) as exc:
            result.failed[shot.id] = str(exc)
            return
        if work.variation:
            plan = replace(
                plan, request=replace(plan.request, seed=plan.request.seed + work.variation)
            )
        work.plan = plan
        self.on_plan(self._submitted, self._count, plan)
        take_id = plan.request.hash
        if shot.take(take_id) is not None and self._store.has(take_id):
            if work.variation == 0 and shot.selected_take != take_id:
                shot.selected_take = take_id
                self._session.save(self._project)
            if shot.id not in result.up_to_date:
                result.up_to_date.append(shot.id)
            return
        label = shot.title or shot.id
        if self.variations > 1:
            label = f"{label} (seed {plan.request.seed})"
        job = self.engine.submit(plan.request, plan.inputs, label=label)
        self._running[job] = work

    def _interrupt(self) -> None:
        """Ctrl+C: drop the waiting shots and cancel the engine's jobs; the loop goes on
        until each submitted job has ended, recording the takes that finished."""
        self.interrupted = self._result.interrupted = True
        self._waiting.clear()
        self.engine.cancel_all()

    def _loop(self) -> None:
        self._submit_ready()
        while self._running or (self._waiting and not self.interrupted):
            if self._ctrl_c and not self.interrupted:
                self._interrupt()
                continue
            if not self._running:
                # Only blocked shots remain whose upstream could not render: plan them anyway
                # so each gets a clear failure.
                work = self._waiting.pop(0)
                self._submitted += 1
                self._start(work)
                continue
            try:
                event = self._events.get(timeout=0.2)
            except queue.Empty:
                continue
            except KeyboardInterrupt:
                if not self.interrupted:
                    self._interrupt()
                continue
            work = self._running.get(event.job_id)
            if work is None:
                continue
            self.on_event(work.plan, event)
            if isinstance(event, TERMINAL_EVENTS):
                del self._running[event.job_id]
                self._done(work, event)
                if not self.interrupted:
                    self._submit_ready()

    def _done(self, work: _Work, event: Event) -> None:
        shot, result = work.shot, self._result
        if isinstance(event, Finished):
            record_take(shot, event.result, select=work.variation == 0 or not shot.selected_take)
            self._session.save(self._project)
            if shot.id not in result.rendered:
                result.rendered.append(shot.id)
        elif isinstance(event, Failed):
            result.failed[shot.id] = event.message
        elif shot.id not in result.cancelled:
            result.cancelled.append(shot.id)
