"""`gallop export`: the film, its progress, exit codes and the messages a user acts on."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from engine.cli import EPILOG, Exit, run_subcommand
from engine.export.job import ExportJob
from engine.media.video import probe, write_video
from studio.jobs import GenerationRequest
from studio.project.io import ProjectSession, copy_project, save_project
from studio.project.model import Project, Take
from studio.timeline.timeline import Clip, Timeline, Transition, TransitionKind
from tests.projects import EXAMPLE, ROOT

W, H = 64, 36


def make_film(folder: Path) -> Path:
    """A saved project of two shots with takes, joined by a crossfade."""
    project = Project(title="Film", width=W, height=H)
    (folder / "takes").mkdir(parents=True)
    for n, shot_id in enumerate(("sea", "cliff")):
        shot = project.new_shot(id=shot_id, title=f"The {shot_id}")
        project.shots.append(shot)
        pictures = [np.full((H, W, 3), 40 + 60 * n + i, np.uint8) for i in range(12)]
        write_video(folder / f"takes/{shot_id}.mp4", pictures, Fraction(24), crf=16)
        request = GenerationRequest(prompt=shot_id, model_id="previz", width=W, height=H, frames=12)
        shot.takes.append(Take(request.hash, request, f"takes/{shot_id}.mp4", "2024-01-01T00:00Z"))
        shot.selected_take = request.hash
    fade = Transition(TransitionKind.CROSSFADE, 4)
    project.timeline = Timeline(
        Fraction(24), (Clip("c1", "sea", None, 0, 12), Clip("c2", "cliff", None, 0, 12, fade))
    )
    save_project(project, folder)
    return folder


@pytest.fixture
def film(tmp_path) -> Path:
    return make_film(tmp_path / "Film.gallop")


def test_export_writes_the_film_with_a_progress_bar(film, tmp_path, capsys):
    out = tmp_path / "film.mp4"
    assert run_subcommand(["export", str(film), "-o", str(out)]) == Exit.OK
    captured = capsys.readouterr()
    assert f"{out}: 20 frames, 0.83s" in captured.out
    assert "export film.mp4" in captured.err and "done in" in captured.err
    info = probe(out)
    assert (info.frames, info.width, info.height, info.codec) == (20, W, H, "h264")


def test_the_preset_picks_the_format_and_the_suffix(film, tmp_path, capsys):
    assert run_subcommand(["export", str(film), "-o", str(tmp_path / "cut")]) == Exit.OK
    assert probe(tmp_path / "cut.mp4").codec == "h264"  # the preset's suffix was added
    args = ["export", str(film), "-o", str(tmp_path / "cut"), "--preset", "webm"]
    assert run_subcommand([*args, "--size", "32x18", "--fps", "12"]) == Exit.OK
    info = probe(tmp_path / "cut.webm")
    assert (info.codec, info.width, info.height, info.fps, info.frames) == ("vp9", 32, 18, 12, 10)
    assert (
        run_subcommand(["export", str(film), "-o", str(tmp_path / "stills"), "--preset", "png"])
        == 0
    )
    assert len(list((tmp_path / "stills").glob("stills_*.png"))) == 20


def test_a_shot_without_a_take_is_named(tmp_path, capsys):
    project = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    out = tmp_path / "film.mp4"
    assert run_subcommand(["export", str(project), "-o", str(out)]) == Exit.FAILED
    err = capsys.readouterr().err
    assert "shot 'Storm at sea' has no take yet; render it first" in err
    assert not out.exists()


def test_a_corrupt_take_is_named_and_leaves_no_file(film, tmp_path, capsys):
    (film / "takes/cliff.mp4").write_bytes(b"this is not a video")
    out = tmp_path / "film.mp4"
    assert run_subcommand(["export", str(film), "-o", str(out)]) == Exit.FAILED
    err = capsys.readouterr().err
    assert "gallop: export failed: the take of shot 'The cliff' cannot be read" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Film.gallop"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--preset", "avi"], "invalid choice"),
        (["--preset", "gif"], "writes .gif files, not 'film.mp4'"),
        (["--size", "big"], "--size must look like 1280x720"),
        (["--fps", "fast"], "--fps must be a number"),
        (["--crf", "80"], "--crf must be between 0 and 51 for web"),
        (["--crf", "20", "--preset", "png"], "--crf does not apply to the png preset"),
    ],
)
def test_bad_usage_exits_2_with_a_reason(film, tmp_path, capsys, args, message):
    out = tmp_path / "film.mp4"
    assert run_subcommand(["export", str(film), "-o", str(out), *args]) == Exit.USAGE
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_an_invalid_project_exits_3(tmp_path, capsys):
    (tmp_path / "project.json").write_text("{not json")
    assert run_subcommand(["export", str(tmp_path), "-o", str(tmp_path / "f.mp4")]) == Exit.PROJECT
    assert "invalid project" in capsys.readouterr().err


def test_ctrl_c_cancels_and_leaves_no_file(film, tmp_path, capsys, monkeypatch):
    original = ExportJob.wait

    def interrupted(self, timeout=None):
        if timeout is not None:
            raise KeyboardInterrupt
        return original(self, timeout)

    monkeypatch.setattr(ExportJob, "wait", interrupted)
    out = tmp_path / "film.mp4"
    assert run_subcommand(["export", str(film), "-o", str(out)]) == Exit.INTERRUPTED
    assert "interrupted; nothing was written" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Film.gallop"]


def test_otio_writes_the_edit_beside_the_film(film, tmp_path, capsys):
    edit = tmp_path / "cut.otio"
    args = ["export", str(film), "-o", str(tmp_path / "film.mp4"), "--otio", str(edit)]
    assert run_subcommand(args) == Exit.OK
    assert f"{edit}: the edit" in capsys.readouterr().out
    import opentimelineio as otio

    timeline = otio.adapters.read_from_file(str(edit))
    assert len(list(timeline.find_clips())) == 2


# --- where the film and the edit go: checked before any work --------------------------


def test_an_output_inside_the_take_folder_is_refused(film, tmp_path, capsys):
    take = film / "takes" / "sea.mp4"
    before = take.read_bytes()
    (tmp_path / "shortcut").symlink_to(film / "takes")
    for out in (take, film / "takes" / "new.mp4", tmp_path / "shortcut" / "film.mp4"):
        assert run_subcommand(["export", str(film), "-o", str(out)]) == Exit.USAGE
        assert "inside the project's take folder" in capsys.readouterr().err
    assert take.read_bytes() == before
    assert sorted(p.name for p in (film / "takes").iterdir()) == ["cliff.mp4", "sea.mp4"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("cut.txt", "--otio: cannot write an edit as 'cut.txt'"),
        ("missing/cut.otio", "--otio: the folder"),
    ],
)
def test_a_bad_edit_name_is_reported_before_the_film_is_written(
    film, tmp_path, capsys, edit, message
):
    out = tmp_path / "film.mp4"
    args = ["export", str(film), "-o", str(out), "--otio", str(tmp_path / edit)]
    assert run_subcommand(args) == Exit.USAGE
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("fps", ["0.0001", "0.5", "1001", "-24"])
def test_a_frame_rate_out_of_bounds_names_the_bounds_and_the_value(film, tmp_path, capsys, fps):
    out = tmp_path / "film.mp4"
    assert run_subcommand(["export", str(film), "-o", str(out), f"--fps={fps}"]) == Exit.USAGE
    err = capsys.readouterr().err
    assert f"--fps must be between 1 and 1000 frames a second, not {fps}" in err
    assert not out.exists()


def test_a_device_or_a_pipe_is_no_output(film, tmp_path, capsys):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    outputs = [pipe, Path("/dev/full"), Path("/dev/null")]
    try:
        for out in outputs:
            assert run_subcommand(["export", str(film), "-o", str(out)]) == Exit.USAGE
            assert f"{out} is not a regular file" in capsys.readouterr().err
    finally:
        written = [p for p in (Path(f"{o}.mp4") for o in outputs) if p.exists()]
        for path in written:  # what the suffix made of them, removed before failing
            path.unlink()
    assert written == []
    assert pipe.is_fifo()


def test_a_project_in_use_exits_4_with_its_own_message(film, capsys):
    with ProjectSession(film):
        code = run_subcommand(["render", str(film), "--backend", "previz"])
    assert code == Exit.IN_USE == 4
    err = capsys.readouterr().err
    assert "gallop: in use:" in err and "invalid project" not in err
    assert "4 the project is in use" in EPILOG


def test_what_a_killed_export_left_beside_the_film_goes_at_the_next_export(film, tmp_path):
    # A temporary film of a process that has ended, named as an export names it.
    code = (
        "import sys; from engine.tempfiles import TempFile\n"
        "temp = TempFile(sys.argv[1]); temp.write(b'half a film'); print(temp.path)\n"
    )
    left = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "film.mp4")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    stale = Path(left.stdout.strip())
    assert stale.exists() and stale.parent == tmp_path
    assert run_subcommand(["export", str(film), "-o", str(tmp_path / "film.mp4")]) == Exit.OK
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Film.gallop", "film.mp4"]
