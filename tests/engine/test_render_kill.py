"""`gallop render` killed with SIGKILL at random moments: the project always loads, every
take it names is whole, the next run completes and leaves no temporary file behind.

The moments are drawn (seeded) over the child's own progress: the child is killed after a
random number of bytes of what it writes on standard error, sometimes after a short random
wait on top. Every moment is a valid one, so nothing depends on how fast the machine is.
GALLOP_RENDER_KILLS sets how many kills (50 by default) for a quicker run.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.project.io import load_project, save_project
from studio.project.takes import TakeStore
from tests.faults import hidden_files
from tests.projects import small_project

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("GALLOP_RENDER_KILLS", "50"))
SEED = 20260311


def _render(folder: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ui.main", "render", str(folder), "--backend", "previz"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def _read(child: subprocess.Popen, count: int) -> int:
    """Read up to `count` bytes of the child's standard error; fewer when it ends."""
    fd = child.stderr.fileno()
    got = 0
    while got < count:
        chunk = os.read(fd, count - got)
        if not chunk:
            break
        got += len(chunk)
    return got


def _new_seeds(folder: Path, round_: int) -> None:
    """Every shot asks for a new take, so each round has all of its work to do."""
    project = load_project(folder)
    for index, shot in enumerate(project.shots):
        shot.seed = 1000 * (round_ + 1) + index
    save_project(project, folder)


def _check(folder: Path, *, complete: bool) -> None:
    project = load_project(folder)
    store = TakeStore(folder / "takes")
    named = {take.id for shot in project.shots for take in shot.takes}
    for take_id in named:
        store.verify(take_id)  # every take the project names is whole
    if complete:
        assert store.ids() == named
        assert all(shot.current_take is not None for shot in project.shots)
        assert hidden_files(folder) == [], "a temporary file survived the next run"


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_render_killed_at_random_moments_loses_nothing(tmp_path):
    folder = small_project(tmp_path / "Kill.gallop", shots=3, seconds=0.25, size=32)
    rng = random.Random(SEED)
    whole = _render(folder)
    _, err = whole.communicate(timeout=120)
    assert whole.returncode == 0, err.decode()
    total = len(err)
    assert total > 0
    finished_before_the_kill = 0
    for round_ in range(KILLS):
        _new_seeds(folder, round_)
        child = _render(folder)
        try:
            budget = rng.randrange(total + 1)
            if _read(child, budget) < budget:
                finished_before_the_kill += 1
            if rng.random() < 0.5:
                time.sleep(rng.uniform(0.0, 0.01))
        finally:
            child.kill()
            child.wait()
            child.stderr.close()
        _check(folder, complete=False)
        rerun = subprocess.run(
            [sys.executable, "-m", "ui.main", "render", str(folder), "--backend", "previz", "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert rerun.returncode == 0, f"round {round_}: {rerun.stderr}"
        assert ", 0 failed" in rerun.stdout
        _check(folder, complete=True)
    # Most kills landed while the render ran, not after it had ended.
    assert finished_before_the_kill < KILLS // 2 + 1
