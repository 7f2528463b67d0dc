"""A long film in the window: how long a project of 10,000 shots takes to open, and how long
one edit, its undo and a change of the current shot hold the window up.

The project (10,000 shots, one clip each on the timeline, every tenth shot continuing
from the one before) is built in memory with the studio's model and saved to a temporary
folder; the studio window (offscreen, in the studio's own style) opens it from there,
three times over. Then, as a director would, nine times over on shots far apart: the
selection of a shot (the storyboard and timeline scroll to it), a prompt edit pushed
through the document's command as the prompt panel does, and its undo. Each action is
timed from the call until the window has handled the events it posted (the repaints of
what changed); the project's opening from the load until the window is shown and has
painted once. Prints the median and the worst of each against its goal (< 1 s to open,
< 16 ms per action: one frame at 60 Hz) and the ratio of the median to the goal.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from studio.commands import set_field  # noqa: E402
from studio.project.io import ProjectSession, load_project, save_project  # noqa: E402
from studio.project.model import Project  # noqa: E402
from studio.timeline.timeline import Clip, Timeline  # noqa: E402

SHOTS = 10_000
OPEN_GOAL_S = 1.0
ACTION_GOAL_MS = 16.0
OPENINGS = 3
ROUNDS = 9


def long_film(n: int = SHOTS) -> Project:
    project = Project(title="A long film")
    for i in range(n):
        project.shots.append(
            project.new_shot(
                id=f"shot-{i:05d}",
                title=f"Shot {i + 1}",
                prompt=f"A lighthouse keeper climbs the stairs, landing {i + 1}",
                duration=2.0 + (i % 4),
                seed=i,
                continue_from_previous=i % 10 == 9,
            )
        )
    clips = tuple(
        Clip(
            id=f"clip-{shot.id}",
            shot_id=shot.id,
            take_id=None,
            source_in=0,
            source_out=round(shot.duration * project.fps),
        )
        for shot in project.shots
    )
    project.timeline = Timeline(fps=project.fps, items=clips)
    return project


def settled(app: QApplication) -> None:
    """Handle what the action posted: repaints, layouts, the document's put-off work."""
    app.processEvents()
    app.processEvents()


def main() -> int:
    app = QApplication([])
    from ui.app import StudioWindow, apply_dark_theme

    apply_dark_theme(app)  # the studio's own style, as `gallop` runs it
    openings: list[tuple[float, float]] = []  # (load, window) seconds
    actions: dict[str, list[float]] = {"select a shot": [], "prompt edit": [], "undo": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "Long film.gallop"
        save_project(long_film(), folder)
        for opening in range(OPENINGS):
            settings = QSettings(str(Path(tmp) / f"settings{opening}.ini"), QSettings.IniFormat)
            start = time.perf_counter()
            project = load_project(folder)
            loaded = time.perf_counter()
            window = StudioWindow(project, ProjectSession(folder), settings=settings)
            window.show()
            settled(app)
            openings.append((loaded - start, time.perf_counter() - loaded))
            if opening + 1 < OPENINGS:
                window._closing_confirmed = True
                window.close()
                window.deleteLater()
                settled(app)

        document = window.document

        def timed(name: str, action) -> None:
            begin = time.perf_counter()
            action()
            settled(app)
            actions[name].append((time.perf_counter() - begin) * 1000)

        for i in range(ROUNDS):
            shot = project.shots[(SHOTS // 2 + i * 1237) % SHOTS]  # far from the one before
            timed("select a shot", lambda shot=shot: window.storyboard.show_shot(shot.id))
            while window.camera_panel.source_pending:  # its picture lands before the edit
                app.processEvents()
            edit = set_field(shot, "prompt", shot.prompt + ", at dusk")
            timed("prompt edit", lambda edit=edit: document.push(edit))
            timed("undo", document.undo_stack.undo)
        window._closing_confirmed = True
        window.close()

    load, shown = (statistics.median(times) for times in zip(*openings, strict=True))
    total = statistics.median(load_s + window_s for load_s, window_s in openings)
    print(
        f"open {SHOTS} shots (median of {OPENINGS}): {total:.2f} s (load {load:.2f} s, window "
        f"{shown:.2f} s); goal < {OPEN_GOAL_S:.0f} s; ratio {total / OPEN_GOAL_S:.2f}"
    )
    for name, times in actions.items():
        middle = statistics.median(times)
        print(
            f"{name} (median of {len(times)}): {middle:.1f} ms, worst {max(times):.1f} ms; "
            f"goal < {ACTION_GOAL_MS:.0f} ms; ratio {middle / ACTION_GOAL_MS:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
