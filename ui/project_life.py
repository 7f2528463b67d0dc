"""A project's life outside the window: the settings store, the user's copy of the
example, saving a copy under a new name, and offering a crash's autosave on opening."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from platformdirs import user_data_dir
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox, QWidget

from engine.assets import example_project
from studio.errors import StudioError
from studio.project.io import (
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


def load_offering_recovery(
    folder: Path, parent: QWidget | None = None
) -> tuple[Project, bool] | None:
    """The project in `folder`, and whether it came from a crash's autosave (the user is
    asked first); None when the user cancels. The saved project is left as it is."""
    recovered = False
    project = None
    recovery = find_recovery(folder)
    if recovery is not None:
        answer = QMessageBox.question(
            parent,
            "Recover unsaved work?",
            f"{Path(folder).name} was not closed cleanly. Restore the autosave?\n"
            "The saved project stays as it is until you save.",
            QMessageBox.Yes | QMessageBox.No | QMessageBox.Cancel,
        )
        if answer == QMessageBox.Cancel:
            return None
        if answer == QMessageBox.Yes:
            project, recovered = load_recovery(recovery), True
    if project is None:
        project = load_project(folder)
    log.info("opened %s%s", folder, " from its autosave" if recovered else "")
    return project, recovered
