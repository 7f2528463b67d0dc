"""`gallop plan`: a screenplay or prose becomes a storyboard project."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from engine.cli import Exit, run_subcommand
from studio.commands import add_shot, apply
from studio.project.io import load_project
from studio.project.model import Project
from studio.script.fountain import parse
from studio.script.plan import plan_storyboard, with_transitions
from studio.timeline.timeline import TransitionKind

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
    # CUT TO: is a plain cut on the timeline, not a note.
    assert all(c.transition.kind is TransitionKind.CUT for c in project.timeline.clips())
    keeper = project.characters[0].id
    stairs = next(s for s in project.shots if "spiral stairs" in s.prompt)
    assert stairs.characters == [keeper]
    assert stairs.dialogue[0].parenthetical == "out of breath"
    assert all(not s.title[:1].isdigit() for s in project.shots)


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


COASTGUARD = Path(__file__).resolve().parents[1] / "data" / "coastguard.fountain"


def test_plan_puts_the_screenplay_transitions_on_the_timeline(tmp_path, capsys):
    out = tmp_path / "Coastguard.gallop"
    args = ["plan", str(COASTGUARD), "-o", str(out), "--model", "tiny-wan"]
    assert run_subcommand(args) == Exit.OK
    said = capsys.readouterr().out
    assert "characters: Mara, Owen, Radio" in said
    assert "7 lines of dialogue; transitions: 1 crossfade, 1 dip to black" in said
    project = load_project(out)
    assert project.title == "The Coastguard"
    by_shot = {c.shot_id: c for c in project.timeline.clips()}
    into = {s.title: by_shot[s.id].transition for s in project.shots}
    dissolve = into["Coastguard Hut"]  # DISSOLVE TO:
    assert (dissolve.kind, dissolve.frames) == (TransitionKind.CROSSFADE, 12)
    fade = into["Three Days Later"]  # FADE OUT.
    assert (fade.kind, fade.frames) == (TransitionKind.DIP_BLACK, 24)
    assert into["Open Sea"].kind is TransitionKind.CUT  # SMASH CUT TO:
    assert into["The End"].kind is TransitionKind.CUT  # CUT TO:
    kinds = [c.transition.kind for c in project.timeline.clips()]
    assert kinds.count(TransitionKind.CUT) == len(kinds) - 2
    # The dissolve overlaps two clips by its length: the edit is 12 frames shorter.
    frames = sum(c.duration for c in project.timeline.clips())
    assert project.timeline.duration == frames - 12
    # What else the screenplay said survives the project file.
    cards = [s for s in project.shots if "Title card" in s.notes]
    assert [(s.prompt, s.model_id) for s in cards] == [
        ("THREE DAYS LATER", "previz"),
        ("THE END", "previz"),
    ]
    radio = next(s for s in project.shots if s.dialogue and s.dialogue[-1].speaker == "Radio")
    assert radio.dialogue[0].parenthetical == "into the radio"
    mara = next(c for c in project.characters if c.name == "Mara")
    assert mara.description == "a young coastguard in a red jacket"


def test_a_transition_that_does_not_fit_stays_a_cut():
    script = "EXT. A - DAY\n\nGo.\n\nDISSOLVE TO:\n\nEXT. B - DAY\n\nStop."
    project = Project(fps=Fraction(24))
    board = plan_storyboard(parse(script), project)
    for planned in board.shots:
        planned.duration = 0.25  # six frames: too short for a twelve-frame dissolve
        apply(add_shot(project, planned, clip=True))
    timeline, left = with_transitions(project.timeline, board.shots, board.transitions)
    assert [c.text for c in left] == ["DISSOLVE TO:"]
    assert all(c.transition.kind is TransitionKind.CUT for c in timeline.clips())
    for planned in board.shots:
        planned.duration = 2.0
    roomy = Project(fps=Fraction(24))
    for planned in board.shots:
        apply(add_shot(roomy, planned, clip=True))
    timeline, left = with_transitions(roomy.timeline, board.shots, board.transitions)
    assert left == []
    assert timeline.clips()[2].transition.kind is TransitionKind.CROSSFADE
