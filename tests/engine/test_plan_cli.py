"""`gallop plan`: a screenplay or prose becomes a storyboard project."""

from __future__ import annotations

from engine.cli import Exit, run_subcommand
from studio.project.io import load_project

SCRIPT = """Title: The Lighthouse
Author: Gallop

INT. LIGHTHOUSE - STAIRS - NIGHT

The keeper climbs the spiral stairs, lantern swinging.

KEEPER
(out of breath)
One more night.

EXT. SEA - NIGHT

Aerial view of a small boat fighting the waves.

CUT TO:

EXT. HARBOUR - DAWN

Tracking shot as the boat glides in. The keeper watches from the gallery.

KEEPER (V.O.)
They always come home.
"""


def test_plan_a_screenplay(tmp_path, capsys):
    script = tmp_path / "lighthouse.fountain"
    script.write_text(SCRIPT)
    out = tmp_path / "Planned.gallop"
    assert run_subcommand(["plan", str(script), "-o", str(out), "--model", "tiny-wan"]) == Exit.OK
    assert "characters: Keeper" in capsys.readouterr().out
    project = load_project(out)
    assert project.title == "The Lighthouse"
    assert [c.name for c in project.characters] == ["Keeper"]
    assert len(project.shots) == 6  # three headings, three action beats
    assert all(s.model_id == "tiny-wan" for s in project.shots)
    assert len({s.seed for s in project.shots}) == len(project.shots)
    assert [c.shot_id for c in project.timeline.clips()] == [s.id for s in project.shots]
    aerial = next(s for s in project.shots if "Aerial" in s.prompt)
    assert aerial.camera.pedestal  # aerial -> crane down
    assert any("CUT TO:" in s.notes for s in project.shots)


def test_plan_prose_and_errors(tmp_path, capsys):
    prose = tmp_path / "idea.txt"
    prose.write_text("A fox runs through snow.\n\nThe fox stops and looks back at us.\n")
    out = tmp_path / "Idea.gallop"
    assert run_subcommand(["plan", str(prose), "-o", str(out)]) == Exit.OK
    assert len(load_project(out).shots) == 2
    assert run_subcommand(["plan", str(prose), "-o", str(out)]) == Exit.PROJECT  # exists
    empty = tmp_path / "empty.fountain"
    empty.write_text("   \n")
    assert run_subcommand(["plan", str(empty), "-o", str(tmp_path / "E.gallop")]) == Exit.FAILED
    assert "line" in capsys.readouterr().err
    assert not (tmp_path / "E.gallop").exists()
    missing = tmp_path / "missing.fountain"
    assert run_subcommand(["plan", str(missing), "-o", str(tmp_path / "M.gallop")]) == Exit.FAILED
