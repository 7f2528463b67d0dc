"""The engine in a child process: the same events as the engine thread, cancel, a crash
that fails the job and leaves the caller running, output that cannot break the protocol."""

from __future__ import annotations

import logging
import os
import queue
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from engine.render import process as host
from engine.render.planning import plan_render
from engine.render.process import EngineProcess, exit_reason
from studio.errors import StudioError
from studio.jobs import TERMINAL_EVENTS, Cancelled, Failed, Finished, Queued, Started
from studio.project.io import copy_project, load_project
from studio.project.takes import TakeStore
from tests.engine.render.host_backends import CRASH_ONCE, GATE

EXAMPLE = Path(__file__).resolve().parents[3] / "assets" / "examples" / "Lighthouse.gallop"
WAIT = 60.0


class Events:
    """The engine's events, as they arrive on its reader thread."""

    def __init__(self) -> None:
        self.queue: queue.Queue = queue.Queue()
        self.seen: list = []

    def __call__(self, event) -> None:
        self.queue.put(event)

    def until(self, job_id: str, kinds: tuple[type, ...]):
        """Every event up to the job's first of one of these kinds; returns that event."""
        for event in self.seen:
            if event.job_id == job_id and isinstance(event, kinds):
                return event
        while True:
            event = self.queue.get(timeout=WAIT)
            self.seen.append(event)
            if event.job_id == job_id and isinstance(event, kinds):
                return event

    def until_end(self, job_id: str):
        """Every event up to the job's last one; returns that last event."""
        return self.until(job_id, TERMINAL_EVENTS)

    def until_started(self, job_id: str) -> None:
        """Until the child's engine runs the job (held at the gate, it stays running)."""
        self.until(job_id, (Started,))

    def of(self, job_id: str) -> list:
        return [e for e in self.seen if e.job_id == job_id]


@pytest.fixture
def planned(tmp_path):
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    project = load_project(folder)
    shot = project.shots[0]
    shot.duration, shot.width, shot.height = 0.5, 160, 96
    plan = plan_render(project, folder, shot, backend="previz")

    def request(seed: int):
        return replace(plan.request, seed=seed), plan.inputs

    request.store = TakeStore(folder / "takes")
    return request


@pytest.fixture
def events():
    return Events()


def start(planned, events, backends="engine.render.worker:default_backend_factory", **options):
    return EngineProcess(planned.store, events, backends, **options).start()


def test_a_render_in_the_child_lands_in_the_take_store(planned, events):
    engine = start(planned, events)
    try:
        assert engine.alive and engine.pid != os.getpid()
        request, inputs = planned(1)
        job = engine.submit(request, inputs, label="storm")
        end = events.until_end(job)
        assert isinstance(end, Finished), end
        kinds = [type(e) for e in events.of(job)]
        assert kinds[:2] == [Queued, Started]
        assert events.of(job)[1].description == "storm"
        assert end.result.id == request.hash
        assert planned.store.find(request.hash) is not None
        # The same request again is in the store: it finishes with no compute.
        again = engine.submit(request, inputs)
        assert isinstance(events.until_end(again), Finished)
    finally:
        engine.shutdown(timeout=30)
    assert not engine.alive


def test_modules_planted_where_the_studio_started_never_run_in_the_engine(
    planned, events, tmp_path, monkeypatch
):
    # A folder someone else could write to, holding modules named like the engine's own
    # imports: starting the studio from there must not run them in the engine.
    hostile = tmp_path / "downloads"
    marker = tmp_path / "planted-code-ran"
    plant = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    (hostile / "engine").mkdir(parents=True)
    for module in ("numpy.py", "sitecustomize.py", "engine/__init__.py"):
        (hostile / module).write_text(plant)
    monkeypatch.chdir(hostile)
    monkeypatch.setenv("PYTHONPATH", str(hostile))
    # The take folder named relative to that folder still means the project's.
    store = TakeStore(os.path.relpath(planned.store.folder, hostile))
    engine = EngineProcess(store, events, "tests.engine.render.host_backends:noisy").start()
    try:
        request, inputs = planned(5)
        end = events.until_end(engine.submit(request, inputs))
        assert isinstance(end, Finished), end
    finally:
        engine.shutdown(timeout=30)
    assert not marker.exists(), marker.read_text()
    assert planned.store.find(request.hash) is not None


def test_cancel_reaches_queued_and_running_jobs(planned, events, tmp_path, monkeypatch):
    gate = tmp_path / "gate"
    monkeypatch.setenv(GATE, str(gate))
    engine = start(planned, events, "tests.engine.render.host_backends:gated")
    try:
        running = engine.submit(*planned(11))
        queued = engine.submit(*planned(12))
        events.until_started(running)
        assert engine.running == running
        assert engine.pending() == [queued]
        assert engine.cancel(queued)
        assert isinstance(events.until_end(queued), Cancelled)
        assert engine.pending() == []
        assert engine.cancel(running)
        assert isinstance(events.until_end(running), Cancelled)
        assert not engine.cancel(running)  # already over
        assert engine.running is None
        assert not list(planned.store.folder.glob("*.mp4"))  # nothing partial stored
    finally:
        engine.shutdown(timeout=30)


def test_reorder_changes_which_queued_job_runs_first(planned, events, tmp_path, monkeypatch):
    gate = tmp_path / "gate"
    monkeypatch.setenv(GATE, str(gate))
    engine = start(planned, events, "tests.engine.render.host_backends:gated")
    try:
        first = engine.submit(*planned(21))
        b = engine.submit(*planned(22))
        c = engine.submit(*planned(23))
        events.until_started(first)
        engine.reorder([c, b])
        assert engine.pending() == [c, b]
        gate.touch()
        for job in (first, b, c):
            assert isinstance(events.until_end(job), Finished)
        started = [e.job_id for e in events.seen if isinstance(e, Started)]
        assert started == [first, c, b]
    finally:
        engine.shutdown(timeout=30)


def test_output_printed_in_the_child_goes_to_the_log_not_the_protocol(
    planned, events, capfd, monkeypatch
):
    monkeypatch.setattr(host, "stderr_is_terminal", lambda: True)
    engine = start(planned, events, "tests.engine.render.host_backends:noisy")
    try:
        job = engine.submit(*planned(31))
        assert isinstance(events.until_end(job), Finished)
    finally:
        engine.shutdown(timeout=30)
    err = capfd.readouterr().err
    assert "noisy: a line from print()" in err
    assert "noisy: a line written to fd 1" in err


def test_a_crash_fails_its_jobs_and_the_next_render_starts_a_new_engine(
    planned, events, tmp_path, monkeypatch
):
    monkeypatch.setenv(CRASH_ONCE, str(tmp_path / "crashed"))
    engine = start(planned, events, "tests.engine.render.host_backends:crashing")
    try:
        first_pid = engine.pid
        doomed = engine.submit(*planned(41))
        queued = engine.submit(*planned(42))
        end = events.until_end(doomed)
        assert isinstance(end, Failed)
        assert "exited with code 3" in end.message and "render again" in end.message
        assert "the last words of the engine" in end.detail
        assert isinstance(events.until_end(queued), Failed)
        assert not engine.alive
        retry = engine.submit(*planned(41))
        assert isinstance(events.until_end(retry), Finished)
        assert engine.alive and engine.pid != first_pid
    finally:
        engine.shutdown(timeout=30)


def test_shutdown_cancels_everything_and_the_child_exits(planned, events, tmp_path, monkeypatch):
    monkeypatch.setenv(GATE, str(tmp_path / "gate"))
    engine = start(planned, events, "tests.engine.render.host_backends:gated")
    running = engine.submit(*planned(51))
    queued = engine.submit(*planned(52))
    events.until_started(running)
    child = engine._child
    engine.shutdown(timeout=30)
    assert child.proc.returncode == 0
    assert isinstance(events.until_end(running), Cancelled)
    assert isinstance(events.until_end(queued), Cancelled)
    with pytest.raises(Exception, match="shut down"):
        engine.submit(*planned(53))


def test_the_child_ends_when_its_parent_goes(planned, events):
    engine = start(planned, events)
    child = engine._child
    child.proc.stdin.close()  # what the parent's death does to the pipe
    assert child.proc.wait(timeout=30) == 0
    engine.shutdown(timeout=5)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="niceness is per thread on Linux")
def test_a_low_priority_engine_runs_below_its_caller(planned, events):
    engine = start(planned, events, low_priority=True)
    try:
        own = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, engine.pid) == min(19, own + 10)
    finally:
        engine.shutdown(timeout=30)


def test_exit_reasons_read_like_sentences():
    assert exit_reason(3) == "exited with code 3"
    assert "SIGKILL" in exit_reason(-9) and "memory" in exit_reason(-9)
    assert exit_reason(-15) == "was stopped by SIGTERM"


def test_an_engine_that_cannot_start_is_a_clear_error(planned, events, tmp_path):
    engine = EngineProcess(planned.store, events, python=str(tmp_path / "no-python"))
    with pytest.raises(StudioError, match="cannot start the render engine"):
        engine.submit(*planned(61))


def test_without_a_terminal_the_childs_output_goes_to_the_studios_log(
    planned, events, caplog, monkeypatch
):
    # As when the studio starts from a desktop menu: nobody reads its standard error.
    monkeypatch.setattr(host, "stderr_is_terminal", lambda: False)
    caplog.set_level(logging.INFO, logger="gallop.engine")
    engine = start(planned, events, "tests.engine.render.host_backends:noisy")
    try:
        pid = engine.pid
        job = engine.submit(*planned(71))
        assert isinstance(events.until_end(job), Finished)
    finally:
        engine.shutdown(timeout=30)
    lines = [r.getMessage() for r in caplog.records if r.name == "gallop.engine"]
    assert "noisy: a line from print()" in lines
    assert "noisy: a line written to fd 1" in lines
    assert any(line.startswith(f"engine process {pid} started") for line in lines)
    assert f"engine process {pid} exited with code 0" in lines


def test_the_engine_writes_its_own_log_file(planned, events, tmp_path, monkeypatch):
    logs = tmp_path / "logs"
    monkeypatch.setenv("GALLOP_LOG_DIR", str(logs))
    engine = start(planned, events)
    try:
        pid = engine.pid
        job = engine.submit(*planned(81), label="storm")
        assert isinstance(events.until_end(job), Finished)
    finally:
        engine.shutdown(timeout=30)
    text = (logs / "engine.log").read_text()
    assert f"{pid} INFO gallop.engine: engine process {pid} serving" in text
    assert f"render {job} queued: storm" in text
    assert f"render {job} finished" in text
    assert not list(logs.glob("engine-faults-*.log"))  # a normal end leaves no report


@pytest.mark.skipif(sys.platform == "win32", reason="no SIGSEGV to survive there")
def test_a_native_crash_leaves_its_traceback_in_the_log_folder(
    planned, events, tmp_path, monkeypatch, caplog
):
    logs = tmp_path / "logs"
    monkeypatch.setenv("GALLOP_LOG_DIR", str(logs))
    monkeypatch.setattr(host, "stderr_is_terminal", lambda: False)
    caplog.set_level(logging.INFO, logger="gallop.engine")
    engine = start(planned, events, "tests.engine.render.host_backends:segfaulting")
    try:
        pid = engine.pid
        end = events.until_end(engine.submit(*planned(91)))
    finally:
        engine.shutdown(timeout=30)
    assert isinstance(end, Failed)
    assert "SIGSEGV" in end.message
    assert "Fatal Python error: Segmentation fault" in end.detail
    report = (logs / f"engine-faults-{pid}.log").read_text()
    assert "Fatal Python error: Segmentation fault" in report
    assert "host_backends.py" in report and "in generate" in report  # the crashing frame
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Fatal Python error: Segmentation fault" in logged  # also in the studio's log
    assert f"engine process {pid} was stopped by SIGSEGV" in logged
