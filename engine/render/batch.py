"""Render a project's shots headlessly: plan, skip what is up to date, run, record takes.

Used by `gallop render`, locally or on the farm. Every shot that is ready is submitted at
once (the local engine runs them one by one; the farm spreads them over its GPUs). A shot
that continues from the previous one waits until that shot's take exists. After each
finished take the take is recorded into the project as it is on disk at that moment, under
the project's write lock (`update_project`): another render of the same project, or a
script that edits it meanwhile, loses nothing, and an interruption keeps every finished
take. A project open in the window is not rendered here (the window has it to itself: render
from there). A take that cannot be recorded (a full disk, its shot deleted meanwhile) is
removed again unless another shot names it, so the project never names a take it lacks. A
take whose file no longer matches its recorded hash counts as missing and renders again.
With `variations`, each shot renders that many takes with consecutive seeds; `loras` join
every shot's own LoRAs. `FinalizeRenderer` renders the final of each shot whose take is a
draft (`gallop finalize`), linking the two.

Ctrl+C (SIGINT), wherever it lands, is taken up between two events: the waiting shots are
dropped, the running one is cancelled at its next step and every take that finished is
recorded. A second Ctrl+C is Python's KeyboardInterrupt again, wherever it lands.

`GALLOP_BACKENDS=module:function` names the backend factory of the engines that render
here (`engine.render.worker:default_backend_factory` when unset), as `python -m
engine.render.process --backends` does for the window's engine: a scripted backend can stand in for
a real one.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from engine.backends.base import RenderError
from engine.models.catalog import Catalog
from engine.protocol import RenderService, ServiceFactory
from engine.render.inputs import ProjectFiles
from engine.render.planning import PlannedRender, plan_finalize, plan_render
from engine.render.worker import BackendFactory, Engine, EventSink, default_backend_factory
from studio.commands import apply
from studio.commands import record_take as take_command
from studio.drafts import FinalizeError, finalize_take
from studio.errors import StudioError
from studio.jobs import TERMINAL_EVENTS, Event, Failed, Finished, Profile, Quantization
from studio.project.files import DiskFullError
from studio.project.io import ProjectSession, load_project, project_lock, update_project
from studio.project.loras import Lora
from studio.project.model import Project, Shot, Take
from studio.project.takes import TakeStore

log = logging.getLogger("gallop.render")

EngineFactory = ServiceFactory


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


def record_take(shot: Shot, take: Take, *, select: bool) -> bool:
    """Record `take` into `shot` by the window's rule (`studio.commands.record_take`);
    True when that changed the shot."""
    command = take_command(shot, take, select=select)
    if command is None:
        return False
    apply(command)
    return True


BACKENDS_ENV = "GALLOP_BACKENDS"


def backends_from_environment() -> BackendFactory:
    """The backend factory `GALLOP_BACKENDS` names, or the default one."""
    spec = os.environ.get(BACKENDS_ENV, "").strip()
    if not spec:
        return default_backend_factory
    from engine.render.process import load_factory

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
        loras: tuple[Lora, ...] = (),
        quantization: Quantization | None = None,
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
        self.loras = tuple(loras)  # added to every shot's own
        self.quantization = quantization  # instead of every shot's own, when given
        self.on_event = on_event or (lambda plan, event: None)
        self.on_plan = on_plan or (lambda i, n, plan: None)
        self._events: queue.Queue[Event] = queue.Queue()
        self._engine_factory = engine_factory or local_engine_factory()
        self.engine: RenderService | None = None
        self.interrupted = False
        self._ctrl_c = False  # set by SIGINT, taken up by the loop between two events

    def cancel(self) -> None:
        if self.engine is not None:
            self.engine.cancel_all()

    def run(self, shot_ids: list[str] | None = None) -> BatchResult:
        result = BatchResult()
        self.interrupted = self._ctrl_c = False
        with ProjectSession(self.folder, shared=True) as session:
            project = load_project(self.folder)
            shots = self._select(project, shot_ids, result)
            self._project, self._session, self._result = project, session, result
            self._catalog = Catalog()
            # One file-hash cache for the run: a keyframe shared by many shots is read once.
            self._files = ProjectFiles(self.folder)
            self._store = TakeStore(self.folder / "takes")
            # Refuses a take store that is a link before anything renders into it.
            self._store.remove_leftovers()
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

    def _select(self, project: Project, shot_ids: list[str] | None, result: BatchResult):
        return select_shots(project, shot_ids)

    def _plan(self, shot: Shot) -> PlannedRender:
        return plan_render(
            self._project,
            self.folder,
            shot,
            catalog=self._catalog,
            backend=self.backend,
            model_id=self.model_id,
            profile=self.profile,
            files=self._files,
            loras=self.loras,
            quantization=self.quantization,
        )

    def _adopt(self, shot: Shot, take: Take, *, select: bool) -> bool:
        """Record `take` into `shot` (on disk or in memory); True when that changed it."""
        return record_take(shot, take, select=select)

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
            plan = self._plan(shot)
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
        try:
            # A damaged take (cut short, swapped) counts as missing: it renders again.
            up_to_date = shot.take(take_id) is not None and self._store.intact(take_id)
        except StudioError as exc:
            result.failed[shot.id] = str(exc)
            return
        if up_to_date:
            if work.variation == 0 and shot.selected_take != take_id:
                take = shot.take(take_id)
                assert take is not None
                if not self._record(shot, take, select=True):
                    return
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
                if not self.engine.alive:
                    self._engine_ended()
                continue
            except KeyboardInterrupt:
                if not self.interrupted:
                    self._interrupt()
                continue
            self._handle(event)

    def _handle(self, event: Event) -> None:
        work = self._running.get(event.job_id)
        if work is None:
            return
        self.on_event(work.plan, event)
        if isinstance(event, TERMINAL_EVENTS):
            del self._running[event.job_id]
            self._done(work, event)
            if not self.interrupted:
                self._submit_ready()

    def _engine_ended(self) -> None:
        """The engine stopped with jobs still to end (its thread or process died): the
        events it sent last are taken up, then each shot it was to render has failed,
        instead of waiting for events that never come."""
        waiting, self._waiting = self._waiting, []  # nothing more goes to the engine
        while True:
            try:
                self._handle(self._events.get_nowait())
            except queue.Empty:
                break
        message = "the render engine stopped before this shot was rendered; render it again"
        for work in [*self._running.values(), *waiting]:
            self._result.failed.setdefault(work.shot.id, message)
        self._running.clear()

    def _done(self, work: _Work, event: Event) -> None:
        shot, result = work.shot, self._result
        if isinstance(event, Finished):
            select = work.variation == 0
            if not self._record(shot, event.result, select=select):
                if not self._forget(event.result):
                    return
                # The save failed after the file was in place (syncing its folder): the
                # project names the take after all.
                del result.failed[shot.id]
                record_take(shot, event.result, select=select)
            if shot.id not in result.rendered:
                result.rendered.append(shot.id)
        elif isinstance(event, Failed):
            result.failed[shot.id] = event.message
        elif shot.id not in result.cancelled:
            result.cancelled.append(shot.id)

    # -- recording ----------------------------------------------------------------------------
    def _record(self, shot: Shot, take: Take, *, select: bool) -> bool:
        """Add `take` to its shot in the project as it is on disk now (selected when
        `select`, or when the shot has none selected) and save it; the same in memory, for
        the shots still to plan. False, with the shot failed, when it could not be saved."""
        store = self._store

        def add(project: Project) -> bool:
            current = project.shot(shot.id)
            if current is None:
                raise StudioError("the shot was deleted from the project while it rendered")
            if store.find(take.id) is None:
                raise StudioError(f"take {take.id[:12]} vanished from the take store")
            return self._adopt(current, take, select=select)

        try:
            update_project(self.folder, add, session=self._session)
        except (StudioError, OSError) as exc:
            self._result.failed[shot.id] = f"the take was rendered but not recorded: {exc}"
            return False
        self._adopt(shot, take, select=select)
        return True

    def _forget(self, take: Take) -> bool:
        """After a take could not be recorded: remove it unless a shot on disk names it
        (another render recorded the same request, or the save got through after all),
        so the store keeps no take the project does not name and a full disk gets its
        space back. Returns whether the project names it."""
        store = self._store

        def named() -> bool:
            project = load_project(self.folder)
            return any(s.take(take.id) is not None for s in project.shots)

        try:
            try:
                with project_lock(self.folder):
                    if named():
                        return True
                    store.remove(take.id)
                    return False
            except DiskFullError:
                pass  # no room even for the lock file: decide on the project as it is
            if named():
                return True
            store.remove(take.id)
        except (StudioError, OSError) as exc:
            log.warning("could not remove the unrecorded take %s: %s", take.id[:12], exc)
        return False


class FinalizeRenderer(BatchRenderer):
    """Renders the final of each draft (`gallop finalize`): every shot whose picked take is
    a draft, or the shots named, each with the quality profile and its draft's seed
    (`engine.render.planning.plan_finalize`). The final's manifest names its draft, and the
    shot adopts the final (`studio.drafts.finalize_take`). A named shot whose take is not a
    draft, or that changed since its draft, fails with the reason."""

    def __init__(self, folder: Path, **options) -> None:
        super().__init__(folder, **options)
        self._drafts: dict[str, str] = {}  # shot id -> the draft take it finalizes

    def _select(self, project: Project, shot_ids: list[str] | None, result: BatchResult):
        chosen = select_shots(project, shot_ids)
        self._drafts = {}
        for shot in chosen:
            take = shot.current_take
            if take is not None and take.is_draft:
                self._drafts[shot.id] = take.id
            elif shot_ids:
                why = "has no take" if take is None else "its take is not a draft"
                result.failed[shot.id] = f"nothing to finalize: {why}"
        return [shot for shot in chosen if shot.id in self._drafts]

    def _plan(self, shot: Shot) -> PlannedRender:
        try:
            return plan_finalize(
                self._project,
                self.folder,
                shot,
                self._drafts[shot.id],
                catalog=self._catalog,
                files=self._files,
                loras=self.loras,
            )
        except FinalizeError as exc:
            raise StudioError(str(exc)) from None

    def _adopt(self, shot: Shot, take: Take, *, select: bool) -> bool:
        draft = self._drafts[shot.id]
        if self._store.measures(take.id).get("draft") != draft:
            self._store.record_measures(take.id, {"draft": draft})  # the final's manifest
        command = finalize_take(shot, take, draft)
        if command.is_obsolete():
            return False
        apply(command)
        return True
