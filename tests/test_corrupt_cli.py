"""`gallop validate` and `gallop info`, run as a user runs them, on corrupted projects that
loading refuses: exit code 3 and one line on standard error, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from studio.errors import ProjectError
from studio.project.io import load_project
from tests.corrupt_projects import (
    KINDS,
    MAX_ERROR_CHARS,
    SPECIAL_MEMORY_BYTES,
    FifoWatch,
    Workspace,
    memory_ceiling,
    remove,
    variants,
)
from tests.projects import ROOT

PER_KIND = 3
COMMANDS = ("validate", "info")


def refused_sample(workspace: Workspace) -> list:
    """The first PER_KIND variants of each kind that loading does not accept, built on
    disk. (Loading raises only ProjectError, as the studio tests check; here whatever it
    raises marks a project the commands must refuse.)"""
    chosen: dict[str, list] = {kind: [] for kind in KINDS}
    for variant in variants(1000):
        if len(chosen[variant.kind]) == PER_KIND or variant.kind == "recovery":
            continue  # the CLI reads no autosave: recovery is the window's
        built, work, fresh = workspace.build(variant)
        try:
            with FifoWatch(built.fifos), memory_ceiling(SPECIAL_MEMORY_BYTES):
                load_project(built.folder)
        except (ProjectError, Exception):  # noqa: BLE001 - anything loading does not accept
            # Kept on disk under its own name for the commands below.
            keep = workspace.root / f"keep{sum(map(len, chosen.values()))}"
            if fresh:
                work.rename(keep)
            else:
                os.rename(work, keep)
            chosen[variant.kind].append((variant, keep / "Film.gallop"))
        else:
            if fresh:
                remove(work)
    return [pair for pairs in chosen.values() for pair in pairs]


def gallop(command: str, folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ui.main", command, str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        # Only a guard for a broken build: a FIFO project.json is refused without reading.
        timeout=120,
    )


def test_gallop_validate_and_info_on_refused_projects_exit_3_with_one_line(tmp_path):
    sample = refused_sample(Workspace(tmp_path))
    assert len(sample) >= 30
    runs = [(variant, folder, command) for variant, folder in sample for command in COMMANDS]
    # Two at a time: most of each run is starting Python.
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda run: gallop(run[2], run[1]), runs))
    failures = []
    for (variant, _, command), out in zip(runs, results, strict=True):
        lines = out.stderr.splitlines()
        ok = out.returncode == 3 and len(lines) == 1 and "Traceback" not in out.stderr
        ok = ok and lines[0].startswith("gallop: invalid project: ")
        ok = ok and len(lines[0]) <= len("gallop: invalid project: ") + MAX_ERROR_CHARS
        if not ok:
            failures.append(f"{command} {variant}: exit {out.returncode}, {out.stderr[-400:]!r}")
    assert not failures, "\n".join(failures)
