"""`gallop validate` (a project folder loads and is valid) and `gallop plan` (a storyboard
from a screenplay or prose)."""

from __future__ import annotations

import argparse

from engine.cli.info import printable
from engine.cli.parser import Exit
from studio.project.io import load_project


def cmd_plan(args: argparse.Namespace) -> int:
    from engine.script_import import plan_project

    project = plan_project(args.script, args.output, model_id=args.model)
    chars = ", ".join(printable(c.name) for c in project.characters) or "none"
    seconds = float(project.timeline.duration_seconds)
    print(f"{args.output}: {len(project.shots)} shots, {seconds:.1f}s, characters: {chars}")
    lines = sum(len(s.dialogue) for s in project.shots)
    joins = [c.transition.label for c in project.timeline.clips() if c.transition.frames]
    if lines or joins:
        said = ", ".join(f"{joins.count(k)} {k}" for k in dict.fromkeys(joins)) or "cuts only"
        print(f"  {lines} lines of dialogue; transitions: {said}")
    return Exit.OK


def cmd_validate(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    print(f"{args.project}: valid ({len(project.shots)} shots, title {project.title!r})")
    return Exit.OK
