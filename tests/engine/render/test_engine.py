"""The engine thread: event order, cancel, failures, cache hits, priorities, shutdown."""

from __future__ import annotations

import itertools
import json
import threading

import pytest
import torch

from engine.render.worker import Engine
from studio.jobs import (
    TERMINAL_EVENTS,
    Cancelled,
    Failed,
    Finished,
    Priority,
    Progress,
    Queued,
    Stage,
    Started,
)
from tests.engine.conftest import ScriptedBackend, make_request


def test_event_order_of_a_job(make_engine, recorder, store):
    backend = ScriptedBackend(steps=3)
    engine = make_engine(backend)
    request = make_request()
    job = engine.submit(request)
    done = recorder.wait_done(job)
    kinds = recorder.kinds(job)
    assert kinds[0] == "Queued" and kinds[1] == "Started" and kinds[-1] == "Finished"
    assert set(kinds[2:-1]) == {"Progress"}
    stages = [e.stage for e in recorder.of(job) if isinstance(e, Progress)]
    assert stages.index(Stage.LOADING) < stages.index(Stage.DENOISING) < stages.index(Stage.WRITING)
    denoise = [
        e.step for e in recorder.of(job) if isinstance(e, Progress) and e.stage == "denoising"
    ]
    assert denoise == sorted(denoise) and denoise[-1] == 3
    take = done.result
    assert take.id == request.hash
    assert store.has(take.id)
    assert store.manifest(take.id).request == json.loads(request.canonical_json())
    assert store.verify(take.id) == store.find(take.id)  # its file hash is recorded
    assert take.media == f"takes/{take.id}.mp4"


def test_cancel_a_queued_job_at_once(make_engine, recorder, store):
    backend = ScriptedBackend(block_at=1)
    engine = make_engine(backend)
    first = engine.submit(make_request("first"))
    second = engine.submit(make_request("second"))
    assert backend.reached.wait(30)
    assert engine.pending() == [second]
    assert engine.cancel(second)
    assert recorder.kinds(second) == ["Queued", "Cancelled"]  # at once, not after `first`
    backend.proceed.set()
    assert isinstance(recorder.wait_done(first), Finished)
    assert backend.generated == ["first"]
    assert not engine.cancel(second)


def test_cancel_a_running_job_at_its_next_step(make_engine, recorder, store):
    backend = ScriptedBackend(steps=5, block_at=3)
    engine = make_engine(backend)
    request = make_request("doomed")
    job = engine.submit(request)
    assert backend.reached.wait(30)
    assert engine.running == job
    assert engine.cancel(job)
    backend.proceed.set()
    assert isinstance(recorder.wait_done(job), Cancelled)
    assert backend.decoded == []  # stopped before decoding
    steps = [e.step for e in recorder.of(job) if isinstance(e, Progress) and e.stage == "denoising"]
    assert max(steps) == 2
    assert not store.has(request.hash)
    assert not list(store.folder.glob("*")) if store.folder.exists() else True


def test_a_job_is_no_longer_running_once_its_last_event_is_out(store, recorder):
    # Whoever hears a job's last event and asks what runs must not be told that job.
    backend = ScriptedBackend(steps=3, block_at=2)
    heard: list[tuple[str, str | None]] = []
    engine: Engine | None = None

    def sink(event):
        if isinstance(event, TERMINAL_EVENTS):
            heard.append((type(event).__name__, engine.running))
        recorder(event)

    engine = Engine(store, sink, lambda name: backend).start()
    try:
        doomed = engine.submit(make_request("doomed"))
        assert backend.reached.wait(30)
        assert engine.cancel(doomed)
        backend.proceed.set()
        assert isinstance(recorder.wait_done(doomed), Cancelled)
        backend.block_at, backend.error = None, RuntimeError("kaput")
        assert isinstance(recorder.wait_done(engine.submit(make_request("bad"))), Failed)
        backend.error = None
        assert isinstance(recorder.wait_done(engine.submit(make_request("good"))), Finished)
    finally:
        engine.shutdown(30)
    assert heard == [("Cancelled", None), ("Failed", None), ("Finished", None)]


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (RuntimeError("kaput"), "RuntimeError: kaput"),
        (torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"), "Out of memory"),
    ],
)
def test_a_failure_gives_failed_and_the_next_job_runs(make_engine, recorder, store, error, message):
    backend = ScriptedBackend(error=error)
    engine = make_engine(backend)
    bad = engine.submit(make_request("bad"))
    failed = recorder.wait_done(bad)
    assert isinstance(failed, Failed)
    assert message in failed.message
    assert failed.detail  # the traceback, for the log
    assert not store.ids()
    backend.error = None
    good = engine.submit(make_request("good"))
    assert isinstance(recorder.wait_done(good), Finished)


class OddError(BaseException):
    """Not an Exception: what a careless library or a plugin may still raise."""


class Unprintable(Exception):  # noqa: N818 - named for what it does to a message
    def __str__(self) -> str:
        raise RuntimeError("this exception cannot describe itself")


@pytest.mark.parametrize(
    "error",
    [OddError("odd"), SystemExit(3), KeyboardInterrupt(), GeneratorExit(), Unprintable()],
    ids=lambda e: type(e).__name__,
)
def test_no_exception_ends_the_job_loop(make_engine, recorder, store, error):
    backend = ScriptedBackend(error=error)
    engine = make_engine(backend)
    failed = recorder.wait_done(engine.submit(make_request("bad")))
    assert isinstance(failed, Failed)
    assert type(error).__name__ in failed.message
    assert engine.alive
    backend.error = None
    assert isinstance(recorder.wait_done(engine.submit(make_request("good"))), Finished)


def test_whatever_the_take_store_raises_fails_only_that_job(store, recorder, monkeypatch):
    bad = make_request("bad")
    find = store.find

    def broken_find(take_id):
        if take_id == bad.hash:
            raise OddError("the store broke")
        return find(take_id)

    monkeypatch.setattr(store, "find", broken_find)
    engine = Engine(store, recorder, lambda name: ScriptedBackend()).start()
    try:
        failed = recorder.wait_done(engine.submit(bad))
        assert isinstance(failed, Failed) and "the store broke" in failed.message
        assert isinstance(recorder.wait_done(engine.submit(make_request("good"))), Finished)
    finally:
        engine.shutdown(30)


def test_a_failing_backend_factory_fails_the_job(store, recorder):
    def factory(name):
        raise OddError(f"no backend {name}")

    engine = Engine(store, recorder, factory).start()
    try:
        failed = recorder.wait_done(engine.submit(make_request("bad")))
        assert isinstance(failed, Failed) and "no backend scripted" in failed.message
        assert engine.alive and engine.running is None
    finally:
        engine.shutdown(30)


def test_a_dangling_link_named_like_the_take_does_not_stop_the_engine(
    make_engine, recorder, store, tmp_path
):
    linked = make_request("linked")
    store.folder.mkdir(parents=True)
    nowhere = tmp_path / "nowhere.mp4"
    (store.folder / f"{linked.hash}.mp4").symlink_to(nowhere)
    engine = make_engine(ScriptedBackend())
    # Failed, or rendered anew where the store no longer takes the link for a take: the
    # job ends either way, the link's target is never written, and the engine goes on.
    assert isinstance(recorder.wait_done(engine.submit(linked)), Failed | Finished)
    assert not nowhere.exists()
    assert isinstance(recorder.wait_done(engine.submit(make_request("next"))), Finished)
    assert engine.alive


def test_a_cache_hit_calls_no_backend(store, recorder):
    request = make_request("cached")
    store.insert_bytes(request.hash, b"not decoded", request.canonical_json())
    calls = []
    engine = Engine(store, recorder, lambda name: calls.append(name)).start()
    try:
        job = engine.submit(request)
        done = recorder.wait_done(job)
    finally:
        engine.shutdown(30)
    assert isinstance(done, Finished) and done.result.id == request.hash
    assert calls == []
    assert recorder.kinds(job) == ["Queued", "Started", "Finished"]


def test_drafts_run_before_finals_and_reorder(make_engine, recorder):
    backend = ScriptedBackend(block_at=1)
    engine = make_engine(backend)
    blocker = engine.submit(make_request("blocker"))
    assert backend.reached.wait(30)
    backend.block_at = None
    final_a = engine.submit(make_request("final a"), priority=Priority.FINAL)
    final_b = engine.submit(make_request("final b"), priority=Priority.FINAL)
    draft = engine.submit(make_request("draft"), priority=Priority.DRAFT)
    assert engine.pending() == [draft, final_a, final_b]
    engine.reorder([final_b, final_a])
    assert engine.pending() == [draft, final_b, final_a]
    assert engine.reprioritise(final_a, Priority.DRAFT)
    assert engine.pending() == [draft, final_a, final_b]
    backend.proceed.set()
    for job in (blocker, draft, final_a, final_b):
        recorder.wait_done(job)
    assert backend.generated == ["blocker", "draft", "final a", "final b"]
    queued = [e for e in recorder.events if isinstance(e, Queued)]
    assert [q.position for q in queued] == [0, 0, 1, 0]


def test_cancel_all(make_engine, recorder, store):
    backend = ScriptedBackend(steps=3, block_at=2)
    engine = make_engine(backend)
    jobs = [engine.submit(make_request(f"job {i}")) for i in range(4)]
    assert backend.reached.wait(30)
    engine.cancel_all()
    backend.proceed.set()
    for job in jobs:
        assert isinstance(recorder.wait_done(job), Cancelled)
    assert backend.generated == ["job 0"]
    assert not store.ids()


@pytest.mark.parametrize(("tick", "expected"), [(1e-6, range(100, 103)), (0.2, [20_000])])
def test_progress_is_throttled(store, recorder, tick, expected):
    # The engine's clock advances `tick` seconds per reading, whatever the machine's speed:
    # steps of a microsecond give one event per percent, steps slower than the interval
    # one per step.
    ticks = itertools.count()
    backend = ScriptedBackend(steps=20_000)

    def clock() -> float:
        return next(ticks) * tick

    engine = Engine(store, recorder, lambda name: backend, clock=clock).start()
    try:
        job = engine.submit(make_request())
        recorder.wait_done(job)
    finally:
        engine.shutdown(30)
    denoise = [e for e in recorder.of(job) if isinstance(e, Progress) and e.stage == "denoising"]
    assert len(denoise) in expected
    assert denoise[-1].step == 20_000
    assert any(e.eta_seconds is not None for e in denoise)


def test_shutdown_joins_the_thread_and_unloads(store, recorder):
    backend = ScriptedBackend(block_at=2)
    engine = Engine(store, recorder, lambda name: backend).start()
    running = engine.submit(make_request("running"))
    queued = engine.submit(make_request("queued"))
    assert backend.reached.wait(30)
    stopper = threading.Thread(target=engine.shutdown, args=(30,))
    stopper.start()
    backend.proceed.set()
    stopper.join(30)
    assert not engine.alive
    assert not [t for t in threading.enumerate() if t.name == "gallop-engine"]
    assert isinstance(recorder.wait_done(running), Cancelled)
    assert recorder.kinds(queued) == ["Queued", "Cancelled"]
    assert backend.unloaded == 1
    with pytest.raises(Exception, match="shut down"):
        engine.submit(make_request("late"))


def test_unload_command_frees_models_between_jobs(make_engine, recorder):
    backend = ScriptedBackend()
    engine = make_engine(backend)
    recorder.wait_done(engine.submit(make_request("one")))
    engine.unload()
    recorder.wait_done(engine.submit(make_request("two")))
    assert backend.unloaded >= 1
    assert backend.loads == 2
    assert isinstance(recorder.of(recorder.events[0].job_id)[1], Started)


def test_frame_counts_snap_to_the_nearest_valid_count():
    from engine.backends.base import Capabilities

    wan = Capabilities(frame_multiple=4, max_frames=81)
    assert [wan.snap_frames(n) for n in (1, 5, 7, 8, 9, 10, 80, 81, 200)] == [
        5,
        5,
        9,
        9,
        9,
        9,
        81,
        81,
        81,
    ]
    ltx = Capabilities(frame_multiple=8)
    assert [ltx.snap_frames(n) for n in (9, 12, 13, 120, 121)] == [9, 9, 17, 121, 121]
    assert Capabilities().snap_frames(37) == 37
