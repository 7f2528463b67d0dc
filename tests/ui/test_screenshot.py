"""Under a real X server (xvfb-run), the studio window shows every area with content."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from studio.project.io import copy_project

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "assets" / "examples" / "Lighthouse.gallop"


def read_png(path: Path) -> np.ndarray:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, f"{path} is not a readable PNG"
    return image[:, :, ::-1]


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is installed by .ci/run")
def test_the_window_under_xvfb_shows_every_area(tmp_path):
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    png, rects_json = tmp_path / "window.png", tmp_path / "rects.json"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["PYTHONPATH"] = str(ROOT)
    subprocess.run(
        [
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1600x1000x24",
            sys.executable,
            str(Path(__file__).with_name("window_snapshot.py")),
            str(folder),
            str(png),
            str(rects_json),
            str(tmp_path / "settings.ini"),
        ],
        check=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    info = json.loads(rects_json.read_text())
    assert info["platform"] == "xcb"
    screen = read_png(png)
    assert screen.shape[0] >= 800 and screen.shape[1] >= 1200
    for name, r in info["rects"].items():
        assert r["visible"], f"{name} is hidden"
        assert r["w"] >= 150 and r["h"] >= 100, f"{name} is too small: {r}"
        area = screen[r["y"] : r["y"] + r["h"], r["x"] : r["x"] + r["w"]]
        assert area.size, f"{name} lies off screen: {r}"
        # Not blank: several distinct colours and real contrast inside the panel.
        assert area.std() > 8, f"{name} looks blank (std {area.std():.1f})"
        colours = np.unique(area.reshape(-1, 3)[::7], axis=0)
        assert len(colours) > 20, f"{name} has only {len(colours)} colours"
