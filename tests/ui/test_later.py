"""Put-off work runs one piece at a time, in order, each piece once."""

from __future__ import annotations

import time

from ui.later import Later


def run_until(qapp, ran: list, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(ran) < count:
        assert time.monotonic() < deadline, f"only {ran} ran"
        qapp.processEvents()


def test_pieces_run_in_order_one_at_a_time_and_a_repeat_runs_once(qapp):
    later = Later()
    ran: list[str] = []
    later.call("player", lambda: ran.append("player, old"))
    later.call("previz", lambda: ran.append("previz"))
    later.call("player", lambda: ran.append("player"))  # asked again: first place, latest
    assert later.pending("player") and later.pending("previz")
    run_until(qapp, ran, 1)
    assert ran == ["player"]  # one piece: input and repaints get their turn first
    assert not later.pending("player") and later.pending("previz")
    run_until(qapp, ran, 2)
    assert ran == ["player", "previz"]
    qtbot_wait(qapp, 50)
    assert ran == ["player", "previz"]


def qtbot_wait(qapp, ms: int) -> None:
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        qapp.processEvents()


def test_cancel_and_flush(qapp):
    later = Later()
    ran: list[str] = []
    for name in ("a", "b", "c"):
        later.call(name, lambda name=name: ran.append(name))
    later.cancel("b")
    later.flush()
    assert ran == ["a", "c"]
    assert not later.pending("a") and not later.pending("c")
    qapp.processEvents()
    assert ran == ["a", "c"]
