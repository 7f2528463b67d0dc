"""`gallop export` killed with SIGKILL at random moments: the project still loads, the next
export completes and writes a whole film and edit, and no temporary file outlives it.

The moments are drawn (seeded) from the child's own progress or from a random wait: it is
killed after a random number of the lines it writes on standard error (none: while it
starts), or after a random delay that may land anywhere from its start to after its end.
Every moment is a valid one, so nothing depends on how fast the machine is.
GALLOP_EXPORT_KILLS sets how many kills (50 by default) for a quicker run.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from engine.cli import Exit, run_subcommand
from engine.media.video import VideoReader, probe
from studio.camera.rig import preset
from studio.project.io import load_project, save_project
from studio.project.model import AudioMedia, Project
from studio.timeline.timeline import (
    AudioClip,
    AudioTrack,
    Clip,
    Timeline,
    Transition,
    TransitionKind,
)

ROOT = Path(__file__).resolve().parents[3]
BED = ROOT / "assets" / "examples" / "Lighthouse.gallop" / "media" / "sea_bed.ogg"
KILLS = int(os.environ.get("GALLOP_EXPORT_KILLS", "50"))
SEED = 20260312
# Longer than a whole export here, so a random delay also lands after the film is done.
LONGEST_DELAY = 1.2


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """Three previz shots rendered by `gallop render`, joined with crossfades over a sound
    bed: the export copies packets, encodes the joins, mixes and encodes the sound."""
    folder = tmp_path_factory.mktemp("kill") / "Kill.gallop"
    project = Project(title="Kill", fps=Fraction(24), width=192, height=108)
    for i, move in enumerate(("pan_left", "dolly_in", "orbit_right")):
        shot = project.new_shot(
            id=f"s{i}", title=f"Shot {i}", prompt=f"shot {i}", duration=1.5, camera=preset(move)
        )
        shot.seed = i
        project.shots.append(shot)
    save_project(project, folder)
    assert run_subcommand(["render", str(folder), "--backend", "previz", "-q"]) == Exit.OK
    project = load_project(folder)
    (folder / "media").mkdir(exist_ok=True)
    shutil.copyfile(BED, folder / "media" / "bed.ogg")
    project.audio.append(AudioMedia("bed", "Bed", "media/bed.ogg"))
    fade = Transition(TransitionKind.CROSSFADE, 8)
    clips = tuple(
        Clip(f"c{i}", shot.id, None, 0, shot.frames, fade if i else Transition())
        for i, shot in enumerate(project.shots)
    )
    frames = Timeline(Fraction(24), clips).duration
    bed = AudioClip("bed-clip", "bed", 0, 0, frames, fade_in=12, fade_out=12)
    project.timeline = Timeline(Fraction(24), clips, (AudioTrack("music", "Music", (bed,)),))
    save_project(project, folder)
    return folder


def _export(folder: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ui.main", "export", str(folder), "-o", str(out / "film.mp4")]
        + ["--otio", str(out / "cut.otio")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _kill_at_a_random_moment(child: subprocess.Popen, rng: random.Random) -> str:
    """Kill the child at a moment drawn from `rng`; says which moment."""
    if rng.random() < 0.5:
        lines = rng.randint(0, 6)  # its progress lines: 1%, 26%, 51%, 76%, 100%, done
        read = 0
        while read < lines and child.stderr.readline():
            read += 1
        moment = f"after {read} progress lines"
    else:
        delay = rng.uniform(0, LONGEST_DELAY)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=delay)  # not a wait for anything: a moment to kill at
        moment = f"after {delay:.2f}s"
    child.kill()  # SIGKILL, as kill -9: nothing of the export's own clean-up runs
    child.wait()
    child.stderr.close()
    return f"{moment} ({'killed' if child.returncode == -signal.SIGKILL else 'done'})"


def _check_film(out: Path, frames: int, size: tuple[int, int]) -> None:
    info = probe(out / "film.mp4")
    assert (info.frames, (info.width, info.height), info.has_audio) == (frames, size, True)
    with VideoReader(out / "film.mp4") as reader:
        for index in (0, frames // 2, frames - 1):
            assert reader.read(index).shape == (size[1], size[0], 3)
    edit = json.loads((out / "cut.otio").read_text())
    assert edit["OTIO_SCHEMA"].startswith("Timeline")


def test_an_export_killed_at_any_moment_leaves_nothing_the_next_one_does_not_clean(
    project, tmp_path
):
    out = tmp_path / "out"
    out.mkdir()
    saved = (project / "project.json").read_bytes()
    takes = sorted(p.name for p in (project / "takes").iterdir())
    expected = load_project(project).timeline.duration
    rng = random.Random(SEED)
    left_over = 0
    for kill in range(KILLS):
        moment = _kill_at_a_random_moment(_export(project, out), rng)
        found = sorted(set(os.listdir(out)) - {"film.mp4", "cut.otio"})
        left_over += bool(found)
        where = f"kill {kill + 1} of {KILLS}, {moment}, leaving {found}"
        # The project is untouched by an export, killed or not, and loads.
        assert (project / "project.json").read_bytes() == saved, where
        load_project(project)
        # The next export completes, and removes what the killed one left.
        args = ["export", str(project), "-o", str(out / "film.mp4"), "-q"]
        assert run_subcommand([*args, "--otio", str(out / "cut.otio")]) == Exit.OK, where
        assert sorted(os.listdir(out)) == ["cut.otio", "film.mp4"], where
        assert sorted(p.name for p in (project / "takes").iterdir()) == takes, where
        _check_film(out, expected, (192, 108))
    print(f"{KILLS} kills, {left_over} of them left temporary files for the next export")
