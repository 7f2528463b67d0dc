"""A process saving in a loop, killed with SIGKILL at random moments, never corrupts a project."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from studio.project.io import load_project

KILLS = 50

WRITER = textwrap.dedent(
    """
    import sys
    from studio.project.model import Project, Shot
    from studio.project.io import save_project

    folder, start = sys.argv[1], int(sys.argv[2])
    i = start
    while True:
        shots = [Shot(id=f"s{k}", prompt=f"state {i} shot {k} " + "x" * 2000)
                 for k in range(i % 7 + 1)]
        save_project(Project(title=f"state {i}", shots=shots), folder)
        if i == start:
            print("ready", flush=True)
        i += 1
    """
)


def check_consistent(folder: Path) -> int:
    project = load_project(folder)
    state = int(project.title.split()[1])
    assert len(project.shots) == state % 7 + 1
    for k, shot in enumerate(project.shots):
        assert shot.prompt.startswith(f"state {state} shot {k} ")
    return state


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_sigkill_during_saves_leaves_old_or_new_state(tmp_path):
    folder = tmp_path / "Crash.gallop"
    rng = random.Random(20261121)
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(root)}
    last = -1
    seen_states = set()
    for n in range(KILLS):
        start = (last + 1) * 1000 + n  # each child writes its own range of states
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), str(start)],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.05))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        state = check_consistent(folder)
        assert state >= start, "a save that finished was lost"
        seen_states.add(state)
        last = state // 1000
        # No temporary file is mistaken for the project; at most leftovers to clean.
        assert (folder / "project.json").is_file()
    assert len(seen_states) == KILLS
