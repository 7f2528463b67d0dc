"""What a render plan reads from a project (keyframes, references, the upstream take) is
read only if it is a regular file, and `gallop info` / `validate` on corrupted projects
exit 0 or 3 with one line, never a traceback, a hang or a changed file."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import pytest

from engine.backends.base import RenderError
from engine.cli import Exit, run_subcommand
from engine.logs import configure_logging
from engine.render.planning import file_hash, plan_render, shot_status
from studio.project.io import save_project
from studio.project.model import Project, Take
from tests.corrupt_projects import (
    MAX_ERROR_CHARS,
    SPECIAL_MEMORY_BYTES,
    FifoWatch,
    Workspace,
    memory_ceiling,
    remove,
    tree_state,
    variants,
)


@pytest.fixture(autouse=True)
def _logging_reset():
    """-v leaves a handler on the root logger; the next test starts without it."""
    yield
    configure_logging(None)


def chained(tmp_path: Path) -> tuple[Project, Path]:
    """Shot `b` continues from `a`; each has a take, `a`'s made from its current plan."""
    project = Project(fps=Fraction(16), width=64, height=64)
    project.shots = [
        project.new_shot(id="a", prompt="first", duration=0.5),
        project.new_shot(id="b", prompt="second", duration=0.5, continue_from_previous=True),
    ]
    folder = tmp_path / "P.gallop"
    save_project(project, folder)
    request = plan_render(project, folder, project.shots[0], backend="previz").request
    for shot in project.shots:
        take = Take(request.hash, request, f"takes/{shot.id}.mp4", "2026-01-01T00:00:00Z")
        shot.takes, shot.selected_take = [take], take.id
    save_project(project, folder)
    return project, folder


def test_a_fifo_keyframe_is_not_read(tmp_path):
    project, folder = chained(tmp_path)
    shot = project.shots[0]
    shot.keyframe = "media/key.png"
    fifo = folder / "media" / "key.png"
    os.mkfifo(fifo)
    with FifoWatch((fifo,)) as watch:
        assert shot_status(project, folder, shot) == "stale"
        with pytest.raises(RenderError, match="not a regular file"):
            file_hash(fifo)
    assert not watch.blocked


def test_a_fifo_as_the_upstream_take_is_not_read(tmp_path, capsys):
    project, folder = chained(tmp_path)
    fifo = folder / project.shots[0].takes[0].media
    os.mkfifo(fifo)
    with FifoWatch((fifo,)) as watch:
        assert shot_status(project, folder, project.shots[0]) == "rendered"
        assert shot_status(project, folder, project.shots[1]) == "stale"
        assert run_subcommand(["info", str(folder)]) == Exit.OK
    assert not watch.blocked
    assert "[stale]" in capsys.readouterr().out


@pytest.mark.timeout(60)
def test_a_keyframe_leading_to_dev_zero_is_not_read(tmp_path):
    project, folder = chained(tmp_path)
    shot = project.shots[0]
    shot.keyframe = "media/key.png"
    os.symlink("/dev/zero", folder / "media" / "key.png")
    with memory_ceiling(SPECIAL_MEMORY_BYTES):
        assert shot_status(project, folder, shot) == "stale"


def test_a_chain_longer_than_python_nests_calls_has_a_status(tmp_path):
    project, folder = chained(tmp_path)
    take = project.shots[1].takes[0]
    for i in range(1500):
        shot = project.new_shot(id=f"c{i}", duration=0.5, continue_from_previous=True)
        shot.takes, shot.selected_take = [take], take.id
        project.shots.append(shot)
    assert shot_status(project, folder, project.shots[-1]) == "stale"


# --- the CLI on corrupted projects, in this process --------------------------------------------


def sample() -> list:
    """Every special-file and symlink variant of the suite's run, and a spread of the rest."""
    chosen = variants(1000)
    special = [v for v in chosen if v.special is not None]
    return special + [v for v in chosen if v.special is None][::12]


@pytest.mark.parametrize("command", [["validate"], ["info"], ["info", "--json"]])
def test_validate_and_info_on_corrupted_projects_exit_0_or_3_with_one_line(
    tmp_path, capsys, command
):
    workspace = Workspace(tmp_path)
    failures = []
    for variant in sample():
        built, work, fresh = workspace.build(variant)
        before = tree_state(work)
        with FifoWatch(built.fifos) as watch, memory_ceiling(SPECIAL_MEMORY_BYTES):
            code = run_subcommand([*command, str(built.folder)])
        err = capsys.readouterr().err
        lines = err.splitlines()
        if code == Exit.PROJECT:
            ok = len(lines) == 1 and lines[0].startswith("gallop: invalid project: ")
            ok = ok and len(lines[0]) <= len("gallop: invalid project: ") + MAX_ERROR_CHARS
        else:
            ok = code == Exit.OK
        if not ok or watch.blocked or tree_state(work) != before:
            failures.append(f"{variant}: exit {code}, {err[:300]!r}, blocked {watch.blocked}")
        if fresh:
            remove(work)
    assert not failures, "\n".join(failures[:20])
