"""The composition root of the studio window: builds the project, the undo stack and the UI.

`gallop` opens the bundled example (copied to the user's data folder so the bundled one
stays pristine), `gallop PATH` a project folder, `gallop --new PATH` an empty project.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from platformdirs import user_data_dir
from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QColor, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
)

from engine.assets import example_project
from studio.camera import describe
from studio.commands import UndoStack
from studio.errors import StudioError
from studio.model import Project
from studio.project_io import (
    ProjectSession,
    create_project,
    find_recovery,
    load_project,
    load_recovery,
)

AUTOSAVE_MS = 60_000


def user_example_copy() -> Path:
    """The example project in the user's data folder, copied from the bundle once."""
    dest = Path(user_data_dir("Gallop Studio", appauthor=False)) / "Examples" / "Lighthouse.gallop"
    if not (dest / "project.json").exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(example_project(), dest)
    return dest


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    base, window, text = QColor(30, 31, 34), QColor(43, 45, 48), QColor(220, 220, 220)
    for role, color in {
        QPalette.Window: window,
        QPalette.WindowText: text,
        QPalette.Base: base,
        QPalette.AlternateBase: window,
        QPalette.Text: text,
        QPalette.Button: window,
        QPalette.ButtonText: text,
        QPalette.Highlight: QColor(214, 137, 16),
        QPalette.HighlightedText: QColor(0, 0, 0),
        QPalette.ToolTipBase: base,
        QPalette.ToolTipText: text,
    }.items():
        palette.setColor(role, color)
    app.setPalette(palette)


class StudioWindow(QMainWindow):
    """The main window: the shots of the storyboard and the selected shot's details."""

    def __init__(self, project: Project, session: ProjectSession) -> None:
        super().__init__()
        self.project = project
        self.session = session
        self.undo_stack = UndoStack()
        self.undo_stack.add_listener(self._update_title)

        self.shots = QListWidget()
        self.shots.setObjectName("storyboard")
        self.details = QPlainTextEdit(readOnly=True)
        splitter = QSplitter()
        splitter.addWidget(self.shots)
        splitter.addWidget(self.details)
        splitter.setSizes([420, 600])
        self.setCentralWidget(splitter)
        self.shots.currentRowChanged.connect(self._show_shot)
        self._build_menus()
        self.refresh()
        self.resize(1200, 720)

        self._autosave = QTimer(self, interval=AUTOSAVE_MS, timeout=self.autosave)
        self._autosave.start()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        save = QAction("&Save", self, shortcut=QKeySequence.Save, triggered=self.save)
        quit_ = QAction("&Quit", self, shortcut=QKeySequence.Quit, triggered=self.close)
        file_menu.addActions([save, quit_])
        edit_menu = self.menuBar().addMenu("&Edit")
        undo = QAction("&Undo", self, shortcut=QKeySequence.Undo, triggered=self._undo)
        redo = QAction("&Redo", self, shortcut=QKeySequence.Redo, triggered=self._redo)
        edit_menu.addActions([undo, redo])

    def _undo(self) -> None:
        self.undo_stack.undo()
        self.refresh()

    def _redo(self) -> None:
        self.undo_stack.redo()
        self.refresh()

    def refresh(self) -> None:
        row = max(0, self.shots.currentRow())
        self.shots.clear()
        for i, shot in enumerate(self.project.shots, 1):
            status = "done" if shot.current_take else "not rendered"
            move = describe(shot.camera, shot.duration)
            text = f"{i}. {shot.title or shot.id}\n{shot.duration:g} s · {move} · {status}"
            QListWidgetItem(text, self.shots)
        if self.project.shots:
            self.shots.setCurrentRow(min(row, len(self.project.shots) - 1))
        self._update_title()

    def _show_shot(self, row: int) -> None:
        if not 0 <= row < len(self.project.shots):
            self.details.clear()
            return
        shot = self.project.shots[row]
        self.details.setPlainText(
            f"{shot.title}\n\nPrompt: {shot.prompt}\nNegative: {shot.negative_prompt}\n"
            f"Seed: {shot.seed}{' (locked)' if shot.seed_locked else ''}\n"
            f"Size: {shot.width}x{shot.height} @ {float(shot.fps):g} fps, {shot.duration:g} s\n"
            f"Model: {shot.model_id}\nCamera: {describe(shot.camera, shot.duration)}\n"
            f"Takes: {len(shot.takes)}\n\n{shot.notes}"
        )

    def _update_title(self) -> None:
        dirty = "" if self.undo_stack.is_clean else " *"
        self.setWindowTitle(f"{self.project.title}{dirty} — Gallop Studio")

    def save(self) -> None:
        try:
            self.session.save(self.project)
        except (OSError, StudioError) as exc:
            QMessageBox.critical(self, "Save failed", f"The project was not saved:\n{exc}")
            return
        self.undo_stack.set_clean()

    def autosave(self) -> None:
        if not self.undo_stack.is_clean:
            self.session.autosave(self.project)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        if not self.undo_stack.is_clean:
            answer = QMessageBox.question(
                self,
                "Unsaved changes",
                "Save changes before closing?",
                QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
            )
            if answer == QMessageBox.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.Save:
                self.save()
        self.session.close()
        event.accept()


def open_project(folder: Path, parent=None) -> Project:
    """Load a project, offering a crash's autosave first; nothing overwrites without asking."""
    recovery = find_recovery(folder)
    if recovery is not None:
        answer = QMessageBox.question(
            parent,
            "Recover unsaved work?",
            f"{folder.name} was not closed cleanly. Restore the autosave? "
            "The saved project stays as it is until you save.",
        )
        if answer == QMessageBox.Yes:
            return load_recovery(recovery)
    return load_project(folder)


def run_studio(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="gallop", description="Gallop Studio")
    parser.add_argument("project", nargs="?", type=Path, help="a Name.gallop project folder")
    parser.add_argument("--new", action="store_true", help="create an empty project at PATH")
    args = parser.parse_args(argv)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Gallop Studio")
    apply_dark_theme(app)
    try:
        if args.new:
            folder = args.project or Path.cwd() / "Untitled.gallop"
            create_project(folder)
        else:
            folder = args.project or user_example_copy()
        # Look for a crash's autosave before taking the lock ourselves.
        project = open_project(folder)
        session = ProjectSession(folder)
    except (OSError, StudioError) as exc:
        QMessageBox.critical(None, "Cannot open project", str(exc))
        return 3
    window = StudioWindow(project, session)
    window.show()
    return app.exec()
