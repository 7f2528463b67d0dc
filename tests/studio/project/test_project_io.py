"""Project files: round trips, strict validation, migrations, atomic saves, autosave, takes."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.errors import ProjectError
from studio.jobs import GenerationRequest
from studio.project import io as project_io
from studio.project.io import (
    ProjectLockedError,
    ProjectSession,
    encode_project,
    find_recovery,
    is_locked,
    load_project,
    load_recovery,
    save_project,
)
from studio.project.migrations import MigrationRegistry
from studio.project.model import Project, Shot, Take
from studio.project.takes import TakeStore, TakeStoreError
from tests.strategies import projects

ROOT = Path(__file__).resolve().parents[3]
FUZZ = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def sample_project() -> Project:
    request = GenerationRequest(prompt="waves", model_id="previz", width=64, height=48, frames=9)
    take = Take(request.hash, request, f"takes/{request.hash}.mp4", "2026-11-21T00:00:00+00:00")
    shot = Shot(id="opening", title="Opening", prompt="waves", takes=[take])
    shot.selected_take = take.id
    return Project(title="Sample", shots=[shot, Shot(id="second")])


@settings(max_examples=75, deadline=None)
@given(projects())
def test_save_load_round_trip_equals_the_original(project):
    document = json.loads(encode_project(project))
    again, version = project_io.decode_project(encode_project(project))
    assert version == project_io.SCHEMA_VERSION
    assert again == project
    assert encode_project(again) == encode_project(project)
    assert list(document)[:3] == ["format", "schema_version", "app_version"]


def test_round_trip_on_disk(tmp_path):
    project = sample_project()
    folder = tmp_path / "Sample.gallop"
    save_project(project, folder)
    assert {p.name for p in folder.iterdir()} >= {"project.json", "takes", "media", "autosave"}
    assert load_project(folder) == project
    assert not list(folder.glob(".*.tmp"))


# --- damaged files only ever raise ProjectError and are never modified ------------------


def _assert_load_is_safe(folder: Path, raw: bytes) -> None:
    (folder / "project.json").write_bytes(raw)
    before = sorted(p.name for p in folder.iterdir())
    try:
        load_project(folder)
    except ProjectError as exc:
        assert exc.path  # names where the problem is
    assert (folder / "project.json").read_bytes() == raw
    assert sorted(p.name for p in folder.iterdir()) == before


@pytest.fixture(scope="module")
def valid_bytes() -> bytes:
    return encode_project(sample_project())


@FUZZ
@given(data=st.data())
def test_truncated_project_raises_project_error_only(tmp_path, valid_bytes, data):
    cut = data.draw(st.integers(0, len(valid_bytes) - 1))
    _assert_load_is_safe(tmp_path, valid_bytes[:cut])


@FUZZ
@given(data=st.data())
def test_byte_mutations_raise_project_error_only(tmp_path, valid_bytes, data):
    raw = bytearray(valid_bytes)
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    _assert_load_is_safe(tmp_path, bytes(raw))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


@FUZZ
@given(data=st.data())
def test_structural_mutations_raise_project_error_only(tmp_path, valid_bytes, data):
    document = json.loads(valid_bytes)
    path = data.draw(st.sampled_from(list(_paths(document))[1:]))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace":
        parent[path[-1]] = data.draw(json_values)
    elif action == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[data.draw(st.text(max_size=6))] = data.draw(json_values)
    else:
        parent.insert(path[-1], data.draw(json_values))
    raw = json.dumps(document).encode()  # may hold NaN or Infinity: must be refused
    _assert_load_is_safe(tmp_path, raw)


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d["shots"][0].__setitem__("seed", -1), "$.shots[0].seed"),
        (lambda d: d["shots"][1].__setitem__("id", "opening"), "$.shots[1].id"),
        (lambda d: d["shots"][0].__setitem__("keyframe", "../secret.png"), "$.shots[0].keyframe"),
        (lambda d: d["shots"][0].__setitem__("keyframe", "/etc/passwd"), "$.shots[0].keyframe"),
        (lambda d: d["shots"][0]["takes"][0].__setitem__("id", "0" * 64), "$.shots[0].takes[0].id"),
        (
            lambda d: d["shots"][0].__setitem__("selected_take", "f" * 64),
            "$.shots[0].selected_take",
        ),
        (lambda d: d.__setitem__("fps", "24/0"), "$.fps"),
        (lambda d: d.__setitem__("format", "other"), "$.format"),
        (lambda d: d.__setitem__("schema_version", 99), "$.schema_version"),
        (lambda d: d.__setitem__("schema_version", "1"), "$.schema_version"),
        (lambda d: d.__setitem__("colour", "red"), "$.colour"),
    ],
)
def test_errors_name_the_json_path(tmp_path, valid_bytes, mutate, where):
    document = json.loads(valid_bytes)
    mutate(document)
    (tmp_path / "project.json").write_text(json.dumps(document))
    with pytest.raises(ProjectError) as info:
        load_project(tmp_path)
    assert info.value.path == where


def test_newer_schema_says_so(tmp_path, valid_bytes):
    document = json.loads(valid_bytes)
    document["schema_version"] = project_io.SCHEMA_VERSION + 1
    (tmp_path / "project.json").write_text(json.dumps(document))
    with pytest.raises(ProjectError, match="newer Gallop Studio"):
        load_project(tmp_path)


def test_a_symlink_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "P.gallop"
    project = sample_project()
    project.shots[1].keyframe = "media/link/frame.png"
    save_project(project, folder)
    (folder / "media" / "link").symlink_to(outside)
    with pytest.raises(ProjectError, match="outside the project folder"):
        load_project(folder)


def test_missing_folder_and_file(tmp_path):
    with pytest.raises(ProjectError, match="no such project folder"):
        load_project(tmp_path / "nope.gallop")
    with pytest.raises(ProjectError, match="no such project file"):
        load_project(tmp_path)


# --- migrations ------------------------------------------------------------------------


def test_migrations_run_in_order_and_back_up_the_original(tmp_path, valid_bytes, monkeypatch):
    registry = MigrationRegistry()
    calls = []

    @registry.register(1)
    def rename_title(doc):
        calls.append(1)
        doc["headline"] = doc.pop("title")
        return doc

    @registry.register(2)
    def restore_title(doc):
        calls.append(2)
        doc["title"] = doc.pop("headline").upper()
        return doc

    monkeypatch.setattr(project_io, "SCHEMA_VERSION", 3)
    (tmp_path / "project.json").write_bytes(valid_bytes)
    project = load_project(tmp_path, registry)
    assert calls == [1, 2]
    assert project.title == "SAMPLE"
    assert (tmp_path / "project.json").read_bytes() == valid_bytes
    assert (tmp_path / "project.schema1.json").read_bytes() == valid_bytes
    save_project(project, tmp_path)
    assert json.loads((tmp_path / "project.json").read_text())["schema_version"] == 3


def test_a_missing_or_broken_migration_is_a_project_error(tmp_path, valid_bytes, monkeypatch):
    monkeypatch.setattr(project_io, "SCHEMA_VERSION", 2)
    (tmp_path / "project.json").write_bytes(valid_bytes)
    with pytest.raises(ProjectError, match="no upgrade from schema 1"):
        load_project(tmp_path, MigrationRegistry())
    broken = MigrationRegistry()
    broken.register(1)(lambda doc: doc["missing"])
    with pytest.raises(ProjectError, match="cannot upgrade"):
        load_project(tmp_path, broken)
    with pytest.raises(ValueError):
        broken.register(1)(lambda doc: doc)


# --- autosave, lock and crash discovery -----------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sys
    from studio.project.model import Project
    from studio.project.io import ProjectSession
    session = ProjectSession(sys.argv[1])
    session.autosave(Project(title="unsaved work"))
    print("ready", flush=True)
    sys.stdin.read()  # holds the project until the test kills it, however long that takes
    """
)


def _hold(folder: Path) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout.readline().strip() == b"ready"
    return child


def test_live_instance_blocks_and_crash_offers_recovery(tmp_path):
    folder = tmp_path / "P.gallop"
    save_project(Project(title="saved"), folder)
    saved = (folder / "project.json").read_bytes()
    child = _hold(folder)
    try:
        assert is_locked(folder)
        assert find_recovery(folder) is None  # its autosave is live, not a crash
        with pytest.raises(ProjectLockedError):
            ProjectSession(folder)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdin.close()
        child.stdout.close()
    assert not is_locked(folder)
    recovery = find_recovery(folder)
    assert recovery is not None
    assert load_recovery(recovery).title == "unsaved work"
    assert (folder / "project.json").read_bytes() == saved  # never overwritten by itself
    assert load_project(folder).title == "saved"


def test_clean_close_leaves_nothing_to_recover(tmp_path):
    folder = tmp_path / "P.gallop"
    save_project(Project(title="saved"), folder)
    with ProjectSession(folder) as session:
        session.autosave(Project(title="draft"))
        assert session.autosave_path.exists()
    assert find_recovery(folder) is None
    assert not any((folder / "autosave").iterdir())
    with ProjectSession(folder) as session:  # reopening works
        session.save(Project(title="again"))
    assert load_project(folder).title == "again"


def test_autosave_older_than_the_project_is_not_offered(tmp_path):
    folder = tmp_path / "P.gallop"
    save_project(Project(title="saved"), folder)
    autosave = folder / "autosave" / project_io.AUTOSAVE_FILE
    autosave.write_bytes(encode_project(Project(title="old")))
    os.utime(autosave, (1, 1))
    assert find_recovery(folder) is None


# --- the take store --------------------------------------------------------------------


def test_take_store_insert_find_and_gc(tmp_path):
    store = TakeStore(tmp_path / "takes")
    a, b = "a" * 64, "b" * 64
    source = tmp_path / "render.mp4"
    source.write_bytes(b"video bytes")
    path = store.insert_file(a, source, '{"prompt":"x"}')
    assert path == store.media_path(a) and path.read_bytes() == b"video bytes"
    manifest = store.manifest(a)
    assert manifest.request == {"prompt": "x"} and manifest.size == len(b"video bytes")
    assert manifest.sha256 == hashlib.sha256(b"video bytes").hexdigest()
    store.insert_bytes(b, b"other", "{}", ext="webm")
    assert store.find(b).suffix == ".webm"
    assert store.ids() == {a, b}
    assert store.relative_media(a) == f"takes/{a}.mp4"
    # Leftovers of a version that did not name the process: removed once older than it.
    for name in (f".{a}.junk.tmp", ".render-1234.abc.mp4"):
        (store.folder / name).write_bytes(b"partial")
        os.utime(store.folder / name, (1, 1))
    assert store.gc({a}) == [b]
    assert store.ids() == {a} and not store.has(b)
    assert sorted(p.name for p in store.folder.iterdir()) == [f"{a}.json", f"{a}.mp4"]


def test_take_store_refuses_bad_ids(tmp_path):
    store = TakeStore(tmp_path)
    for bad in ["../../etc/passwd", "A" * 64, "a" * 63, ""]:
        with pytest.raises(TakeStoreError):
            store.media_path(bad)
    with pytest.raises(TakeStoreError):
        store.media_path("a" * 64, "../x")


def test_failed_insert_leaves_nothing(tmp_path):
    store = TakeStore(tmp_path / "takes")
    with pytest.raises(FileNotFoundError):
        store.insert_file("c" * 64, tmp_path / "missing.mp4", "{}")
    assert not store.has("c" * 64)
    assert not list(store.folder.glob(".*.tmp"))


def test_a_number_too_large_for_a_float_is_a_project_error(tmp_path, valid_bytes):
    document = json.loads(valid_bytes)
    document["shots"][0]["duration"] = 10**400
    (tmp_path / "project.json").write_text(json.dumps(document))
    with pytest.raises(ProjectError) as info:
        load_project(tmp_path)
    assert info.value.path == "$.shots[0].duration"
