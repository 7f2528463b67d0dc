"""A project's life outside the window: the settings store, the user's copy of the
example, saving a copy under a new name, and offering a crash's autosave on opening."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from pathlib import Path

from platformdirs import user_data_dir
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox, QWidget

from engine.assets import example_project
from studio.errors import StudioError
from studio.project.io import (
    Recovery,
    copy_project,
    find_recovery,
    load_project,
    load_recovery,
    save_project,
)
from studio.project.model import Project

log = logging.getLogger("gallop.project")


def app_settings() -> QSettings:
    """The studio's settings: window layout, recent projects, engine preferences."""
    return QSettings("Gallop Studio", "Gallop Studio")


def user_example_copy() -> Path:
    """The example project in the user's data folder, copied from the bundle once."""
    dest = Path(user_data_dir("Gallop Studio", appauthor=False)) / "Examples" / "Lighthouse.gallop"
    if not (dest / "project.json").exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(example_project(), dest)
    return dest


def save_project_as(project: Project, source: Path, dest: Path) -> None:
    """Copy the folder (takes and media) and write the current project into the copy."""
    if dest.exists():
        raise StudioError(f"{dest} already exists")
    copy_project(source, dest)
    save_project(project, dest)
    shutil.rmtree(dest / "autosave", ignore_errors=True)
    log.info("saved a copy of %s as %s", source, dest)


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _span_text(seconds: float) -> str:
    """ "12 minutes", "3 hours", "2 days"; "less than a minute" below one."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 120:
        return _plural(minutes, "minute")
    hours = minutes // 60
    return _plural(hours, "hour") if hours < 48 else _plural(hours // 24, "day")


def autosave_time_text(recovery: Recovery, now: float) -> str:
    """ "Autosaved today at 14:32, 12 minutes after the last save." """
    when = datetime.fromtimestamp(recovery.saved_at)
    today = datetime.fromtimestamp(now).date()
    if when.date() == today:
        day = "today"
    elif when.date() == today - timedelta(days=1):
        day = "yesterday"
    else:
        day = f"on {when.day} {when:%B}" + ("" if when.year == today.year else f" {when.year}")
    text = f"Autosaved {day} at {when:%H:%M}"
    if recovery.project_saved_at is None:
        return text + "; the project has no saved file."
    after = max(0.0, recovery.saved_at - recovery.project_saved_at)
    return text + f", {_span_text(after)} after the last save."


def differences_text(saved: Project, autosaved: Project) -> str:
    """How the autosave's shots differ from the saved project's, in a sentence."""
    before = {shot.id: shot for shot in saved.shots}
    after = {shot.id: shot for shot in autosaved.shots}
    changed = sum(1 for i, shot in after.items() if i in before and before[i] != shot)
    added = sum(1 for i in after if i not in before)
    removed = sum(1 for i in before if i not in after)
    counts = ((changed, "changed"), (added, "added"), (removed, "removed"))
    parts = ", ".join(f"{n} {word}" for n, word in counts if n)
    total = changed + added + removed
    if total:
        verb = "differs" if total == 1 else "differ"
        return f"{_plural(total, 'shot')} {verb} from the saved project ({parts})."
    if saved == autosaved:
        return "It holds the same project as the saved one."
    return "Its shots are as saved; the timeline, the bible or the settings differ."


def recovery_text(folder: Path, recovery: Recovery, autosaved: Project | None, now: float) -> str:
    """The question put when a crash left an autosave: when it was made, what differs."""
    lines = [
        f"{Path(folder).name} was not closed cleanly. Restore the autosave?",
        autosave_time_text(recovery, now),
    ]
    # With no readable saved project to compare with, the time says enough.
    if autosaved is not None:
        with suppress(OSError, StudioError):
            lines.append(differences_text(load_project(folder), autosaved))
    lines.append("The saved project stays as it is until you save.")
    return "\n".join(lines)


def load_offering_recovery(
    folder: Path, parent: QWidget | None = None, *, now: Callable[[], float] = time.time
) -> tuple[Project, bool] | None:
    """The project in `folder`, and whether it came from a crash's autosave (the user is
    asked first, told when it was made and how it differs); None when the user cancels.
    The saved project is left as it is."""
    recovered = False
    project = None
    recovery = find_recovery(folder)
    if recovery is not None:
        try:
            autosaved = load_recovery(recovery)
        except (OSError, StudioError):
            autosaved = None  # restoring it says why it cannot
        answer = QMessageBox.question(
            parent,
            "Recover unsaved work?",
            recovery_text(folder, recovery, autosaved, now()),
            QMessageBox.Yes | QMessageBox.No | QMessageBox.Cancel,
        )
        if answer == QMessageBox.Cancel:
            return None
        if answer == QMessageBox.Yes:
            project = autosaved if autosaved is not None else load_recovery(recovery)
            recovered = True
    if project is None:
        project = load_project(folder)
    log.info("opened %s%s", folder, " from its autosave" if recovered else "")
    return project, recovered
