"""Put-off work runs one piece at a time, in order, each piece once, and never outlives the
object it is for."""

from __future__ import annotations

import time

import shiboken6
from PySide6.QtWidgets import QLabel, QWidget

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


class Owner(QWidget):
    """A panel whose put-off work reads one of its child widgets."""

    def __init__(self, ran: list[str] | None = None) -> None:
        super().__init__()
        self.label = QLabel(self)
        self.ran = ran if ran is not None else []

    def reread(self) -> None:
        self.label.setText("reread")
        self.ran.append("reread")


def test_the_pieces_of_a_destroyed_owner_are_dropped(qapp):
    later = Later()
    ran: list[str] = []
    panel, dialog = Owner(ran), Owner()
    later.call("bound", panel.reread)  # a bound method belongs to its object
    later.call("named", lambda: ran.append(dialog.label.text()), owner=dialog)
    later.call("free", lambda: ran.append("free"))
    shiboken6.delete(panel)
    shiboken6.delete(dialog)
    assert not later.pending("bound") and not later.pending("named")
    later.flush()
    assert ran == ["free"]


def test_an_owner_destroyed_with_its_parent_never_runs_on_the_event_loop(qapp):
    later = Later()
    ran: list[str] = []
    window = QWidget()
    panel = Owner(ran)
    panel.setParent(window)
    later.call("panel", panel.reread)
    later.call("after", lambda: ran.append("after"))
    shiboken6.delete(window)  # the panel goes with it, as Qt deletes children
    run_until(qapp, ran, 1)
    assert ran == ["after"]


def test_asking_for_a_gone_owner_queues_nothing_and_a_new_owner_is_heard(qapp):
    later = Later()
    gone = Owner()
    shiboken6.delete(gone)
    later.call("gone", gone.reread)
    assert not later.pending("gone")
    ran: list[str] = []
    for _ in range(3):  # new owners, maybe made where an earlier one lived
        owner = Owner(ran)
        later.call("piece", owner.reread)
        shiboken6.delete(owner)
        assert not later.pending("piece")
    kept = Owner(ran)
    later.call("kept", kept.reread)
    later.flush()
    assert ran == ["reread"]
