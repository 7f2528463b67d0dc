"""Hostile project files: each is refused with a ProjectError naming where the problem is,
in one line of bounded length, without blocking, reading without limit or changing a file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from studio.errors import EditError, ProjectError, one_line
from studio.project.io import AUTOSAVE_FILE, Recovery, check_inside, load_project, load_recovery
from studio.timeline.timeline import MAX_FRAMES, Gap, Timeline
from tests.corrupt_projects import (
    EXAMPLE,
    MAX_ERROR_CHARS,
    SPECIAL_MEMORY_BYTES,
    FifoWatch,
    check_error,
    memory_ceiling,
)


def example() -> dict:
    return json.loads((EXAMPLE / "project.json").read_text())


def write(folder: Path, document: dict | str | bytes) -> Path:
    for sub in ("takes", "media", "autosave"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    if isinstance(document, dict):
        # ensure_ascii writes a lone surrogate as the escape "\ud800", as a hostile file would.
        document = json.dumps(document, indent=2)
    if isinstance(document, str):
        document = document.encode("ascii")
    (folder / "project.json").write_bytes(document)
    return folder


def refused(folder: Path) -> ProjectError:
    with pytest.raises(ProjectError) as info:
        load_project(folder)
    check_error(info.value)
    return info.value


# --- unpaired surrogates: could be read, but never saved, printed or hashed ------------------


@pytest.mark.parametrize(
    ("where", "path"),
    [
        (lambda d: d["shots"][0].__setitem__("prompt", "a\ud800b"), "$.shots[0].prompt"),
        (
            lambda d: d["shots"][1].__setitem__("keyframe", "media/\udc00.png"),
            "$.shots[1].keyframe",
        ),
        (lambda d: d["audio"][0].__setitem__("path", "media/\ud800"), "$.audio[0].path"),
        (lambda d: d.__setitem__("title", "\udfff"), "$.title"),
        (lambda d: d["timeline"]["items"][0].__setitem__("id", "\ud800"), "$.timeline.items[0].id"),
        (lambda d: d.__setitem__("\ud800", 1), "$['\\ud800']"),
    ],
)
def test_an_unpaired_surrogate_is_refused_with_its_path(tmp_path, where, path):
    document = example()
    where(document)
    error = refused(write(tmp_path, document))
    assert error.path == path
    assert "unpaired surrogate" in error.message


def test_a_surrogate_escape_in_capitals_is_refused_and_a_paired_one_is_read(tmp_path):
    """Files without an escaped surrogate skip the search for one; the check that decides
    must not miss an escape written in capitals, nor refuse a character outside the BMP
    written as a valid pair."""
    text = json.dumps(example(), indent=2)
    capital = text.replace('"title": "', '"title": "\\uDBFF', 1)
    error = refused(write(tmp_path / "capital", capital))
    assert error.path == "$.title"
    paired = text.replace('"title": "', '"title": "\\uD83C\\uDFAC ', 1)
    assert load_project(write(tmp_path / "paired", paired)).title.startswith("\U0001f3ac ")


def test_an_unpaired_surrogate_in_a_take_request_is_refused(tmp_path):
    from tests.corrupt_projects import base

    document = json.loads(base("rich").raw)
    document["shots"][0]["takes"][0]["request"]["prompt"] = "storm \ud800"
    error = refused(write(tmp_path, document))
    assert error.path == "$.shots[0].takes[0].request.prompt"


def test_a_nul_in_a_path_field_is_refused(tmp_path):
    document = example()
    document["audio"][0]["path"] = "media/sea_bed.ogg\x00.txt"
    assert refused(write(tmp_path, document)).path == "$.audio[0].path"


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fps", ["\u0662\u0664", "\u00b2", "\uff12\uff14", "1" * 5000, "1/2147483648", "24/" + "9" * 40]
)
def test_a_rate_in_other_digits_or_too_long_is_refused(tmp_path, fps):
    document = example()
    document["fps"] = fps
    assert refused(write(tmp_path, document)).path == "$.fps"


def test_an_integer_too_long_to_read_is_refused_at_its_path(tmp_path):
    text = json.dumps(example()).replace('"duration": 5.0', '"duration": 1' + "0" * 5000, 1)
    error = refused(write(tmp_path, text))
    assert error.path == "$.shots[0].duration"


@pytest.mark.parametrize(
    ("where", "path"),
    [
        (("timeline", "items", 0, "source_out"), "$.timeline.items[0].source_out"),
        (("timeline", "items", 0, "source_in"), "$.timeline.items[0].source_in"),
        (("timeline", "items", 1, "transition", "frames"), "$.timeline.items[1].transition.frames"),
        (
            ("timeline", "audio_tracks", 0, "clips", 0, "start"),
            "$.timeline.audio_tracks[0].clips[0].start",
        ),
        (
            ("timeline", "audio_tracks", 0, "clips", 0, "fade_out"),
            "$.timeline.audio_tracks[0].clips[0].fade_out",
        ),
    ],
)
@pytest.mark.parametrize("value", [10**400, MAX_FRAMES + 1], ids=["10**400", "MAX_FRAMES+1"])
def test_frame_counts_past_24_hours_at_1000_fps_are_refused(tmp_path, where, path, value):
    document = example()
    parent = document
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = value
    error = refused(write(tmp_path, document))
    assert error.path == path
    assert str(MAX_FRAMES) in error.message


def test_a_timeline_longer_than_24_hours_at_1000_fps_is_refused(tmp_path):
    document = example()
    gaps = [{"type": "gap", "id": f"g{i}", "frames": MAX_FRAMES} for i in range(3)]
    document["timeline"]["items"] = gaps
    error = refused(write(tmp_path, document))
    assert error.path == "$.timeline.items"
    with pytest.raises(EditError, match="24 hours"):
        Timeline(items=(Gap("a", MAX_FRAMES), Gap("b", 1)))


# --- duplicate keys, and values too long to quote --------------------------------------------


def test_a_repeated_key_is_refused_with_the_path_of_its_object(tmp_path):
    text = json.dumps(example(), indent=2)
    text = text.replace('"prompt": "aerial', '"prompt": "x", "prompt": "aerial', 1)
    error = refused(write(tmp_path, text))
    assert error.path == "$.shots[0]"
    assert "'prompt' appears twice" in error.message
    top = text.replace('"format":', '"title": "A", "format":', 1)
    assert refused(write(tmp_path, top)).path == "$"


@pytest.mark.parametrize(
    "where",
    [
        lambda d, big: d["shots"][0].__setitem__("camera_mode", big),
        lambda d, big: d["shots"][0].__setitem__("selected_take", big),
        lambda d, big: d["timeline"]["items"][0].__setitem__("shot_id", big),
        lambda d, big: d.__setitem__("fps", big),
        lambda d, big: d["audio"][0].__setitem__("path", "../" + big),
        lambda d, big: d.__setitem__(big, 1),
        # The same id twice: the error quotes the id.
        lambda d, big: [item.__setitem__("id", big) for item in d["timeline"]["items"]],
    ],
)
def test_a_huge_value_is_quoted_short_in_the_error(tmp_path, where):
    document = example()
    where(document, "x\n" * 2_500_000)
    error = refused(write(tmp_path, document))
    assert len(str(error)) <= MAX_ERROR_CHARS
    assert "\n" not in str(error)


def test_one_line_escapes_and_cuts():
    assert one_line("plain", 10) == "plain"
    assert one_line("a\nb\ud800", 20) == "a\\nb\\ud800"
    assert one_line("x" * 50, 10) == "x" * 9 + "\u2026"
    assert len(one_line("\x00" * 50, 10)) <= 10


# --- special files and paths -------------------------------------------------------------------


def test_a_fifo_as_project_file_is_refused_without_blocking(tmp_path):
    write(tmp_path, example())
    fifo = tmp_path / "project.json"
    fifo.unlink()
    os.mkfifo(fifo)
    with FifoWatch((fifo,)) as watch:
        error = refused(tmp_path)
    assert not watch.blocked
    assert "not a regular file" in error.message


def test_a_symlink_to_dev_zero_is_refused_without_reading_it(tmp_path):
    write(tmp_path, example())
    (tmp_path / "project.json").unlink()
    os.symlink("/dev/zero", tmp_path / "project.json")
    with memory_ceiling(SPECIAL_MEMORY_BYTES):
        error = refused(tmp_path)
    assert "not a regular file" in error.message


@pytest.mark.parametrize("kind", ["loop", "directory", "empty", "dangling"])
def test_other_special_project_files_are_refused(tmp_path, kind):
    write(tmp_path, example())
    path = tmp_path / "project.json"
    path.unlink()
    if kind == "loop":
        os.symlink("project.json", path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        os.symlink("missing.json", path)
    refused(tmp_path)


def test_a_symlink_to_a_regular_project_file_is_followed(tmp_path):
    elsewhere = write(tmp_path / "elsewhere", example()) / "project.json"
    folder = write(tmp_path / "Film.gallop", example())
    (folder / "project.json").unlink()
    os.symlink(elsewhere, folder / "project.json")
    assert load_project(folder).title == "The Lighthouse"


def test_a_project_file_larger_than_the_limit_is_refused(tmp_path, monkeypatch):
    from studio.project import io as project_io

    raw = (EXAMPLE / "project.json").read_bytes()
    monkeypatch.setattr(project_io, "MAX_PROJECT_BYTES", len(raw) - 1)
    write(tmp_path, raw)
    assert "too large" in refused(tmp_path).message


def test_a_folder_name_too_long_for_the_system_is_a_project_error(tmp_path):
    refused(tmp_path / ("x" * 300) / "Film.gallop")


@pytest.mark.parametrize(
    "value", ["media/" + "a" * 256, "media/" + "\u00e9" * 128, "a/" * 2100 + "x"]
)
def test_a_path_too_long_for_any_file_system_is_refused(tmp_path, value):
    document = example()
    document["audio"][0]["path"] = value
    assert refused(write(tmp_path, document)).path == "$.audio[0].path"


def test_a_symlink_loop_on_a_media_path_is_a_project_error(tmp_path):
    folder = write(tmp_path, example())
    (folder / "media" / "sea_bed.ogg").symlink_to("sea_bed.ogg")
    error = refused(folder)
    assert error.path == "media/sea_bed.ogg"
    with pytest.raises(ProjectError):
        check_inside(folder, "media/sea_bed.ogg/x")


# --- crash recovery checks what loading checks -------------------------------------------------


def test_recovery_refuses_media_outside_the_project(tmp_path):
    folder = write(tmp_path / "Film.gallop", example())
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "sea_bed.ogg").write_bytes(b"outside")
    (folder / "media" / "sea_bed.ogg").symlink_to(tmp_path / "elsewhere" / "sea_bed.ogg")
    autosave = folder / "autosave" / AUTOSAVE_FILE
    autosave.write_bytes((EXAMPLE / "project.json").read_bytes())
    with pytest.raises(ProjectError) as error:
        load_recovery(Recovery(autosave, 0.0, None))
    assert "outside the project" in error.value.message


def test_recovery_refuses_an_autosave_folder_outside_the_project(tmp_path):
    folder = write(tmp_path / "Film.gallop", example())
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / AUTOSAVE_FILE).write_bytes((EXAMPLE / "project.json").read_bytes())
    (folder / "autosave").rmdir()
    (folder / "autosave").symlink_to(outside)
    with pytest.raises(ProjectError, match="outside the project"):
        load_recovery(Recovery(folder / "autosave" / AUTOSAVE_FILE, 0.0, None))


def test_recovery_refuses_a_fifo_without_blocking(tmp_path):
    folder = write(tmp_path, example())
    fifo = folder / "autosave" / AUTOSAVE_FILE
    os.mkfifo(fifo)
    with FifoWatch((fifo,)) as watch, pytest.raises(ProjectError):
        load_recovery(Recovery(fifo, 0.0, None))
    assert not watch.blocked
