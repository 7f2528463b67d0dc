"""Engine events reach the window as Qt signals; finished takes join their shots."""

from __future__ import annotations

from ui.bridge import CANCELLED, DONE


def test_a_previz_render_adds_a_selected_take_in_one_undo_step(qtbot, document, bridge):
    shot = document.project.shots[0]
    shot.duration = 0.5
    before = len(shot.takes)
    with qtbot.waitSignal(bridge.jobFinished, timeout=60_000) as blocker:
        (job_id,) = bridge.render_shot(shot.id, backend="previz")
    assert blocker.args[0] == job_id
    info = bridge.jobs[job_id]
    assert info.state == DONE and info.take_id == shot.selected_take
    assert len(shot.takes) == before + 1
    assert document.take_path(shot) is not None
    assert not document.is_clean
    document.undo_stack.undo()
    assert len(shot.takes) == before


def test_cancel_all_cancels_queued_jobs(qtbot, document, bridge):
    shots = document.project.shots[:3]
    for shot in shots:
        shot.duration = 2.0
    ids = [bridge.render_shot(s.id, backend="previz")[0] for s in shots]
    bridge.cancel_all()
    qtbot.waitUntil(lambda: not bridge.busy, timeout=60_000)
    states = [bridge.jobs[i].state for i in ids]
    assert CANCELLED in states
    assert set(states) <= {CANCELLED, DONE}


def test_the_window_engine_runs_below_the_window(bridge):
    # Its thread and torch's compute threads yield the cores to the window's thread.
    assert bridge.engine.low_priority is True
