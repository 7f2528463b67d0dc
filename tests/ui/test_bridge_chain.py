"""Chained shots in the window's queue: a shot that continues from one still rendering
waits for its take, then starts from it; shots already rendered add no job."""

from __future__ import annotations

import pytest

from ui.bridge import DONE, QUEUED, WAITING, RenderBatch

WAIT = 60_000


@pytest.fixture
def project(document):
    for shot in document.project.shots:
        shot.duration, shot.width, shot.height = 0.5, 320, 192
    return document.project


def test_a_chained_shot_waits_for_its_upstream_then_starts_from_its_new_take(
    qtbot, project, bridge
):
    ship, dawn = project.shot("ship"), project.shot("dawn")
    assert dawn.continue_from_previous and project.shot_index("dawn") == 5
    assert ship.current_take is None  # planning Dawn now would fail: nothing to start from

    batch = bridge.render_shots(["ship", "dawn"])
    assert batch.problems == [] and len(batch.jobs) == 2
    ship_job, dawn_job = batch.jobs
    waiting = bridge.jobs[dawn_job]
    assert waiting.state == WAITING and waiting.active and waiting.request is None
    assert waiting.stage == "waiting for The ship"
    assert bridge.job_for_shot("dawn") is waiting

    # What the ship's job was when each change of Dawn's job was announced.
    seen: list[tuple[str, str]] = []
    bridge.jobChanged.connect(
        lambda job_id: (
            seen.append((bridge.jobs[dawn_job].state, bridge.jobs[ship_job].state))
            if job_id == dawn_job
            else None
        )
    )
    with qtbot.waitSignal(
        bridge.jobFinished, timeout=WAIT, check_params_cb=lambda job_id, _take: job_id == dawn_job
    ):
        pass
    assert seen[0] == (QUEUED, DONE)  # submitted once The ship's take had landed
    assert bridge.jobs[ship_job].state == bridge.jobs[dawn_job].state == DONE
    assert ship.current_take is not None
    assert dawn.current_take.request.continuity_source == ship.selected_take
    document = bridge.document
    assert [document.shot_status(s) for s in (ship, dawn)] == ["rendered", "rendered"]

    # Both are rendered now: asking again queues nothing and says so.
    again = bridge.render_shots(["ship", "dawn"])
    assert again == RenderBatch(rendered=["ship", "dawn"])
    assert again.summary(2) == "All 2 shots are rendered"
    assert len(bridge.jobs) == 2


def test_a_shot_already_in_the_queue_is_not_queued_twice(qtbot, project, bridge):
    first = bridge.render_shots(["storm", "tower"])
    second = bridge.render_shots(["storm", "tower", "keeper"])
    assert len(first.jobs) == 2
    assert second.busy == ["storm", "tower"] and len(second.jobs) == 1
    assert second.summary(3) == "Queued 1 render (2 already in the queue)"
    qtbot.waitUntil(lambda: not bridge.busy, timeout=WAIT)
    assert {info.state for info in bridge.jobs.values()} == {DONE}


def test_a_shot_that_cannot_render_is_listed_and_the_others_render(qtbot, project, bridge):
    project.shot("tower").keyframe = "media/no-such-picture.png"
    batch = bridge.render_shots(["storm", "tower"])
    assert len(batch.jobs) == 1
    assert len(batch.problems) == 1 and batch.problems[0].startswith("The tower: ")
    assert batch.summary(2) == "Queued 1 render (1 cannot render)"
    qtbot.waitUntil(lambda: not bridge.busy, timeout=WAIT)
