"""A window's engine thread, and the threads it starts, run below the window's priority."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from engine.render.worker import BACKGROUND_NICENESS, lower_thread_priority

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux threads")


def nice_of(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


def test_lowering_the_engine_thread_leaves_the_caller_and_reaches_its_workers():
    here = nice_of(threading.get_native_id())
    seen: dict[str, int] = {}

    def engine_thread() -> None:
        assert lower_thread_priority()
        seen["engine"] = nice_of(threading.get_native_id())
        worker = threading.Thread(
            target=lambda: seen.setdefault("worker", nice_of(threading.get_native_id()))
        )
        worker.start()
        worker.join()

    thread = threading.Thread(target=engine_thread)
    thread.start()
    thread.join()
    assert seen["engine"] == min(19, here + BACKGROUND_NICENESS)
    assert seen["worker"] == seen["engine"]  # torch's compute threads start like this
    assert nice_of(threading.get_native_id()) == here
