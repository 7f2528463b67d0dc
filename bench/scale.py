"""A long film in the window: how long a project of 10,000 shots takes to open, and how long
one edit, its undo and a change of the current shot hold the window up.

The project (10,000 shots, one clip each on the timeline, every tenth shot continuing
from the one before) is built in memory with the studio's model and saved to a temporary
folder; the studio window (offscreen) opens it from there. Then, as a director would:
a prompt edit pushed through the document's command as the prompt panel does, its undo,
and the selection of another shot. Each action is timed from the call until the window
has handled the events it posted (the repaints of what changed); the project's opening
from the load until the window is shown and has painted once. Prints each time against
its goal (< 1 s to open, < 16 ms per action: one frame at 60 Hz) and the ratio.
"""

from __future__ import annotations

import os
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
    from ui.app import StudioWindow

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "Long film.gallop"
        save_project(long_film(), folder)
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.IniFormat)

        start = time.perf_counter()
        project = load_project(folder)
        loaded = time.perf_counter()
        window = StudioWindow(project, ProjectSession(folder), settings=settings)
        window.show()
        settled(app)
        opened = time.perf_counter()

        document = window.document
        middle = project.shots[SHOTS // 2]
        window.storyboard.show_shot(middle.id)
        settled(app)

        def timed(action) -> float:
            begin = time.perf_counter()
            action()
            settled(app)
            return (time.perf_counter() - begin) * 1000

        actions = {
            "prompt edit": timed(
                lambda: document.push(set_field(middle, "prompt", middle.prompt + ", at dusk"))
            ),
            "undo": timed(document.undo_stack.undo),
            "select a shot": timed(lambda: window.storyboard.show_shot(project.shots[42].id)),
        }
        window._closing_confirmed = True
        window.close()

    total = opened - start
    print(
        f"open {SHOTS} shots: {total:.2f} s (load {loaded - start:.2f} s, window "
        f"{opened - loaded:.2f} s); goal < {OPEN_GOAL_S:.0f} s; ratio {total / OPEN_GOAL_S:.2f}"
    )
    for name, ms in actions.items():
        print(
            f"{name}: {ms:.1f} ms; goal < {ACTION_GOAL_MS:.0f} ms; ratio {ms / ACTION_GOAL_MS:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
