"""An export is a job of the render engine: the same queue, events, throttle and cancel."""

from __future__ import annotations

import threading
from fractions import Fraction

import pytest

from engine.export.job import export_request
from engine.protocol import ExportInputs
from engine.render.worker import Engine
from studio.errors import StudioError
from studio.jobs import (
    Cancelled,
    Failed,
    Finished,
    Priority,
    Progress,
    Queued,
    Stage,
    Started,
)
from studio.project.model import Project
from studio.project.takes import TakeStore
from studio.timeline.timeline import Timeline
from tests.engine.conftest import make_request
from tests.engine.export.export_helpers import H, W, add_bed, add_shot, cut, leftovers


def no_backend(name: str):
    raise AssertionError(f"an export loads no backend ({name})")


@pytest.fixture
def project() -> Project:
    return Project(title="Export", width=W, height=H)


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def engine_for(tmp_path, recorder):
    engines: list[Engine] = []

    def build(sink=recorder) -> Engine:
        engine = Engine(TakeStore(tmp_path / "takes"), sink, no_backend)
        engines.append(engine)
        return engine

    yield build
    for engine in engines:
        engine.shutdown(timeout=30)


def test_an_export_through_the_engine_reports_like_a_render(
    project, tmp_path, out, recorder, engine_for
):
    add_shot(project, tmp_path, "a", frames=30)
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 30),))
    request = export_request(project, tmp_path, out / "f.mp4", crf=20)
    engine = engine_for().start()
    job = engine.submit(request, ExportInputs(project, tmp_path), label="Export f.mp4")
    end = recorder.wait_done(job)
    events = recorder.of(job)
    assert [type(e) for e in events[:2]] == [Queued, Started]
    assert events[1].description == "Export f.mp4"
    assert isinstance(end, Finished), end
    result = end.result
    assert result.path == out / "f.mp4" and result.path.is_file() and result.frames == 30
    steps = [e for e in events if isinstance(e, Progress)]
    assert steps and all(e.stage is Stage.EXPORTING and e.total == 30 for e in steps)
    assert [e.step for e in steps] == sorted(e.step for e in steps) and steps[-1].step == 30
    assert leftovers(out) == []


def test_cancelling_a_running_export_leaves_no_file(project, tmp_path, out, recorder, engine_for):
    add_shot(project, tmp_path, "a", frames=48, moving=True)
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 48),))
    add_bed(project, tmp_path, 48)
    request = export_request(project, tmp_path, out / "f.mp4", crf=20)
    held, gate = threading.Event(), threading.Event()

    def sink(event):
        recorder(event)
        if isinstance(event, Progress) and event.step > 0 and not held.is_set():
            held.set()  # the film is half written: the engine thread waits on the test
            assert gate.wait(60), "the test never let the export go on"

    engine = engine_for(sink).start()
    job = engine.submit(request, ExportInputs(project, tmp_path))
    assert held.wait(60)
    assert engine.running == job
    assert engine.cancel(job)
    gate.set()
    assert isinstance(recorder.wait_done(job), Cancelled)
    assert max(e.step for e in recorder.of(job) if isinstance(e, Progress)) < 48
    assert list(out.iterdir()) == []


def test_exports_share_the_render_queue(project, tmp_path, out, recorder, engine_for):
    add_shot(project, tmp_path, "a")
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 6),))
    inputs = ExportInputs(project, tmp_path)
    engine = engine_for()  # not started: everything stays queued
    first = engine.submit(export_request(project, tmp_path, out / "1.mp4"), inputs)
    second = engine.submit(export_request(project, tmp_path, out / "2.mp4"), inputs)
    draft = engine.submit(make_request(), priority=Priority.DRAFT)
    assert engine.pending() == [draft, first, second]  # exports are final renders' peers
    engine.reorder([second, first])
    assert engine.pending() == [draft, second, first]
    assert engine.reprioritise(second, Priority.DRAFT)
    engine.reorder([second, draft])
    assert engine.pending() == [second, draft, first]
    assert engine.cancel(first)
    assert isinstance(recorder.of(first)[-1], Cancelled)
    with pytest.raises(TypeError):
        engine.submit(export_request(project, tmp_path, out / "3.mp4"))
    engine.shutdown()
    assert {type(recorder.of(j)[-1]) for j in (second, draft)} == {Cancelled}
    with pytest.raises(StudioError):
        engine.submit(export_request(project, tmp_path, out / "4.mp4"), inputs)
    assert list(out.iterdir()) == []


def test_a_failed_export_names_the_shot_and_leaves_nothing(
    project, tmp_path, out, recorder, engine_for
):
    shot = add_shot(project, tmp_path, "a")
    project.timeline = Timeline(Fraction(24), (cut("c1", "a", 0, 6),))
    request = export_request(project, tmp_path, out / "f.mp4")
    (tmp_path / shot.current_take.media).write_bytes(b"not a video at all")
    engine = engine_for().start()
    job = engine.submit(request, ExportInputs(project, tmp_path))
    end = recorder.wait_done(job)
    assert isinstance(end, Failed) and "Shot a" in end.message
    assert list(out.iterdir()) == []
