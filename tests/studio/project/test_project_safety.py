"""Nothing lost, nothing written outside the project: locks that follow no link and never
have two holders, a take store that refuses links and knows its files' hashes, writers
that merge instead of overwriting, a full disk at every write point, and the temporary
files of killed processes removed."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from studio.errors import StudioError
from studio.project.files import DiskFullError, UnsafeFileError, temp_tag
from studio.project.io import (
    LOCK_FILE,
    ProjectLockedError,
    ProjectSession,
    is_locked,
    load_project,
    save_project,
    update_project,
)
from studio.project.model import Project, Shot
from studio.project.takes import (
    TakeDamagedError,
    TakeMissingError,
    TakeStore,
    TakeStoreError,
    verify_take_file,
)
from tests.faults import every_write_point, full_disk, hidden_files

ROOT = Path(__file__).resolve().parents[3]
ID_A, ID_B = "a" * 64, "b" * 64
posix_only = pytest.mark.skipif(os.name != "posix", reason="links, flock and pids are POSIX")


@pytest.fixture
def folder(tmp_path) -> Path:
    folder = tmp_path / "P.gallop"
    save_project(Project(title="saved", shots=[Shot(id="s0")]), folder)
    return folder


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "outside" / "precious.txt"
    victim.parent.mkdir()
    victim.write_text("precious data\n")
    return victim


# --- the instance lock ---------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("shared", [False, True], ids=["window", "render"])
def test_a_lock_that_is_a_symlink_is_refused_and_what_it_points_to_is_untouched(
    tmp_path, folder, shared
):
    victim = _victim(tmp_path)
    lock = folder / "autosave" / LOCK_FILE
    lock.symlink_to(victim)
    with pytest.raises(UnsafeFileError, match="instance.lock: is a symbolic link"):
        ProjectSession(folder, shared=shared)
    assert victim.read_text() == "precious data\n"
    assert lock.is_symlink()  # neither followed nor removed: the user sees what it was
    with pytest.raises(UnsafeFileError):
        is_locked(folder)
    # A dangling link makes nothing appear where it points.
    lock.unlink()
    lock.symlink_to(tmp_path / "outside" / "created.txt")
    with pytest.raises(UnsafeFileError):
        ProjectSession(folder, shared=shared)
    assert not (tmp_path / "outside" / "created.txt").exists()


@posix_only
def test_a_lock_with_another_name_or_that_is_no_file_is_refused(tmp_path, folder):
    victim = _victim(tmp_path)
    lock = folder / "autosave" / LOCK_FILE
    os.link(victim, lock)
    with pytest.raises(UnsafeFileError, match="hard link"):
        ProjectSession(folder)
    assert victim.read_text() == "precious data\n"
    lock.unlink()
    os.mkfifo(lock)  # would block an open for writing that did not refuse it
    with pytest.raises(UnsafeFileError, match="not a regular file"):
        ProjectSession(folder, shared=True)
    lock.unlink()
    (folder / "autosave").rmdir()
    (folder / "autosave").symlink_to(victim.parent, target_is_directory=True)
    with pytest.raises(UnsafeFileError, match="autosave: is a symbolic link"):
        ProjectSession(folder)
    assert sorted(p.name for p in victim.parent.iterdir()) == ["precious.txt"]


def test_is_locked_creates_nothing(folder):
    assert not is_locked(folder)
    assert not (folder / "autosave" / LOCK_FILE).exists()


@posix_only
def test_a_holder_closing_while_another_opens_never_makes_two_holders(folder, monkeypatch):
    """A holds the project; B opens the lock file; A closes (removing the file) while B
    waits to lock it; C then opens, creating a new file. B must not hold the old file
    next to C holding the new one."""
    import fcntl

    a = ProjectSession(folder)
    later: list[ProjectSession] = []
    real_flock = fcntl.flock

    def racing_flock(fd, operation):
        if not later:  # B's first lock, with its file already open
            later.append(None)  # type: ignore[arg-type]
            a.close()
            later.append(ProjectSession(folder))  # C
        return real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", racing_flock)
    with pytest.raises(ProjectLockedError):
        ProjectSession(folder)  # B
    c = later[-1]
    assert c._lock.held and is_locked(folder)
    c.close()
    assert not is_locked(folder)


def test_the_window_has_the_project_alone_and_renders_share_it(folder):
    first = ProjectSession(folder, shared=True)
    second = ProjectSession(folder, shared=True)  # two renders at once
    with pytest.raises(ProjectLockedError, match="gallop render is rendering this project"):
        ProjectSession(folder)
    assert is_locked(folder)
    first.close()
    second.close()
    window = ProjectSession(folder)
    try:
        with pytest.raises(ProjectLockedError, match="open in Gallop Studio"):
            ProjectSession(folder, shared=True)
        # A script that changes the project goes through update_project: refused too.
        with pytest.raises(ProjectLockedError):
            update_project(folder, lambda p: setattr(p, "title", "script"))
        with pytest.raises(ProjectLockedError, match="already open"):
            ProjectSession(folder)
    finally:
        window.close()
    assert not any((folder / "autosave").iterdir())  # a clean close leaves no lock behind
    with ProjectSession(folder, shared=True) as render, pytest.raises(StudioError):
        render.save(Project(title="the whole project, from memory"))
    assert load_project(folder).title == "saved"


# --- two writers ----------------------------------------------------------------------------

EDITOR = textwrap.dedent(
    """
    import sys
    from studio.project.model import Shot
    from studio.project.io import update_project
    folder, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        def change(project, i=i):
            project.shots.append(Shot(id=f"{name}{i}", prompt=f"{name} edit {i}"))
        update_project(folder, change)
    """
)


@posix_only
def test_two_processes_changing_a_project_at_once_lose_nothing(folder):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", EDITOR, str(folder), name, "25"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        for name in ("a", "b")
    ]
    for child in children:
        assert child.stdout.readline().strip() == b"ready"
    for child in children:  # both start their edits together
        child.stdin.write(b"go\n")
        child.stdin.flush()
    for child in children:
        assert child.wait(timeout=120) == 0
        child.stdin.close()
        child.stdout.close()
    ids = {shot.id for shot in load_project(folder).shots}
    assert ids == {"s0"} | {f"{n}{i}" for n in "ab" for i in range(25)}
    assert not any((folder / "autosave").iterdir())


# --- the take store ---------------------------------------------------------------------


def _mp4(payload: bytes = b"frames") -> bytes:
    """A minimal file of MP4 boxes: ftyp, moov, mdat."""

    def box(kind: bytes, body: bytes) -> bytes:
        return (8 + len(body)).to_bytes(4, "big") + kind + body

    return box(b"ftyp", b"isom\0\0\0\0") + box(b"moov", b"\0" * 16) + box(b"mdat", payload)


def _request(prompt: str = "x") -> str:
    return json.dumps({"prompt": prompt}, sort_keys=True, separators=(",", ":"))


@posix_only
def test_a_takes_folder_that_is_a_symlink_is_refused_and_never_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / f"{ID_B}.mp4").write_bytes(b"somebody's file")
    (outside / ".render-old.mp4").write_bytes(b"somebody's hidden file")
    os.utime(outside / ".render-old.mp4", (1, 1))
    before = sorted(p.name for p in outside.iterdir())
    (tmp_path / "takes").symlink_to(outside, target_is_directory=True)
    store = TakeStore(tmp_path / "takes")
    source = tmp_path / "render.mp4"
    source.write_bytes(_mp4())
    for call in (
        lambda: store.insert_file(ID_A, source, _request()),
        lambda: store.insert_bytes(ID_A, _mp4(), _request()),
        lambda: store.find(ID_B),
        lambda: store.verify(ID_B),
        store.ids,
        lambda: store.gc(set()),
        store.remove_leftovers,
        lambda: store.remove(ID_B),
        lambda: store.render_file("job"),
    ):
        with pytest.raises(TakeStoreError, match=r"takes: the take store is a symbolic link"):
            call()
    assert sorted(p.name for p in outside.iterdir()) == before
    assert source.exists()


@posix_only
def test_a_take_entry_that_is_a_symlink_is_refused_and_never_followed(tmp_path):
    store = TakeStore(tmp_path / "takes")
    store.insert_bytes(ID_A, _mp4(), _request())
    victim = _victim(tmp_path)
    media = store.media_path(ID_B)
    media.symlink_to(victim)
    for call in (lambda: store.find(ID_B), lambda: store.verify(ID_B), lambda: store.intact(ID_B)):
        with pytest.raises(TakeStoreError, match=f"{ID_B}.mp4: is a symbolic link"):
            call()
    with pytest.raises(TakeStoreError, match="symbolic link"):
        store.insert_bytes(ID_B, _mp4(b"new"), _request())
    assert media.is_symlink() and victim.read_text() == "precious data\n"
    media.unlink()
    store.manifest_path(ID_A).unlink()
    store.manifest_path(ID_A).symlink_to(victim)
    with pytest.raises(TakeStoreError, match=f"{ID_A}.json: is a symbolic link"):
        store.verify(ID_A)
    assert victim.read_text() == "precious data\n"


def test_a_take_records_its_file_hash_and_a_damaged_file_is_found(tmp_path):
    store = TakeStore(tmp_path / "takes")
    data_a, data_b = _mp4(b"take a" * 100), _mp4(b"take b" * 100)
    path_a = store.insert_bytes(ID_A, data_a, _request("a"))
    path_b = store.insert_bytes(ID_B, data_b, _request("b"))
    manifest = store.manifest(ID_A)
    assert manifest.request == {"prompt": "a"}
    assert (manifest.size, manifest.sha256) == (len(data_a), hashlib.sha256(data_a).hexdigest())
    assert store.verify(ID_A) == path_a and store.intact(ID_B) == path_b

    path_a.write_bytes(data_a[:-10])  # cut short
    with pytest.raises(TakeDamagedError, match="cut short"):
        store.verify(ID_A)
    assert store.intact(ID_A) is None  # a render makes it again
    path_a.write_bytes(data_b[: len(data_a)].ljust(len(data_a), b"\0"))  # same size
    with pytest.raises(TakeDamagedError, match="SHA-256 differs"):
        store.verify(ID_A)
    path_a.write_bytes(data_b)  # swapped with the other take's file
    path_b.write_bytes(data_a)
    for take_id in (ID_A, ID_B):
        with pytest.raises(TakeDamagedError):
            store.verify(take_id)
    with pytest.raises(TakeDamagedError):
        verify_take_file(tmp_path, ID_A, f"takes/{ID_A}.mp4")
    # Rendering again replaces the damaged file; a whole one is kept as it is.
    store.insert_bytes(ID_A, data_a, _request("a"))
    assert store.verify(ID_A) == path_a and path_a.read_bytes() == data_a
    store.insert_bytes(ID_A, _mp4(b"another encode"), _request("a"))
    assert path_a.read_bytes() == data_a
    path_a.unlink()
    with pytest.raises(TakeMissingError):
        store.verify(ID_A)
    assert store.intact(ID_A) is None


def test_an_older_take_without_a_hash_is_checked_by_its_structure_then_hashed(tmp_path):
    store = TakeStore(tmp_path / "takes")
    store.folder.mkdir()
    data = _mp4(b"older take")
    store.media_path(ID_A).write_bytes(data)
    store.manifest_path(ID_A).write_text(_request("old"))  # the bare request, as before
    assert store.manifest(ID_A).sha256 is None
    assert store.verify(ID_A) == store.media_path(ID_A)
    manifest = store.manifest(ID_A)  # its hash is recorded on first use
    assert manifest.request == {"prompt": "old"}
    assert manifest.sha256 == hashlib.sha256(data).hexdigest()
    # A cut short older take (its boxes need more than the file has) is damaged.
    store.media_path(ID_B).write_bytes(data[:-3])
    store.manifest_path(ID_B).write_text(_request("old b"))
    with pytest.raises(TakeDamagedError, match="cut short"):
        store.verify(ID_B)
    assert store.manifest(ID_B).sha256 is None
    store.media_path(ID_B).write_bytes(data[:20])  # no moov box: never finished
    with pytest.raises(TakeDamagedError):
        store.verify(ID_B)


# --- leftovers of killed processes ----------------------------------------------------------


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@posix_only
def test_temporary_files_of_dead_processes_are_removed_and_live_ones_kept(folder):
    takes = folder / "takes"
    mine, host = temp_tag().split("h", 1)
    dead = f"p{_dead_pid()}h{host}"
    live = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    other = f"p{live.pid}h{host}"
    try:
        names = {
            takes / f".{ID_A}.{dead}.x1.tmp": False,
            takes / f".render-{dead}.job.x2.mp4": False,
            takes / f"..render-{dead}.job.x2.abcd.part.mp4": False,
            takes / f".{ID_A}.json.{dead}.x3.tmp": False,
            takes / f".render-{other}.job.x4.mp4": True,  # a running render's
            takes / f".render-{temp_tag()}.job.x5.mp4": True,  # this process's
            takes / ".render-untagged-new.mp4": True,  # newer than this process
            takes / ".DS_Store": True,  # not ours
            folder / f".project.json.{dead}.x6.tmp": False,
            folder / f".project.json.{other}.x7.tmp": True,
            folder / "autosave" / f".project.autosave.json.{dead}.x8.tmp": False,
            folder / ".hidden-notes": True,
        }
        for path in names:
            path.write_bytes(b"partial")
        (takes / ".render-untagged-old.mp4").write_bytes(b"partial")
        os.utime(takes / ".render-untagged-old.mp4", (1, 1))
        names[takes / ".render-untagged-old.mp4"] = False
        ProjectSession(folder, shared=True).close()  # a render's start cleans up
        assert {path.name: path.exists() for path in names} == {
            path.name: kept for path, kept in names.items()
        }
    finally:
        live.stdin.close()
        live.wait()


# --- a full disk at every write point ---------------------------------------------------------


def _consistent(folder: Path, titles: set[str]) -> Project:
    project = load_project(folder)  # loadable whatever failed
    assert project.title in titles
    leftovers = [n for n in hidden_files(folder) if not n.endswith(".DS_Store")]
    assert leftovers == [], "a failed write left a temporary file"
    return project


def _is_disk_full(exc: BaseException) -> None:
    assert isinstance(exc, DiskFullError) and isinstance(exc, OSError)
    assert exc.errno == errno.ENOSPC
    assert str(exc).startswith("the disk is full: could not ")


@pytest.mark.parametrize("operation", ["open", "save", "autosave", "update"])
def test_a_full_disk_at_every_write_point_of_a_session_is_a_clear_error(
    folder, monkeypatch, operation
):
    def run() -> None:
        if operation == "open":
            ProjectSession(folder).close()
            return
        if operation == "update":
            update_project(folder, lambda p: setattr(p, "title", "updated"))
            return
        with ProjectSession(folder) as session:
            project = Project(title="updated", shots=[Shot(id="s0")])
            if operation == "save":
                session.save(project)
            else:
                session.autosave(project)
                assert session.autosave_path.exists()
                session._lock.release()  # as a crash would: the autosave stays

    points = every_write_point(monkeypatch, run)
    save_project(Project(title="saved", shots=[Shot(id="s0")]), folder)
    for n in range(1, points + 1):
        (folder / "autosave" / "project.autosave.json").unlink(missing_ok=True)
        with full_disk(monkeypatch, n) as disk, pytest.raises(OSError) as info:
            run()
        assert disk.failed, n
        _is_disk_full(info.value)
        _consistent(folder, {"saved", "updated"})
        assert not is_locked(folder)
        autosave = folder / "autosave" / "project.autosave.json"
        if autosave.exists():
            assert load_project_file(autosave).title == "updated"
        save_project(Project(title="saved", shots=[Shot(id="s0")]), folder)


def load_project_file(path: Path) -> Project:
    from studio.project.io import decode_project

    return decode_project(path.read_bytes(), str(path))[0]


@pytest.mark.parametrize("how", ["file", "moved file", "bytes"])
def test_a_full_disk_at_every_write_point_of_a_take_insert_leaves_all_or_nothing(
    tmp_path, monkeypatch, how
):
    store = TakeStore(tmp_path / "takes")
    data = _mp4(b"rendered" * 50)
    source = tmp_path / "render.mp4"

    def run() -> None:
        shutil.rmtree(store.folder, ignore_errors=True)  # each run writes the same
        source.write_bytes(data)
        if how == "bytes":
            store.insert_bytes(ID_A, data, _request())
        else:
            store.insert_file(ID_A, source, _request(), move=how == "moved file")

    points = every_write_point(monkeypatch, run)
    for n in range(1, points + 1):
        with full_disk(monkeypatch, n), pytest.raises(OSError) as info:
            run()
        _is_disk_full(info.value)
        assert hidden_files(store.folder) == []
        if store.has(ID_A):
            assert store.verify(ID_A).read_bytes() == data
        else:
            assert not store.manifest_path(ID_A).exists()
    run()  # with room again
    assert store.verify(ID_A).read_bytes() == data


# --- the take's file, as a project names it ---------------------------------------------------


def test_a_projects_take_is_verified_against_its_manifest(tmp_path):
    store = TakeStore(tmp_path / "takes")
    path = store.insert_bytes(ID_A, _mp4(), _request())
    assert verify_take_file(tmp_path, ID_A, f"takes/{ID_A}.mp4") == path
    path.write_bytes(_mp4(b"swapped"))
    with pytest.raises(TakeDamagedError):
        verify_take_file(tmp_path, ID_A, f"takes/{ID_A}.mp4")
