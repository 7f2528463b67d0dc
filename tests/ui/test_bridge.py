"""Engine events reach the window as Qt signals; finished takes join their shots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.ui.conftest import EXAMPLE
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


def test_the_window_engine_runs_in_its_own_process_below_the_window(bridge):
    # Its threads and torch's compute threads yield the cores to the window's thread.
    engine = bridge.engine
    assert engine.low_priority is True
    assert engine.pid is not None and engine.pid != os.getpid()
    if sys.platform.startswith("linux"):
        own = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, engine.pid) == min(19, own + 10)


WINDOW_PROCESS = """
import json, sys
from pathlib import Path
from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication
from studio.project.io import copy_project, load_project
from ui.bridge import EngineBridge
from ui.document import Document

app = QApplication([])
folder = copy_project(Path(sys.argv[1]), Path(sys.argv[2]) / "Lighthouse.gallop")
document = Document(load_project(folder), folder)
shot = document.project.shots[0]
shot.model_id, shot.width, shot.height, shot.duration = "tiny-wan", 64, 64, 0.5
bridge = EngineBridge(document)
done = []
loop = QEventLoop()
bridge.jobFinished.connect(lambda job, take: (done.append(take), loop.quit()))
bridge.jobFailed.connect(lambda job, message: (done.append(message), loop.quit()))
bridge.render_shot(shot.id)
if not done:
    loop.exec()  # until the job ends; the test's timeout stops a hang
bridge.shutdown()
print(json.dumps({
    "result": done,
    "selected": shot.selected_take,
    "loaded": sorted(m for m in ("torch", "diffusers", "transformers") if m in sys.modules),
}))
"""


def test_a_model_render_never_loads_torch_in_the_window_process(tmp_path):
    # A fresh interpreter: this test process may have imported torch for other tests.
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-c", WINDOW_PROCESS, str(EXAMPLE), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,  # under pytest's limit: a hung child fails here, as a timeout of its own
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["result"] == [report["selected"]]  # the take landed and was selected
    assert report["loaded"] == []
