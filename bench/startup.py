"""Cold start: a fresh `python` process to the studio window shown on the example project.

Each round starts a new interpreter (nothing imported, nothing cached in-process) that
imports the window, opens a copy of the example project and waits until the window is
exposed; the child reports the time from just before its launch to that moment. Uses the
X server when DISPLAY is set (xvfb-run), else the offscreen platform. Modules are
byte-compiled first, as after the first start of an install. Prints the median against
the 2 s goal.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 5
GOAL = 2.0

CHILD = r"""
import sys, time
launched = float(sys.argv[1])
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from ui.app import apply_dark_theme, open_window
app = QApplication([])
apply_dark_theme(app)
window = open_window(sys.argv[2], settings=QSettings(sys.argv[3], QSettings.IniFormat))
window.show()
while not window.windowHandle().isExposed():
    app.processEvents()
app.processEvents()
shown = time.time() - launched
mods = sys.modules
print(f"{shown:.4f} {int('torch' in mods)} {int('diffusers' in mods)}")
window._closing_confirmed = True
window.close()
"""


def main() -> int:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "xcb" if env.get("DISPLAY") else "offscreen")
    env["PYTHONPATH"] = str(ROOT)
    # An installed studio runs from byte-compiled modules (the first start writes them);
    # compiling every module from source on each start is not what a user waits for.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "ui", "engine", "studio"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(ROUNDS):
            folder = Path(tmp) / f"Lighthouse{i}.gallop"
            shutil.copytree(ROOT / "assets" / "examples" / "Lighthouse.gallop", folder)
            ini = str(Path(tmp) / f"settings{i}.ini")
            launched = time.time()
            out = subprocess.run(
                [sys.executable, "-c", CHILD, repr(launched), str(folder), ini],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp,
                check=True,
            ).stdout.split()
            shown, torch_loaded, diffusers_loaded = float(out[0]), out[1] == "1", out[2] == "1"
            times.append(shown)
            print(
                f"  round {i + 1}: window shown after {shown:.2f} s"
                f" (torch imported: {torch_loaded}, diffusers imported: {diffusers_loaded})"
            )
    median = statistics.median(times)
    print(
        f"cold start to window shown ({env['QT_QPA_PLATFORM']}): median {median:.2f} s, "
        f"worst {max(times):.2f} s over {ROUNDS} fresh processes; goal < {GOAL:.0f} s; "
        f"ratio median/goal {median / GOAL:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
