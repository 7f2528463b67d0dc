"""Script to storyboard: a Fountain screenplay or plain prose becomes a new project.

Parsing and shot planning live in `studio/`; this module reads the file, builds the
project (shots, bible characters, a timeline of the shots in order with the screenplay's
transitions between them) and saves it.
"""

from __future__ import annotations

from pathlib import Path

from engine.models.catalog import Catalog
from studio.commands import add_shot, apply, set_field, set_timeline
from studio.errors import StudioError
from studio.project.io import create_project
from studio.project.model import Project
from studio.script.fountain import parse
from studio.script.plan import Storyboard, plan_prose, plan_storyboard, with_transitions
from studio.timeline.timeline import Timeline

FOUNTAIN_SUFFIXES = (".fountain", ".spmd")


def looks_like_fountain(path: Path, text: str) -> bool:
    if path.suffix.lower() in FOUNTAIN_SUFFIXES:
        return True
    heads = ("INT.", "EXT.", "EST.", "INT./EXT.", "I/E")
    return any(line.lstrip().upper().startswith(heads) for line in text.splitlines())


def read_script(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StudioError(f"cannot read {path.name}: {exc.strerror or exc}") from None


def storyboard(source: bytes, path: Path, project: Project) -> None:
    """Fill `project` with the shots, characters and timeline planned from `source`, by the
    commands the window's edits use (each shot joins with its clip, in order; then the
    screenplay's transitions are set between the clips)."""
    text = source.decode("utf-8", errors="replace")
    if looks_like_fountain(path, text):
        screenplay = parse(source)
        if screenplay.title_page.get("title"):
            title = screenplay.title_page["title"].splitlines()[0].strip("_* ")
            apply(set_field(project, "title", title))
        plan = plan_storyboard(screenplay, project)
    else:
        plan = Storyboard(plan_prose(source, project))
    shots = plan.shots
    if project.timeline.fps != project.fps and not project.timeline.items:
        apply(set_timeline(project, Timeline(fps=project.fps), "Frame rate"))
    # Each shot its own seed, so the storyboard does not render one look over and over.
    for i, shot in enumerate(shots):
        shot.seed = 1000 + len(project.shots) + i
    for shot in shots:
        apply(add_shot(project, shot, clip=True))
    timeline, left = with_transitions(project.timeline, shots, plan.transitions)
    if timeline is not project.timeline:
        apply(set_timeline(project, timeline, "Transitions"))
    for cue in left:  # too short a clip on one side: the edit keeps a cut, the notes say so
        shot = shots[cue.into]
        note = f"Transition in: {cue.text} (left as a cut: the clips are too short)"
        apply(set_field(shot, "notes", f"{shot.notes}\n{note}".strip()))


def plan_project(script: Path, output: Path, *, model_id: str | None = None) -> Project:
    """A new project at `output` storyboarded from `script`; nothing is written on error."""
    source = read_script(script)
    project = Project(title=script.stem.replace("_", " ").title())
    if model_id:
        apply(set_field(project, "default_model", Catalog().get(model_id).id))
    storyboard(source, script, project)
    return create_project(output, project)
