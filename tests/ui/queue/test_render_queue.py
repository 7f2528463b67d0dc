"""The render queue panel follows the real engine: rows per job, cancel, retry, reorder."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from engine.backends.previz import PrevizBackend
from engine.render.batch import local_engine_factory
from studio.project.io import copy_project, load_project
from ui.bridge import CANCELLED, DONE, FAILED, QUEUED, RUNNING, WAITING, EngineBridge
from ui.document import Document
from ui.queue.render_queue import JobRow, RenderQueuePanel, eta_text

EXAMPLE = Path(__file__).resolve().parents[3] / "assets" / "examples" / "Lighthouse.gallop"
WAIT = 60_000


class GatedPreviz(PrevizBackend):
    """The previz, held at its first step until the test opens the gate: the job the
    engine runs stays running and every later one stays queued, with no timing guesses."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate

    def generate(self, request, inputs, ctx):
        while not self.gate.wait(0.01):
            ctx.check_cancelled()
        return super().generate(request, inputs, ctx)


@pytest.fixture
def document(tmp_path):
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    document = Document(load_project(folder), folder)
    for shot in document.project.shots:
        shot.duration, shot.width, shot.height = 0.5, 320, 192
    return document


@pytest.fixture
def gate():
    return threading.Event()


@pytest.fixture
def held_bridge(document, gate):
    """A bridge whose engine holds its first job until `gate` is set."""
    bridge = EngineBridge(document, local_engine_factory(lambda _name: GatedPreviz(gate)))
    yield bridge
    gate.set()
    bridge.shutdown()


def make_panel(qtbot, bridge) -> RenderQueuePanel:
    panel = RenderQueuePanel(bridge)
    qtbot.addWidget(panel)
    panel.resize(640, 480)
    panel.show()
    return panel


def test_eta_reads_in_seconds_then_minutes():
    assert eta_text(12.2) == "~12 s left"
    assert eta_text(0.2) == "~1 s left"
    assert eta_text(300) == "~5 min left"
    assert eta_text(None) == ""


def test_rows_follow_jobs_and_cancel_a_queued_one(qtbot, held_bridge):
    bridge = held_bridge
    panel = make_panel(qtbot, bridge)
    assert panel.objectName() == "renderQueue"
    shots = bridge.document.project.shots[:3]
    ids = [bridge.render_shot(s.id, backend="previz")[0] for s in shots]
    assert panel.list.count() == 3
    assert panel.job_ids() == ids
    assert panel.row_widget(ids[1]).title.text() == shots[1].title
    assert panel.header.text() == "3 rendering/queued"

    # The first job runs (held at the gate): its bar is a busy indicator while loading.
    qtbot.waitUntil(lambda: bridge.jobs[ids[0]].state == RUNNING, timeout=WAIT)
    first = panel.row_widget(ids[0])
    assert first.progress.maximum() == 0
    assert first.status.text() == bridge.jobs[ids[0]].stage

    last = panel.row_widget(ids[2])
    assert bridge.jobs[ids[2]].state == QUEUED
    assert last.cancel_button.isVisible() and not last.retry_button.isVisible()
    qtbot.mouseClick(last.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bridge.jobs[ids[2]].state == CANCELLED, timeout=WAIT)
    assert last.status.text() == "cancelled"
    assert last.progress.format() == "cancelled"
    assert last.retry_button.isVisible() and last.remove_button.isVisible()
    assert not last.cancel_button.isVisible()
    assert panel.header.text() == "2 rendering/queued, 1 cancelled"

    panel.cancel_all_action.trigger()
    qtbot.waitUntil(lambda: not bridge.busy, timeout=WAIT)
    assert [bridge.jobs[i].state for i in ids] == [CANCELLED] * 3
    assert all(panel.row_widget(i).status.text() == "cancelled" for i in ids)
    assert panel.header.text() == "0 rendering/queued, 3 cancelled"
    assert not panel.cancel_all_action.isEnabled()

    panel.clear_finished_action.trigger()
    assert panel.list.count() == 0 and panel.job_ids() == [] and not bridge.jobs


def test_a_failed_job_shows_why_and_retry_renders_again(qtbot, bridge):
    panel = make_panel(qtbot, bridge)
    shot = bridge.document.project.shots[0]
    # A file that exists but is no picture: planning accepts it, the previz cannot load it.
    shot.keyframe = "media/sea_bed.ogg"
    with qtbot.waitSignal(bridge.jobFailed, timeout=WAIT):
        (job_id,) = bridge.render_shot(shot.id, backend="previz")
    info = bridge.jobs[job_id]
    assert info.state == FAILED
    row = panel.row_widget(job_id)
    assert row.message.isVisibleTo(panel)
    assert row.message.text() == info.message and "keyframe" in info.message
    assert "color:" in row.message.styleSheet()
    assert "Traceback" in row.message.toolTip()
    assert panel.header.text() == "0 rendering/queued, 1 failed"

    assert row.details_button.isVisibleTo(panel)
    qtbot.mouseClick(row.details_button, Qt.LeftButton)
    assert panel.details_box is not None
    assert "RenderError" in panel.details_box.detailedText()
    panel.details_box.close()

    shot.keyframe = None  # the director fixes the cause, then retries
    assert row.retry_button.isVisibleTo(panel)
    with qtbot.waitSignal(bridge.jobFinished, timeout=WAIT) as finished:
        qtbot.mouseClick(row.retry_button, Qt.LeftButton)
    (new_id,) = panel.job_ids()
    assert new_id != job_id and job_id not in bridge.jobs
    assert finished.args[0] == new_id and bridge.jobs[new_id].state == DONE
    new_row = panel.row_widget(new_id)
    assert new_row.status.text() == "done" and not new_row.message.isVisibleTo(panel)
    assert new_row.progress.value() == new_row.progress.maximum()
    # The last live preview stays on the row as a small thumbnail.
    thumb = new_row.thumbnail()
    assert thumb is not None and 0 < thumb.width() <= 96
    assert panel.header.text() == "0 rendering/queued, 1 done"


def test_move_up_and_down_reorders_the_queued_jobs(qtbot, held_bridge, monkeypatch):
    bridge = held_bridge
    panel = make_panel(qtbot, bridge)
    sent: list[list[str]] = []
    reorder = bridge.reorder
    monkeypatch.setattr(bridge, "reorder", lambda ids: (sent.append(list(ids)), reorder(ids)))
    a, b, c, d = (
        bridge.render_shot(s.id, backend="previz")[0] for s in bridge.document.project.shots[:4]
    )
    qtbot.waitUntil(lambda: bridge.jobs[a].state == RUNNING, timeout=WAIT)

    panel.select_job(a)  # the running job does not move
    assert not panel.move_up_action.isEnabled() and not panel.move_down_action.isEnabled()
    panel.select_job(b)  # the first queued job cannot go further up
    assert not panel.move_up_action.isEnabled() and panel.move_down_action.isEnabled()

    panel.select_job(d)
    panel.move_up_action.trigger()
    assert sent[-1] == [b, d, c]
    assert panel.job_ids() == [a, b, d, c]
    assert bridge.engine.pending() == [b, d, c]
    assert panel.current_job() == d
    # The rows show the jobs they now stand for.
    titles = [panel.list.itemWidget(panel.list.item(r)).title.text() for r in range(4)]
    assert titles == [bridge.jobs[j].label for j in (a, b, d, c)]

    panel.move_up_action.trigger()
    assert sent[-1] == [d, b, c] and panel.job_ids() == [a, d, b, c]
    assert not panel.move_up_action.isEnabled()
    panel.select_job(b)
    panel.move_down_action.trigger()
    assert sent[-1] == [d, c, b] and panel.job_ids() == [a, d, c, b]
    assert bridge.engine.pending() == [d, c, b]

    panel.cancel_all_action.trigger()
    qtbot.waitUntil(lambda: not bridge.busy, timeout=WAIT)
    assert {bridge.jobs[j].state for j in (a, b, c, d)} == {CANCELLED}


def test_a_job_change_refreshes_only_its_row(qtbot, held_bridge, monkeypatch):
    bridge = held_bridge
    panel = make_panel(qtbot, bridge)
    ids = []
    for shot in bridge.document.project.shots[:5]:
        ids += bridge.render_shot(shot.id, backend="previz", variations=20)
    assert panel.list.count() == len(ids) == 100
    # Held at the gate after its "loading" progress, the first job sends nothing more.
    qtbot.waitUntil(lambda: bridge.jobs[ids[0]].stage == "loading", timeout=WAIT)

    refreshed: list[str] = []
    refresh = JobRow.refresh
    monkeypatch.setattr(
        JobRow, "refresh", lambda row, info: (refreshed.append(row.job_id), refresh(row, info))
    )
    target = ids[50]
    bridge.cancel(target)
    qtbot.waitUntil(lambda: bridge.jobs[target].state == CANCELLED, timeout=WAIT)
    assert refreshed == [target]
    assert panel.row_widget(target).status.text() == "cancelled"

    bridge.cancel_all()
    qtbot.waitUntil(lambda: not bridge.busy, timeout=WAIT)


def cancelled(bridge, job_id):
    """Waits for the job to be cancelled."""
    return lambda changed: changed == job_id and bridge.jobs[job_id].state == CANCELLED


def test_a_chained_shot_waits_in_its_row_and_is_cancelled_with_its_upstream(qtbot, held_bridge):
    bridge = held_bridge
    panel = make_panel(qtbot, bridge)
    ship_job, dawn_job = bridge.render_shots(["ship", "dawn"], backend="previz").jobs
    row = panel.row_widget(dawn_job)
    assert bridge.jobs[dawn_job].state == WAITING
    assert row.status.text() == "waiting for The ship"
    assert row.progress.format() == "waiting"
    assert row.cancel_button.isVisibleTo(panel) and not row.retry_button.isVisibleTo(panel)
    assert panel.header.text() == "2 rendering/queued"

    qtbot.waitUntil(lambda: bridge.jobs[ship_job].state == RUNNING, timeout=WAIT)
    with qtbot.waitSignal(
        bridge.jobChanged, timeout=WAIT, check_params_cb=cancelled(bridge, dawn_job)
    ):
        qtbot.mouseClick(panel.row_widget(ship_job).cancel_button, Qt.LeftButton)
    info = bridge.jobs[dawn_job]
    assert info.message == "not rendered: The ship, which it continues from, was cancelled"
    assert info.request is None  # never sent to the engine
    assert row.status.text() == "cancelled"
    assert row.message.isVisibleTo(panel) and row.message.text() == info.message
    assert row.retry_button.isVisibleTo(panel)
    assert panel.header.text() == "0 rendering/queued, 2 cancelled"


def test_a_waiting_shot_is_cancelled_when_its_upstream_fails(qtbot, bridge):
    panel = make_panel(qtbot, bridge)
    # A file that exists but is no picture: planning accepts it, the previz cannot load it.
    bridge.document.project.shot("ship").keyframe = "media/sea_bed.ogg"
    failed = []
    bridge.jobFailed.connect(lambda job_id, _message: failed.append(job_id))
    ship_job, dawn_job = bridge.render_shots(["ship", "dawn"], backend="previz").jobs
    with qtbot.waitSignal(
        bridge.jobChanged, timeout=WAIT, check_params_cb=cancelled(bridge, dawn_job)
    ):
        pass
    assert failed == [ship_job]  # the upstream's failure is told once, on its own row
    message = "not rendered: The ship, which it continues from, failed"
    assert bridge.jobs[dawn_job].message == message
    assert panel.row_widget(dawn_job).message.text() == message
    assert not bridge.busy


def test_cancelling_a_waiting_shot_leaves_its_upstream_rendering(qtbot, held_bridge, gate):
    bridge = held_bridge
    panel = make_panel(qtbot, bridge)
    ship_job, dawn_job = bridge.render_shots(["ship", "dawn"], backend="previz").jobs
    qtbot.mouseClick(panel.row_widget(dawn_job).cancel_button, Qt.LeftButton)
    assert bridge.jobs[dawn_job].state == CANCELLED
    assert bridge.jobs[dawn_job].message == "cancelled before it started"
    assert bridge.jobs[ship_job].active
    with qtbot.waitSignal(bridge.jobFinished, timeout=WAIT) as finished:
        gate.set()
    assert finished.args[0] == ship_job
    assert bridge.jobs[dawn_job].state == CANCELLED and bridge.jobs[dawn_job].request is None
    assert bridge.document.project.shot("dawn").takes == []


def test_a_long_title_in_a_narrow_queue_ends_in_an_ellipsis(qtbot, held_bridge):
    bridge = held_bridge
    panel = make_panel(qtbot, bridge)
    shot = bridge.document.project.shots[0]
    shot.title = "The lighthouse keeper climbs the spiral staircase by lantern light"
    job = bridge.render_shot(shot.id, backend="previz")[0]
    panel.resize(300, 480)
    qtbot.waitUntil(lambda: panel.row_widget(job).title.width() < 200)
    row = panel.row_widget(job)
    shown = row.title.elided_text()
    assert shown.endswith("…") and shown != row.title.text()
    assert row.remove_button.isVisible() or row.cancel_button.isVisible()
    panel.cancel_all_action.trigger()
    qtbot.waitUntil(lambda: not bridge.busy, timeout=WAIT)
