"""`gallop render` loses nothing and writes nothing outside the project: it refuses links
in the take store, replaces damaged takes, merges its takes into the project as others
left it, shares the project with other renders but not with the window, and a full disk
at any write point is a clear error that leaves every take recorded or removed."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from engine.cli import Exit, run_subcommand
from engine.export.job import export_request
from engine.media.sequence import MissingTakeError
from engine.render.batch import BatchRenderer, local_engine_factory
from studio.project.files import DiskFullError, temp_tag
from studio.project.io import (
    ProjectLockedError,
    ProjectSession,
    load_project,
    save_project,
    update_project,
)
from studio.project.model import Project, Shot
from studio.project.takes import TakeStore
from studio.timeline.timeline import Clip, Timeline
from tests.faults import every_write_point, full_disk, hidden_files
from tests.projects import small_project

ROOT = Path(__file__).resolve().parents[2]
posix_only = pytest.mark.skipif(os.name != "posix", reason="links, pids and signals are POSIX")


def render(folder: Path, *args: str) -> int:
    return run_subcommand(["render", str(folder), "--backend", "previz", *args])


def check_takes(folder: Path) -> Project:
    """The project loads; every take it names is in the store and whole, and the store
    holds no take it does not name; no temporary file is left."""
    project = load_project(folder)
    store = TakeStore(folder / "takes")
    named = {take.id for shot in project.shots for take in shot.takes}
    assert store.ids() == named
    for take_id in named:
        store.verify(take_id)
    assert hidden_files(folder) == []
    return project


# --- links ------------------------------------------------------------------------------------


@posix_only
def test_render_refuses_a_take_store_that_is_a_symlink(tmp_path, capsys):
    folder = small_project(tmp_path / "Small.gallop", shots=1)
    outside = tmp_path / "outside"
    outside.mkdir()
    (folder / "takes").rmdir()
    (folder / "takes").symlink_to(outside, target_is_directory=True)
    saved = (folder / "project.json").read_bytes()
    assert render(folder) == Exit.FAILED
    assert "takes: the take store is a symbolic link" in capsys.readouterr().err
    assert list(outside.iterdir()) == []
    assert (folder / "project.json").read_bytes() == saved
    (folder / "takes").unlink()
    (folder / "takes").mkdir()
    assert render(folder) == Exit.OK


@posix_only
def test_a_take_that_is_a_symlink_fails_its_shot_and_is_never_followed(tmp_path, capsys):
    folder = small_project(tmp_path / "Small.gallop", shots=2)
    assert render(folder) == Exit.OK
    project = load_project(folder)
    media = folder / project.shot("s0").current_take.media
    # A link to a file inside the project (one outside fails loading the project).
    film = folder / "media" / "film.mp4"
    film.write_bytes(b"the user's film")
    media.unlink()
    media.symlink_to(film)
    capsys.readouterr()
    assert render(folder) == Exit.FAILED
    out, err = capsys.readouterr()
    assert f"shot s0 failed: {media}: is a symbolic link" in err
    assert "0 rendered, 1 up to date, 1 failed" in out
    assert film.read_bytes() == b"the user's film" and media.is_symlink()
    # A take not recorded yet, linked to a file anywhere: the engine refuses it too.
    victim = tmp_path / "precious.mp4"
    victim.write_bytes(b"somebody's film")
    media.unlink()
    media.symlink_to(victim)
    project.shot("s0").takes.clear()
    project.shot("s0").selected_take = None
    save_project(project, folder)
    assert render(folder) == Exit.FAILED
    assert "is a symbolic link" in capsys.readouterr().err
    assert victim.read_bytes() == b"somebody's film" and media.is_symlink()


# --- damaged takes ------------------------------------------------------------------------------


def test_a_damaged_take_is_rendered_again_and_export_says_so(tmp_path, capsys):
    folder = small_project(tmp_path / "Small.gallop", shots=2)
    project = load_project(folder)
    clips = tuple(Clip(f"c{i}", s.id, None, 0, s.frames) for i, s in enumerate(project.shots))
    project.timeline = Timeline(project.timeline.fps, clips)
    save_project(project, folder)
    assert render(folder) == Exit.OK
    project = load_project(folder)
    first, second = (folder / s.current_take.media for s in project.shots)
    whole = first.read_bytes()
    first.write_bytes(whole[: len(whole) // 2])  # cut short
    with pytest.raises(MissingTakeError, match="damaged .*: render the shot again"):
        export_request(project, folder, tmp_path / "film.mp4")
    capsys.readouterr()
    assert render(folder) == Exit.OK
    assert "1 rendered, 1 up to date" in capsys.readouterr().out
    # A new whole file (x264 need not give the same bytes twice), checked by its hash.
    assert first.stat().st_size > len(whole) // 2
    check_takes(folder)
    export_request(load_project(folder), folder, tmp_path / "film.mp4")
    # Two takes' files swapped: both are someone else's, both render again.
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)
    assert render(folder) == Exit.OK
    assert "2 rendered, 0 up to date" in capsys.readouterr().out
    check_takes(folder)  # each file is again the one its manifest records


def test_an_older_take_without_a_hash_stays_up_to_date_and_gets_one(tmp_path, capsys):
    folder = small_project(tmp_path / "Small.gallop", shots=1)
    assert render(folder) == Exit.OK
    store = TakeStore(folder / "takes")
    (take_id,) = store.ids()
    manifest = store.manifest(take_id)
    # The manifest as older versions wrote it: the bare request.
    store.manifest_path(take_id).write_text(
        json.dumps(manifest.request, sort_keys=True, separators=(",", ":"))
    )
    assert store.manifest(take_id).sha256 is None
    capsys.readouterr()
    assert render(folder) == Exit.OK
    assert "0 rendered, 1 up to date" in capsys.readouterr().out
    # Its hash comes back; the weights that rendered it were never recorded, so none are named.
    assert manifest.model == {"id": "previz", "source": "built in"}
    assert store.manifest(take_id) == replace(manifest, model=None)


# --- leftovers ------------------------------------------------------------------------------------


@posix_only
def test_the_next_run_removes_what_a_killed_render_left_and_nothing_of_a_running_one(tmp_path):
    folder = small_project(tmp_path / "Small.gallop", shots=1)
    takes = folder / "takes"
    host = temp_tag().split("h", 1)[1]
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = f"p{child.pid}h{host}"
    live = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    running = f"p{live.pid}h{host}"
    try:
        left = [
            takes / f".render-{dead}.job1.a1b2c3d4.mp4",
            takes / f"..render-{dead}.job1.a1b2c3d4.gallop-abcdef-{child.pid}-12345678.part.mp4",
            takes / f".render-{dead}.job2.part1.x9y8z7w6.mp4",
            takes / f".{'c' * 64}.{dead}.q1w2e3r4.tmp",
            folder / f".project.json.{dead}.zzzzzzzz.tmp",
        ]
        kept = [takes / f".render-{running}.job3.a1b2c3d4.mp4"]
        for path in left + kept:
            path.write_bytes(b"partial")
        old = takes / ".render-job4.a1b2c3d4.mp4"  # named before names carried a pid
        old.write_bytes(b"partial")
        os.utime(old, (1, 1))
        assert render(folder) == Exit.OK
        assert [p.name for p in [*left, old] if p.exists()] == []
        assert all(p.exists() for p in kept)
    finally:
        live.stdin.close()
        live.wait()


# --- other writers ---------------------------------------------------------------------------

WINDOW = textwrap.dedent(
    """
    import sys
    from studio.project.model import Shot
    from studio.project.io import ProjectSession, load_project
    session = ProjectSession(sys.argv[1])
    project = load_project(sys.argv[1])
    project.title = "edited in the window"
    project.shots.append(Shot(id="window"))
    session.autosave(project)
    print("ready", flush=True)
    sys.stdin.readline()  # the user saves and closes when the test says so
    session.save(project)
    session.close()
    """
)


@posix_only
def test_a_render_is_refused_while_the_window_has_the_project_and_the_window_keeps_its_work(
    tmp_path, capsys
):
    folder = small_project(tmp_path / "Small.gallop", shots=2)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    window = subprocess.Popen(
        [sys.executable, "-c", WINDOW, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        assert window.stdout.readline().strip() == b"ready"
        saved = (folder / "project.json").read_bytes()
        assert render(folder) == Exit.IN_USE
        err = capsys.readouterr().err
        assert "the project is open in Gallop Studio" in err and "render it from the window" in err
        assert (folder / "project.json").read_bytes() == saved
        assert TakeStore(folder / "takes").ids() == set()
        window.stdin.write(b"save\n")
        window.stdin.flush()
        assert window.wait(timeout=60) == 0
    finally:
        window.kill()
        window.wait()
        window.stdin.close()
        window.stdout.close()
    assert load_project(folder).title == "edited in the window"
    assert render(folder) == Exit.OK
    project = check_takes(folder)
    assert project.title == "edited in the window" and project.shot("window") is not None


def _gated_render(folder: Path, shots: str, gate: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "GALLOP_BACKENDS": "tests.engine.render.host_backends:gated",
        "GALLOP_TEST_GATE": str(gate),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "ui.main", "render", str(folder), "--backend", "previz"]
        + ["--shots", shots],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _started(child: subprocess.Popen) -> None:
    """Wait for the render's first progress line: the project is loaded and its first
    shot is held at the gate."""
    line = child.stderr.readline()
    assert line.startswith("[1/2]"), line + child.stderr.read()


def _finish(child: subprocess.Popen) -> str:
    out, err = child.communicate(timeout=120)
    assert child.returncode == Exit.OK, err
    return out


@posix_only
def test_two_renders_and_an_editor_at_once_lose_no_take_and_no_edit(tmp_path):
    folder = small_project(tmp_path / "Small.gallop", shots=4)
    first = _gated_render(folder, "s0,s1", tmp_path / "gate1")
    second = _gated_render(folder, "s2,s3", tmp_path / "gate2")
    try:
        _started(first)
        _started(second)
        # The window cannot open a project being rendered.
        with pytest.raises(ProjectLockedError, match="gallop render is rendering"):
            ProjectSession(folder)

        def edit_one(project: Project) -> None:
            project.title = "edited while rendering"
            project.shot("s1").title = "renamed while rendering"
            project.shots.append(Shot(id="added1", prompt="an edit"))

        update_project(folder, edit_one)
        (tmp_path / "gate1").touch()
        assert "2 rendered" in _finish(first)
        update_project(folder, lambda p: p.shots.append(Shot(id="added2", prompt="another")))
        (tmp_path / "gate2").touch()
        assert "2 rendered" in _finish(second)
    finally:
        for child in (first, second):
            child.kill()
            child.wait()
    project = check_takes(folder)
    assert project.title == "edited while rendering"
    assert project.shot("s1").title == "renamed while rendering"
    assert project.shot("added1") is not None and project.shot("added2") is not None
    for shot_id in ("s0", "s1", "s2", "s3"):
        assert project.shot(shot_id).current_take is not None, shot_id
    assert not (folder / "autosave" / "instance.lock").exists()
    with ProjectSession(folder):  # the window opens it now
        pass


# --- a full disk ----------------------------------------------------------------------------------


def test_a_full_disk_at_every_write_point_of_a_render_leaves_takes_recorded_or_removed(
    tmp_path, monkeypatch
):
    template = small_project(tmp_path / "Template.gallop", shots=2)
    folder = tmp_path / "Small.gallop"

    def fresh() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(template, folder)

    def run():
        renderer = BatchRenderer(folder, backend="previz", engine_factory=local_engine_factory())
        return renderer.run()

    fresh()
    points = every_write_point(monkeypatch, run)
    assert points >= 20  # lock, takes, manifests and saves of two shots
    for n in range(1, points + 1):
        fresh()
        with full_disk(monkeypatch, n) as disk:
            try:
                result = run()
            except DiskFullError as exc:  # before anything rendered
                assert str(exc).startswith("the disk is full: could not ")
                result = None
            else:
                assert disk.failed, (n, disk.points)
                for message in result.failed.values():
                    assert "the disk is full: could not " in message, (n, message)
        project = check_takes(folder)
        if result is not None and not result.failed:  # only a last sync failed: all recorded
            assert all(shot.current_take is not None for shot in project.shots)
        # With room again, the next run completes and leaves nothing behind.
        result = run()
        assert result.ok and not result.failed
        project = check_takes(folder)
        assert all(shot.current_take is not None for shot in project.shots)


def _mount_tmpfs(folder: Path, size: str) -> None:
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root (the fault injection tests run)")
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


def _fill(disk: Path, leave_pages: int) -> Path:
    """Fill the disk, then free `leave_pages` pages of it."""
    filler = disk / "filler"
    page = os.statvfs(disk).f_bsize
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * page)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - leave_pages * page))
    return filler


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "1m")
    yield disk
    subprocess.run(["umount", str(disk)], check=False)


@posix_only
def test_a_full_disk_on_a_real_file_system_at_every_point_of_a_render(tmp_path, small_disk):
    template = small_project(tmp_path / "Template.gallop", shots=2)
    folder = small_disk / "Small.gallop"
    outcomes = set()
    for pages in range(0, 12):
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(template, folder)
        filler = _fill(small_disk, pages)
        done = subprocess.run(
            [sys.executable, "-m", "ui.main", "render", str(folder), "--backend", "previz"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in done.stderr, done.stderr
        if done.returncode != Exit.OK:
            assert "the disk is full: could not " in done.stderr, done.stderr
        project = check_takes(folder)
        outcomes.add(sum(shot.current_take is not None for shot in project.shots))
        filler.unlink()
        assert render(folder) == Exit.OK
        assert all(shot.current_take for shot in check_takes(folder).shots)
    assert outcomes == {0, 1, 2}  # the disk filled before, between and after the takes


@posix_only
def test_a_full_disk_on_a_real_file_system_while_the_window_saves(tmp_path, small_disk):
    folder = small_disk / "P.gallop"
    save_project(Project(title="saved", shots=[Shot(id="s0", prompt="x" * 3000)]), folder)
    bigger = Project(title="edited", shots=[Shot(id="s0", prompt="y" * 20000)])
    seen = set()
    for pages in range(0, 16):
        filler = _fill(small_disk, pages)
        try:
            with ProjectSession(folder) as session:
                session.autosave(bigger)
                session.save(bigger)
            seen.add("saved")
        except DiskFullError as exc:
            assert str(exc).startswith("the disk is full: could not ")
            seen.add(exc.action)
        project = load_project(folder)
        assert project.title in {"saved", "edited"}
        assert hidden_files(folder) == []
        filler.unlink()
        save_project(Project(title="saved", shots=[Shot(id="s0", prompt="x" * 3000)]), folder)
    # The lock (its note of who holds it), the autosave and the save each met the full disk.
    assert {"write the lock file", "save", "saved"} <= seen
