"""Projects the tests start from: the example shipped with the studio and small saved
projects of a few short shots. Plain studio code only, so every test folder may use it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from studio.camera.rig import preset
from studio.project.io import save_project
from studio.project.model import Project

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "assets" / "examples" / "Lighthouse.gallop"

_MOVES = ("pan_left", "dolly_in", "tilt_up", "orbit_right", "zoom_out", "crane_up")


def small_project(folder: Path, shots: int = 3, seconds: float = 0.5, size: int = 64) -> Path:
    """A saved project "Small" of `shots` shots `s0`, `s1`... at 16 fps, each with its own
    camera move, title, prompt and seed, and no takes."""
    project = Project(title="Small", fps=Fraction(16), width=size, height=size)
    for i in range(shots):
        project.shots.append(
            project.new_shot(
                id=f"s{i}",
                title=f"Shot {i}",
                prompt=f"shot number {i}",
                duration=seconds,
                camera=preset(_MOVES[i % len(_MOVES)]),
                seed=i,
            )
        )
    save_project(project, folder)
    return folder
