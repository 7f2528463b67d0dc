"""Every render service keeps one contract (`engine.protocol.RenderService`): the engine
thread, the engine in a child process and the Ray farm (on a local cluster, where Ray is
installed) give the same events for the same calls.

Each one renders with `host_backends.gated_scripted`, which holds every job at its first
step until the test opens the gate (creates its file), and exports a film of one short
previz take; the tests wait on events only."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import pytest

from engine.export.job import export_request
from engine.protocol import ExportInputs, RenderInputs, RenderService, Submit
from engine.render.process import EngineProcess
from engine.render.worker import Engine
from studio.errors import StudioError
from studio.jobs import Cancelled, Event, Finished, Priority, Progress, Queued, Stage, Started
from studio.project.model import Project
from studio.timeline.timeline import Timeline
from tests.engine.conftest import Recorder, make_request
from tests.engine.export.export_helpers import H, W, add_shot, cut
from tests.engine.render.host_backends import GATE, gated_scripted, unloads_of

BACKENDS = "tests.engine.render.host_backends:gated_scripted"
HAS_RAY = importlib.util.find_spec("ray") is not None
NO_RAY = "the farm needs Ray, from the 'cluster' extra: pip install 'gallop-studio[cluster]'"
PACKAGES = str(Path(__file__).resolve().parents[3])
FARM = pytest.param("farm", marks=pytest.mark.skipif(not HAS_RAY, reason=NO_RAY))
FILM_FRAMES = 12  # the exported film: one clip of a previz take, half a second at 24 fps


@pytest.fixture(scope="module")
def gate_file(tmp_path_factory):
    """The gate's file, named in the environment before any engine (or Ray) starts, so
    that the child process and the farm's actors see it too."""
    path = tmp_path_factory.mktemp("gate") / "open"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(GATE, str(path))
        # The farm's actors import the scripted backend from the tests' package.
        patch.setenv(
            "PYTHONPATH", os.pathsep.join(filter(None, [PACKAGES, os.environ.get("PYTHONPATH")]))
        )
        yield path


@pytest.fixture
def gate(gate_file):
    """Closed at the start of each test; `gate.touch()` opens it."""
    gate_file.unlink(missing_ok=True)
    unloads_of(gate_file).unlink(missing_ok=True)
    return gate_file


@pytest.fixture(scope="module")
def cluster(gate_file):
    ray = pytest.importorskip("ray", reason=NO_RAY)
    ray.init(num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def build(kind: str, store, sink, request) -> RenderService:
    if kind == "engine":
        return Engine(store, sink, gated_scripted).start()
    if kind == "process":
        return EngineProcess(store, sink, BACKENDS).start()
    request.getfixturevalue("cluster")
    from engine.render.farm import FarmEngine

    return FarmEngine(store, sink, actors=1, cpus_per_actor=1, backends=BACKENDS).start()


class Listener:
    """The service's event callback: the recorder, then `then(event)` when a test sets it
    (called on the thread that reports the event, as the recorder is)."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.then: Callable[[Event], None] | None = None

    def __call__(self, event: Event) -> None:
        self.recorder(event)
        if self.then is not None:
            self.then(event)


@pytest.fixture(params=["engine", "process", FARM])
def kind(request) -> str:
    return request.param


@pytest.fixture
def listener(recorder) -> Listener:
    return Listener(recorder)


@pytest.fixture
def service(kind, request, gate, store, listener):
    engine = build(kind, store, listener, request)
    yield engine
    if engine.alive:
        engine.shutdown(timeout=60)


@pytest.fixture
def film(tmp_path) -> tuple[Project, Path, Path]:
    """A project of one shot with a one-second previz take, whose first half is the whole
    timeline; its folder; and an empty folder for the films."""
    folder, out = tmp_path / "film", tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    project = Project(title="Film", width=W, height=H)
    add_shot(project, folder, "a", frames=24, moving=True)
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, FILM_FRAMES),))
    return project, folder, out


def started(recorder: Recorder) -> list[str]:
    return [e.job_id for e in recorder.events if isinstance(e, Started)]


def test_it_is_a_render_service_and_starting_again_is_harmless(service):
    assert isinstance(service, RenderService)
    assert service.start() is service
    assert service.alive


def test_a_render_reports_its_events_and_its_take_lands_in_the_store(
    service, gate, recorder, store
):
    gate.touch()
    request = make_request("a lighthouse", seed=1)
    job = service.submit(request, label="storm")
    end = recorder.wait_done(job)
    assert isinstance(end, Finished), end
    events = recorder.of(job)
    assert [type(e) for e in events[:2]] == [Queued, Started]
    assert events[1].description == "storm"
    assert any(isinstance(e, Progress) for e in events[2:-1])
    assert end.result.id == request.hash
    assert store.find(request.hash) is not None


def test_a_request_already_in_the_store_finishes_with_no_compute(service, gate, recorder):
    gate.touch()
    request = make_request("cached", seed=2)
    assert isinstance(recorder.wait_done(service.submit(request)), Finished)
    again = service.submit(request)
    end = recorder.wait_done(again)
    assert isinstance(end, Finished) and end.result.id == request.hash
    assert recorder.kinds(again) == ["Queued", "Started", "Finished"]


def test_cancel_ends_a_queued_job_and_a_running_one(service, gate, recorder, store):
    running = service.submit(make_request("running", seed=3))
    queued = service.submit(make_request("queued", seed=4))
    recorder.wait_for(lambda events: running in started(recorder))
    assert service.pending() == [queued]
    assert service.cancel(queued)
    assert isinstance(recorder.wait_done(queued), Cancelled)
    assert recorder.kinds(queued) == ["Queued", "Cancelled"]
    assert service.pending() == []
    assert service.cancel(running)
    assert isinstance(recorder.wait_done(running), Cancelled)
    assert not service.cancel(running)  # already over
    assert not service.cancel("no such job")
    assert not store.ids()  # nothing partial stored
    assert service.alive


def test_cancel_all_ends_every_job(service, gate, recorder, store):
    jobs = [service.submit(make_request(f"job {i}", seed=10 + i)) for i in range(3)]
    recorder.wait_for(lambda events: jobs[0] in started(recorder))
    service.cancel_all()
    for job in jobs:
        assert isinstance(recorder.wait_done(job), Cancelled)
    assert started(recorder) == [jobs[0]]
    assert not store.ids()


def test_reorder_changes_the_order_queued_jobs_start(service, gate, recorder):
    first = service.submit(make_request("first", seed=21))
    b = service.submit(make_request("b", seed=22))
    c = service.submit(make_request("c", seed=23))
    recorder.wait_for(lambda events: first in started(recorder))
    assert service.pending() == [b, c]
    service.reorder([c, b])
    assert service.pending() == [c, b]
    gate.touch()
    for job in (first, b, c):
        assert isinstance(recorder.wait_done(job), Finished)
    assert started(recorder) == [first, c, b]


def test_reprioritise_lets_a_queued_job_start_sooner(service, gate, recorder):
    first = service.submit(make_request("first", seed=31), priority=Priority.FINAL)
    a = service.submit(make_request("a", seed=32), priority=Priority.FINAL)
    b = service.submit(make_request("b", seed=33), priority=Priority.FINAL)
    recorder.wait_for(lambda events: first in started(recorder))
    assert service.reprioritise(b, Priority.DRAFT)
    assert not service.reprioritise("no such job", Priority.DRAFT)
    assert service.pending() == [b, a]
    gate.touch()
    for job in (first, a, b):
        assert isinstance(recorder.wait_done(job), Finished)
    assert started(recorder) == [first, b, a]


def test_unload_frees_the_models_before_the_next_job(service, gate, recorder):
    gate.touch()
    assert isinstance(recorder.wait_done(service.submit(make_request("one", seed=41))), Finished)
    assert not unloads_of(gate).exists()
    service.unload()
    assert isinstance(recorder.wait_done(service.submit(make_request("two", seed=42))), Finished)
    assert unloads_of(gate).read_text().splitlines() == ["unloaded"]


def test_shutdown_cancels_what_remains_and_a_later_submit_raises(service, gate, recorder):
    running = service.submit(make_request("running", seed=51))
    queued = service.submit(make_request("queued", seed=52))
    recorder.wait_for(lambda events: running in started(recorder))
    service.shutdown(timeout=60)
    assert isinstance(recorder.wait_done(running), Cancelled)
    assert recorder.kinds(queued) == ["Queued", "Cancelled"]
    assert not service.alive
    with pytest.raises(StudioError, match="shut down"):
        service.submit(make_request("late", seed=53))


# --- exports ------------------------------------------------------------------------------


def test_an_export_reports_like_a_render_and_writes_the_film(service, recorder, film):
    project, folder, out = film
    request = export_request(project, folder, out / "film.mp4")
    job = service.submit(request, ExportInputs(project, folder), label="Export film.mp4")
    end = recorder.wait_done(job)
    assert isinstance(end, Finished), end
    events = recorder.of(job)
    assert [type(e) for e in events[:2]] == [Queued, Started]
    assert events[1].description == "Export film.mp4"
    steps = [e for e in events[2:-1] if isinstance(e, Progress)]
    assert steps and all(e.stage is Stage.EXPORTING and e.total == FILM_FRAMES for e in steps)
    assert steps[-1].step == FILM_FRAMES
    result = end.result
    assert result.path == out / "film.mp4" and result.frames == FILM_FRAMES
    assert list(out.iterdir()) == [result.path]  # nothing left beside it
    with av.open(str(result.path)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (W, H)
        assert sum(1 for _ in container.decode(stream)) == FILM_FRAMES


def test_an_export_named_relative_to_the_caller_s_folder_lands_there(
    service, recorder, film, tmp_path, monkeypatch
):
    """The engine process works in a folder of its own: the project folder and the output
    are still read from the caller's."""
    project, _, out = film
    monkeypatch.chdir(tmp_path)
    request = export_request(project, "film", "out/film.mp4")
    job = service.submit(request, ExportInputs(project, Path("film")))
    end = recorder.wait_done(job)
    assert isinstance(end, Finished), end
    assert end.result.path.resolve() == (out / "film.mp4").resolve()
    assert list(out.iterdir()) == [out / "film.mp4"]


def test_a_job_for_the_engine_process_names_its_files_absolutely(tmp_path, monkeypatch, film):
    """What crosses the pipe names each file from the root: the child works elsewhere."""
    monkeypatch.chdir(tmp_path)
    project = film[0]
    inputs = RenderInputs(
        keyframe=Path("key.png"),
        references=(Path("a.png"),),
        loras=(Path("media/loras/ink.safetensors"),),
        last_frame=Path("end.png"),
    )
    render = Submit("r", make_request(), inputs, Priority.FINAL).absolute()
    assert render.inputs.keyframe == tmp_path / "key.png"
    assert render.inputs.references == (tmp_path / "a.png",)
    assert render.inputs.loras == (tmp_path / "media/loras/ink.safetensors",)
    assert render.inputs.last_frame == tmp_path / "end.png"
    request = export_request(project, "film", "out/film.mp4")
    export = Submit("e", request, ExportInputs(project, Path("film")), Priority.FINAL)
    export = export.absolute()
    assert export.request.output == str(tmp_path / "out" / "film.mp4")
    assert export.inputs.folder == tmp_path / "film"
    assert export.request.timeline == request.timeline and export.inputs.project is project


def test_an_export_needs_its_inputs(service, film):
    project, folder, out = film
    with pytest.raises(TypeError, match="ExportInputs"):
        service.submit(export_request(project, folder, out / "film.mp4"))
    assert service.pending() == []


# In the engine thread and on the farm (whose exports are written by an engine thread of
# the driver) the event callback runs on the thread that writes the film, so a cancel made
# in it is there before the next frame. The engine process's callback runs in the parent
# while the child writes on: a cancel from it races the end of the film, so the process is
# not among these (its cancel of a running job is the render's, tested above).
@pytest.mark.parametrize("kind", ["engine", FARM])
def test_an_export_cancelled_at_its_first_frame_leaves_no_file(
    kind, service, listener, recorder, film
):
    project, folder, out = film
    cancelled: list[str] = []

    def cancel_at_first_frame(event: Event) -> None:
        if isinstance(event, Progress) and event.stage is Stage.EXPORTING and not cancelled:
            cancelled.append(event.job_id)
            assert service.cancel(event.job_id)

    listener.then = cancel_at_first_frame
    request = export_request(project, folder, out / "film.mp4")
    job = service.submit(request, ExportInputs(project, folder))
    assert isinstance(recorder.wait_done(job), Cancelled)
    assert cancelled == [job]
    steps = [e.step for e in recorder.of(job) if isinstance(e, Progress)]
    assert steps == [1]  # the frame it was cancelled at; no other was reported
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("kind", ["engine", "process"])
def test_an_export_queues_behind_the_running_render(kind, service, gate, recorder, film):
    """One worker renders and exports, in the order of the queue; a queued export is
    reordered and cancelled like a render."""
    project, folder, out = film
    inputs = ExportInputs(project, folder)
    render = service.submit(make_request("held", seed=61))
    recorder.wait_for(lambda events: render in started(recorder))
    first = service.submit(export_request(project, folder, out / "1.mp4"), inputs)
    second = service.submit(export_request(project, folder, out / "2.mp4"), inputs)
    draft = service.submit(make_request("draft", seed=62), priority=Priority.DRAFT)
    assert service.pending() == [draft, first, second]  # an export is a final render's peer
    service.reorder([second, first])
    assert service.pending() == [draft, second, first]
    assert service.cancel(first)
    assert isinstance(recorder.wait_done(first), Cancelled)
    assert recorder.kinds(first) == ["Queued", "Cancelled"]
    gate.touch()
    for job in (render, draft, second):
        assert isinstance(recorder.wait_done(job), Finished)
    assert started(recorder) == [render, draft, second]
    assert list(out.iterdir()) == [out / "2.mp4"]


@pytest.mark.parametrize("kind", [FARM])
def test_the_farm_writes_an_export_beside_a_held_render(kind, service, gate, recorder, film):
    """The farm's exports need no render node: one is written while the node's render is
    held, and ends while that render still runs."""
    project, folder, out = film
    render = service.submit(make_request("held", seed=71))
    recorder.wait_for(lambda events: render in started(recorder))
    export = service.submit(
        export_request(project, folder, out / "film.mp4"), ExportInputs(project, folder)
    )
    assert isinstance(recorder.wait_done(export), Finished)
    assert service.running_jobs() == [render]  # still held on its node
    gate.touch()
    assert isinstance(recorder.wait_done(render), Finished)
