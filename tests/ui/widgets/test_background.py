"""`Background` runs a panel's reading off the GUI thread; the latest ask's result wins."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject

from ui.widgets.background import Background


def test_work_runs_off_the_gui_thread_and_only_the_latest_ask_is_delivered(qtbot):
    owner = QObject()
    background = Background(owner)
    release = threading.Event()
    threads: list[threading.Thread] = []
    delivered: list[object] = []

    def held() -> str:
        threads.append(threading.current_thread())
        release.wait(10)
        return "old"

    background.submit(held, delivered.append)
    background.submit(lambda: "new", delivered.append)  # asked while the first still runs
    assert background.busy
    release.set()
    qtbot.waitUntil(lambda: not background.busy)
    assert delivered == ["new"]
    assert threads and threads[0] is not threading.main_thread()


def test_an_exception_is_delivered_and_a_cancelled_ask_is_not(qtbot):
    owner = QObject()
    background = Background(owner)
    delivered: list[object] = []

    def broken() -> None:
        raise ValueError("no picture")

    background.submit(broken, delivered.append)
    qtbot.waitUntil(lambda: not background.busy)
    assert isinstance(delivered[0], ValueError) and str(delivered[0]) == "no picture"
    background.submit(lambda: "late", delivered.append)
    background.cancel()
    qtbot.waitUntil(lambda: not background.busy)
    assert len(delivered) == 1


def test_an_owner_destroyed_while_work_runs_gets_nothing(qtbot):
    owner = QObject()
    background = Background(owner)
    started, release = threading.Event(), threading.Event()
    delivered: list[object] = []

    def held() -> str:
        started.set()
        release.wait(10)
        return "too late"

    background.submit(held, delivered.append)
    assert started.wait(10)
    # `destroyed` comes before the owner's children go: the piece finishes while the
    # pool, destroyed next, waits for it, and what it emits reaches no one.
    owner.destroyed.connect(lambda *_: release.set())
    with qtbot.waitSignal(owner.destroyed, timeout=10_000):
        owner.deleteLater()
    later = QObject()
    with qtbot.waitSignal(later.destroyed, timeout=10_000):
        later.deleteLater()  # a pass of the event loop after the owner went
    assert delivered == []
