"""Temporary outputs: new names, created exclusively, never written through a link planted
under a name someone guessed; what a killed process leaves behind goes at the next write
to that folder, and nothing else does."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from engine.export.interchange import write_edit
from engine.media.video import probe, write_video
from engine.tempfiles import TempFile, is_temporary, remove_stale, temp_folder
from studio.jobs import GenerationRequest
from studio.project.files import is_leftover, temp_tag
from studio.project.model import Project, Take
from studio.project.takes import TakeStore
from studio.timeline.timeline import Clip, Timeline
from tests.engine.export.export_helpers import H, W, run

ROOT = Path(__file__).resolve().parents[2]
# The random part the old temporary names took from uuid4, made predictable.
GUESSED = uuid.UUID("0123456789abcdef0123456789abcdef")


@pytest.fixture
def guessable(monkeypatch):
    monkeypatch.setattr(uuid, "uuid4", lambda: GUESSED)


def stored_film(folder: Path, frames: int = 12) -> Project:
    """A project of one shot whose take is in the take store as a render puts it."""
    project = Project(title="Film", width=W, height=H)
    shot = project.new_shot(id="a", title="Shot a")
    project.shots.append(shot)
    request = GenerationRequest(prompt="a", model_id="previz", width=W, height=H, frames=frames)
    rendered = write_video(
        folder / "render.mp4", np.full((frames, H, W, 3), 90, np.uint8), Fraction(24)
    )
    media = TakeStore(folder / "takes").insert_file(
        request.hash, rendered, request.canonical_json(), move=True
    )
    shot.takes.append(Take(request.hash, request, f"takes/{media.name}", "2024-01-01T00:00:00Z"))
    shot.selected_take = request.hash
    project.timeline = Timeline(Fraction(24), (Clip("c1", "a", None, 0, frames),))
    return project


@pytest.fixture
def film(tmp_path):
    folder = tmp_path / "Film.gallop"
    folder.mkdir()
    return stored_film(folder), folder


def plant(link: Path, victim: Path) -> None:
    victim.write_bytes(b"precious")
    link.symlink_to(victim)


def untouched(link: Path, victim: Path) -> bool:
    return link.is_symlink() and victim.read_bytes() == b"precious"


@pytest.mark.parametrize(("preset", "name"), [("web", "film.mp4"), ("gif", "film.gif")])
def test_a_film_is_never_written_through_a_planted_link(film, tmp_path, guessable, preset, name):
    project, folder = film
    out = tmp_path / "out"
    out.mkdir()
    output = out / name
    victim = tmp_path / "victim"
    link = out / f".film.{GUESSED.hex[:8]}.part{output.suffix}"
    plant(link, victim)
    run(project, folder, output, preset)
    assert untouched(link, victim)
    assert probe(output).frames == 12
    assert sorted(p.name for p in out.iterdir()) == sorted([link.name, name])


def test_a_png_sequence_is_never_written_into_a_planted_link(film, tmp_path, guessable):
    project, folder = film
    victim = tmp_path / "victim"
    victim.mkdir()
    link = tmp_path / f".stills.{GUESSED.hex[:8]}.part"
    link.symlink_to(victim)
    run(project, folder, tmp_path / "stills", "png")
    assert link.is_symlink() and not any(victim.iterdir())
    assert len(list((tmp_path / "stills").glob("stills_*.png"))) == 12


def test_a_take_is_never_written_through_a_planted_link(tmp_path, guessable):
    victim = tmp_path / "victim"
    link = tmp_path / f".take.{GUESSED.hex[:8]}.part.mp4"
    plant(link, victim)
    frames = np.zeros((3, 16, 16, 3), np.uint8)
    write_video(tmp_path / "take.mp4", frames, Fraction(24))
    assert untouched(link, victim)
    assert probe(tmp_path / "take.mp4").frames == 3


@pytest.mark.parametrize("name", ["cut.otio", "cut.xml", "cut.edl"])
def test_an_edit_is_never_written_through_a_planted_link(film, tmp_path, name):
    project, folder = film
    victim = tmp_path / "victim"
    link = tmp_path / f".{name}.part"  # the fixed name edits were written under
    plant(link, victim)
    write_edit(project, folder, tmp_path / name)
    assert untouched(link, victim)
    assert (tmp_path / name).stat().st_size > 0
    assert not [p for p in tmp_path.iterdir() if is_temporary(p.name)]


def test_a_film_is_readable_by_whoever_can_read_the_folder(film, tmp_path):
    project, folder = film
    run(project, folder, tmp_path / "film.mp4")
    assert (tmp_path / "film.mp4").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600


def _leave_behind(folder: Path, *names: str) -> list[Path]:
    """Temporary outputs made by another process that then ends without cleaning up, as
    a killed export does."""
    code = (
        "import sys; from pathlib import Path; from engine.tempfiles import TempFile, "
        "temp_folder\n"
        "folder = Path(sys.argv[1])\n"
        "for name in sys.argv[2:]:\n"
        "    made = temp_folder(folder / name) if name.endswith('/') else "
        "TempFile(folder / name).path\n"
        "    print(made)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code, str(folder), *names],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [Path(line) for line in found.stdout.splitlines()]


def test_what_an_ended_process_left_goes_at_the_next_write(tmp_path):
    mine = TempFile(tmp_path / "film.mp4")  # this process's own: alive, so kept
    stale = _leave_behind(tmp_path, "film.mp4", "cut.otio", "stills/")
    assert all(p.exists() and is_temporary(p.name) for p in stale)
    (stale[2] / "stills_00000.png").write_bytes(b"frame")
    others = ["film.mp4", ".film.01234567.part.mp4", ".cut.otio.part", "notes.gallop-x.part"]
    for name in others:
        (tmp_path / name).write_bytes(b"keep")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_bytes(b"keep")
    # A link named like a dead process's temporary folder goes; what it points at stays.
    link = tmp_path / stale[2].name.replace("stills", "other")
    link.symlink_to(victim)
    removed = remove_stale(tmp_path)
    assert sorted(removed) == sorted([*stale, link])
    assert not any(p.exists() or p.is_symlink() for p in removed)
    assert (victim / "keep").exists() and mine.path.exists()
    assert all((tmp_path / name).read_bytes() == b"keep" for name in others)
    mine.discard()
    assert not mine.path.exists()


def test_a_live_process_keeps_its_temporary_outputs(tmp_path):
    # A process still writing (here one waiting on its standard input) loses nothing.
    code = (
        "import sys; from pathlib import Path; from engine.tempfiles import TempFile\n"
        "print(TempFile(Path(sys.argv[1]) / 'film.mp4').path, flush=True)\n"
        "sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        temp = Path(child.stdout.readline().strip())
        assert temp.exists()
        with TempFile(tmp_path / "film.mp4"):
            pass
        assert remove_stale(tmp_path) == [] and temp.exists()
    finally:
        child.stdin.close()
        child.wait(30)
    assert remove_stale(tmp_path) == [temp]


def test_a_new_temporary_name_never_takes_over_an_existing_file(tmp_path):
    first, second = TempFile(tmp_path / "a.mp4"), TempFile(tmp_path / "a.mp4")
    folders = {temp_folder(tmp_path / "s"), temp_folder(tmp_path / "s")}
    assert first.path != second.path and len(folders) == 2
    first.write(b"one")
    second.write(b"two")
    assert first.place().read_bytes() == b"one"
    second.discard()
    assert not second.path.exists() and os.listdir(tmp_path).count("a.mp4") == 1


def test_temporary_outputs_carry_the_process_tag_a_project_uses(tmp_path):
    # One naming and one rule: an export's temporary film names its process as a
    # project's own temporary files do, and is a leftover by the same rule.
    with TempFile(tmp_path / "film.mp4") as temp:
        assert f".gallop-{temp_tag()}-" in temp.path.name and is_temporary(temp.path.name)
        assert not is_leftover(temp.path.name, temp.path.stat().st_mtime)
    host = temp_tag().split("h", 1)[1]
    # A pid past any process is a leftover, not "someone else's process".
    name = f".film.gallop-p{2**70}h{host}-abcd1234.part.mp4"
    (tmp_path / name).write_bytes(b"half a film")
    assert is_temporary(name) and remove_stale(tmp_path) == [tmp_path / name]
