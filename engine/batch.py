"""Render a project's shots headlessly: plan, skip what is up to date, run, record takes.

Used by `gallop render`. Shots render in storyboard order so a chained shot finds its
upstream take; after each finished take the project is saved (atomically), so an
interruption keeps every finished take.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.backends.base import RenderError
from engine.engine import BackendFactory, Engine, default_backend_factory
from engine.models.catalog import Catalog
from engine.planning import PlannedRender, plan_render
from studio.errors import StudioError
from studio.jobs import TERMINAL_EVENTS, Event, Failed, Finished, Profile
from studio.model import Project, Shot
from studio.project_io import ProjectSession, load_project
from studio.takes import TakeStore


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


def record_take(shot: Shot, take) -> None:
    if shot.take(take.id) is None:
        shot.takes.append(take)
    shot.selected_take = take.id


class BatchRenderer:
    """Runs one project's renders on an engine, reporting every event to `on_event`."""

    def __init__(
        self,
        folder: Path,
        *,
        backend: str | None = None,
        model_id: str | None = None,
        profile: Profile | None = None,
        backend_factory: BackendFactory = default_backend_factory,
        on_event: Callable[[PlannedRender, Event], None] | None = None,
        on_plan: Callable[[int, int, PlannedRender], None] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.backend = backend
        self.model_id = model_id
        self.profile = profile
        self.on_event = on_event or (lambda plan, event: None)
        self.on_plan = on_plan or (lambda i, n, plan: None)
        self._events: queue.Queue[Event] = queue.Queue()
        self._factory = backend_factory
        self.engine: Engine | None = None
        self.interrupted = False

    def cancel(self) -> None:
        if self.engine is not None:
            self.engine.cancel_all()

    def run(self, shot_ids: list[str] | None = None) -> BatchResult:
        result = BatchResult()
        with ProjectSession(self.folder) as session:
            project = load_project(self.folder)
            shots = select_shots(project, shot_ids)
            catalog = Catalog()
            store = TakeStore(self.folder / "takes")
            self.engine = Engine(store, self._events.put, self._factory).start()
            try:
                for i, shot in enumerate(shots, 1):
                    try:
                        plan = plan_render(
                            project,
                            self.folder,
                            shot,
                            catalog=catalog,
                            backend=self.backend,
                            model_id=self.model_id,
                            profile=self.profile,
                        )
                    except (RenderError, StudioError) as exc:
                        result.failed[shot.id] = str(exc)
                        continue
                    self.on_plan(i, len(shots), plan)
                    if shot.take(plan.request.hash) is not None and store.has(plan.request.hash):
                        if shot.selected_take != plan.request.hash:
                            shot.selected_take = plan.request.hash
                            session.save(project)
                        result.up_to_date.append(shot.id)
                        continue
                    outcome = self._render(plan)
                    if isinstance(outcome, Finished):
                        record_take(shot, outcome.result)
                        session.save(project)
                        result.rendered.append(shot.id)
                    elif isinstance(outcome, Failed):
                        result.failed[shot.id] = outcome.message
                    else:
                        result.cancelled.append(shot.id)
                    if self.interrupted:
                        result.interrupted = True
                        break
            finally:
                self.engine.shutdown(timeout=60)
        return result

    def _render(self, plan: PlannedRender) -> Event:
        """Run one request to its end; Ctrl+C cancels it and marks the batch interrupted."""
        assert self.engine is not None
        job = self.engine.submit(plan.request, plan.inputs, label=plan.shot.title)
        interrupted = False
        while True:
            try:
                event = self._events.get(timeout=0.2)
            except queue.Empty:
                continue
            except KeyboardInterrupt:
                interrupted = True
                self.engine.cancel_all()
                continue
            if event.job_id != job:
                continue
            self.on_event(plan, event)
            if isinstance(event, TERMINAL_EVENTS):
                self.interrupted = self.interrupted or interrupted
                return event
