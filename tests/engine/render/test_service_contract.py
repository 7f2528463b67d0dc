"""Every render service keeps one contract (`engine.protocol.RenderService`): the engine
thread, the engine in a child process and the Ray farm (on a local cluster, where Ray is
installed) give the same events for the same calls.

Each one renders with `host_backends.gated_scripted`, which holds every job at its first
step until the test opens the gate (creates its file); the tests wait on events only."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from engine.protocol import RenderService
from engine.render.process import EngineProcess
from engine.render.worker import Engine
from studio.errors import StudioError
from studio.jobs import Cancelled, Finished, Priority, Progress, Queued, Started
from tests.engine.conftest import Recorder, make_request
from tests.engine.render.host_backends import GATE, gated_scripted, unloads_of

BACKENDS = "tests.engine.render.host_backends:gated_scripted"
HAS_RAY = importlib.util.find_spec("ray") is not None
NO_RAY = "the farm needs Ray, from the 'cluster' extra: pip install 'gallop-studio[cluster]'"
PACKAGES = str(Path(__file__).resolve().parents[3])


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


@pytest.fixture(
    params=[
        "engine",
        "process",
        pytest.param("farm", marks=pytest.mark.skipif(not HAS_RAY, reason=NO_RAY)),
    ]
)
def service(request, gate, store, recorder):
    engine = build(request.param, store, recorder, request)
    yield engine
    if engine.alive:
        engine.shutdown(timeout=60)


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
