"""Camera panel latency: from a slider value change to the new previz frame painted, at
320 px wide; prints the median and worst over 60 changes across every axis (goal < 50 ms).

Runs the real panel offscreen on a copy of the example project: each change pushes the
command, refreshes the rows, curve, path sketch and caption, renders the previz frame and
paints it. Also prints what a full PrevizRenderer rebuild per change would cost instead.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QObject  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from engine.backends.previz import PrevizRenderer  # noqa: E402
from studio.project.io import copy_project, load_project  # noqa: E402
from ui.camera.camera_panel import CameraPanel  # noqa: E402
from ui.document import Document  # noqa: E402

GOAL_MS = 50.0
EXAMPLE = ROOT / "assets" / "examples" / "Lighthouse.gallop"
# Per axis: a drag of six values (slider ticks), as a hand would move it.
DRAGS = {
    "pan": [40, 90, 150, 220, 300, 350],
    "tilt": [30, 60, 100, 140, 180, 120],
    "roll": [-20, -60, -100, -150, -200, -90],
    "truck": [10, 25, 45, 70, 100, 130],
    "pedestal": [-10, -25, -45, -70, -100, -60],
    "dolly": [20, 50, 90, 130, 170, 200],
    "zoom": [10, 25, 45, 70, 90, 60],
    "orbit": [50, 100, 160, 220, 300, 250],
    "shake_amplitude": [20, 50, 80, 120, 160, 100],
    "shake_frequency": [50, 100, 150, 200, 250, 120],
}


def qt_keeps_none_alive() -> bool:
    """False on PySide6 6.12.0 under Python 3.11, which drops a reference to None on every
    call that returns nothing, so that the interpreter aborts after a few thousand calls."""
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(100):
        probe.setObjectName("probe")
    return sys.getrefcount(None) >= before


def main() -> int:
    if not qt_keeps_none_alive():
        print("this PySide6 build loses references to None and would abort the benchmark;")
        print("use PySide6-Essentials 6.11 (or a fixed release) to measure")
        return 2
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        folder = copy_project(EXAMPLE, Path(tmp) / "Lighthouse.gallop")
        document = Document(load_project(folder), folder)
        shot = document.current_shot
        panel = CameraPanel(document)
        panel.resize(700, 1100)
        panel.show()
        app.processEvents()
        while panel.source_pending:  # the shot's picture is read once, before any drag
            app.processEvents()
        viewport = panel.viewport
        painted = []
        viewport.framePainted.connect(lambda: painted.append(time.perf_counter()))

        times = []
        for axis, ticks in DRAGS.items():
            slider = panel.rows[axis].slider
            slider.setSliderDown(True)
            for tick in ticks:
                painted.clear()
                start = time.perf_counter()
                slider.setValue(tick)
                while not painted:
                    app.processEvents()
                times.append((painted[0] - start) * 1000.0)
            slider.setSliderDown(False)
        steps = document.undo_stack.count()

        # The alternative: rebuilding the full renderer for the shot on every change.
        rebuild = []
        for _ in range(10):
            start = time.perf_counter()
            PrevizRenderer(viewport.source, shot.camera, shot.frames, float(shot.fps))
            rebuild.append((time.perf_counter() - start) * 1000.0)
        panel.close()

    median, worst = statistics.median(times), max(times)
    height = viewport.source.shape[0]
    print(
        f"slider change -> previz frame: median {median:.1f} ms, worst {worst:.1f} ms "
        f"at {viewport.source.shape[1]} px ({len(times)} changes in {len(DRAGS)} drags, "
        f"{steps} undo steps); "
        f"goal < {GOAL_MS:.0f} ms; ratio worst/goal {worst / GOAL_MS:.2f}"
    )
    print(
        f"for comparison, a full PrevizRenderer rebuild of the {shot.frames}-frame shot at "
        f"320x{height}: median {statistics.median(rebuild):.1f} ms per change"
    )
    return 0 if worst < GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
