"""studio/ is plain Python: every module imports with Qt, torch, PyAV and OpenCV unavailable."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import studio

ROOT = Path(__file__).resolve().parents[2]
BLOCKED = [
    "PySide6",
    "shiboken6",
    "torch",
    "av",
    "cv2",
    "diffusers",
    "transformers",
    "sounddevice",
    "soundfile",
    "engine",
    "ui",
]


def test_every_studio_module_imports_without_heavy_packages():
    modules = sorted(
        m.name for m in pkgutil.walk_packages(studio.__path__, "studio.") if not m.ispkg
    )
    assert "studio.camera.rig" in modules and "studio.project.io" in modules
    script = textwrap.dedent(
        f"""
        import importlib, sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {BLOCKED!r}:
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        for name in {modules!r}:
            importlib.import_module(name)
        loaded = [m for m in sys.modules if m.split(".")[0] in {BLOCKED!r}]
        assert not loaded, loaded
        print("ok", len({modules!r}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"ok {len(modules)}"
