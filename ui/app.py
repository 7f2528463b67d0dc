"""The composition root of the studio window: builds the document, the engine bridge and
the panels, and wires menus and shortcuts (`ui.menus`), settings and the project's life.

`gallop` opens the bundled example (copied to the user's data folder so the bundled one
stays pristine), `gallop PATH` a project folder, `gallop --new [PATH]` an empty project.
`gallop --screenshot` saves a grab once the window has settled (`ui.system.settle`). torch and
diffusers are not imported here: the engine thread loads them on first use.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from studio.errors import StudioError
from studio.project.io import ProjectSession, create_project, load_project
from studio.project.model import Project
from ui.bridge import EngineBridge
from ui.dialogs.export_dialog import ExportDialog
from ui.dialogs.preferences import PreferencesDialog, engine_factory_from_settings, show_test_models
from ui.document import Document
from ui.menus import WindowMenus
from ui.project_life import (
    app_settings,
    load_offering_recovery,
    save_project_as,
    user_example_copy,
)
from ui.system.identity import set_up_application, start_logging
from ui.system.qt_runtime import (
    freeze_settled_objects,
    hold_loaded_objects,
    release_held_objects,
)
from ui.system.settle import (
    SCREENSHOT_LIMIT_S,
    SCREENSHOT_QUIET_MS,
    SCREENSHOT_TICK_MS,
    run_until_settled,
    screenshot_when_settled,
)
from ui.timeline.audio_panel import AudioClipPanel, choose_and_import_audio
from ui.widgets.job_notice import JobNotifier
from ui.widgets.theme import apply_dark_theme
from ui.widgets.thumbnails import ThumbnailCache

AUTOSAVE_MS = 60_000
MAX_RECENT = 8
SETTLE_MS = 500  # after the window shows, before its objects are frozen (qt_runtime)
LAYOUT_VERSION = 1

# The wait for the window to settle lives in ui.system.settle and the menus in ui.menus; callers
# and tests import these names from here too.
__all__ = [
    "AUTOSAVE_MS",
    "LAYOUT_VERSION",
    "MAX_RECENT",
    "SCREENSHOT_LIMIT_S",
    "SCREENSHOT_QUIET_MS",
    "SCREENSHOT_TICK_MS",
    "SETTLE_MS",
    "StudioWindow",
    "apply_dark_theme",
    "gallop_folder",
    "open_window",
    "run_studio",
    "run_until_settled",
    "screenshot_when_settled",
]


class StudioWindow(QMainWindow, WindowMenus):
    """The studio: storyboard, prompt and camera panels, player, takes, queue, timeline."""

    def __init__(
        self,
        project: Project,
        session: ProjectSession,
        *,
        settings: QSettings | None = None,
        engine_factory=None,
        recovered: bool = False,
    ) -> None:
        super().__init__()
        self.settings = settings if settings is not None else app_settings()
        self.document = Document(project, session.folder, session, parent=self)
        self.bridge = EngineBridge(
            self.document,
            engine_factory or engine_factory_from_settings(self.settings),
            parent=self,
        )
        self.thumbnails = ThumbnailCache(parent=self)
        self._closing_confirmed = False
        self._build_panels()
        self._build_actions()
        self._build_menus()
        self.prompt_panel.set_show_test_models(show_test_models(self.settings))
        # Long renders and exports that end while the window is in the background say so.
        self.job_notice = JobNotifier(self)
        self.job_notice.watch_bridge(self.bridge)
        self.statusBar().showMessage("Ready", 3000)
        self.document.cleanChanged.connect(self._update_title)
        self.document.projectSettingsChanged.connect(self._update_title)
        self.document.currentShotChanged.connect(self._show_current_take)
        self.bridge.jobFailed.connect(self._job_failed)
        self.bridge.jobFinished.connect(self._job_finished)
        self.player.notice.connect(lambda text: self.statusBar().showMessage(text, 8000))
        if recovered:
            # The autosave differs from the saved project until the user saves it.
            self.document.undo_stack.resetClean()
        self._update_title()
        self._restore_layout()
        self._show_current_take(self.document.current_shot_id)
        self._remember_recent(session.folder)

        self._autosave = QTimer(self, interval=AUTOSAVE_MS, timeout=self.autosave)
        self._autosave.start()

    # -- accessors kept short for tests and other callers ------------------------------
    @property
    def project(self) -> Project:
        return self.document.project

    @property
    def session(self) -> ProjectSession:
        return self.document.session

    @property
    def undo_stack(self):
        return self.document.undo_stack

    # -- panels ------------------------------------------------------------------------
    def _build_panels(self) -> None:
        from ui.camera.camera_panel import CameraPanel
        from ui.player.player import PlayerPanel
        from ui.queue.render_queue import RenderQueuePanel
        from ui.shot.prompt_panel import PromptPanel
        from ui.storyboard.storyboard import StoryboardPanel
        from ui.takes.takes_panel import TakesPanel
        from ui.timeline.timeline_view import TimelinePanel

        doc, bridge, thumbs = self.document, self.bridge, self.thumbnails
        self.player = PlayerPanel(doc)
        self.setCentralWidget(self.player)
        self.storyboard = StoryboardPanel(doc, bridge, thumbs)
        self.prompt_panel = PromptPanel(doc, bridge)
        self.camera_panel = CameraPanel(doc, defer_previz=True)
        self.takes_panel = TakesPanel(doc, bridge, thumbs)
        self.queue_panel = RenderQueuePanel(bridge)
        self.timeline = TimelinePanel(doc, thumbs)
        self.sound_panel = AudioClipPanel(doc)

        self.docks: dict[str, QDockWidget] = {}
        left, right, bottom = (
            Qt.LeftDockWidgetArea,
            Qt.RightDockWidgetArea,
            Qt.BottomDockWidgetArea,
        )
        self._dock("storyboard", "Storyboard", self.storyboard, left)
        self._dock("takes", "Takes", self.takes_panel, left)
        self._dock("queue", "Render queue", self.queue_panel, left)
        self._dock("prompt", "Shot", self.prompt_panel, right)
        self._dock("camera", "Camera", self.camera_panel, right)
        self._dock("timeline", "Timeline", self.timeline, bottom)
        self._dock("sound", "Sound", self.sound_panel, left)
        self.splitDockWidget(self.docks["storyboard"], self.docks["takes"], Qt.Vertical)
        self.tabifyDockWidget(self.docks["takes"], self.docks["queue"])
        self.tabifyDockWidget(self.docks["queue"], self.docks["sound"])
        self.splitDockWidget(self.docks["prompt"], self.docks["camera"], Qt.Vertical)
        self.docks["takes"].raise_()
        for corner, area in (
            (Qt.TopLeftCorner, left),
            (Qt.BottomLeftCorner, left),
            (Qt.TopRightCorner, right),
            (Qt.BottomRightCorner, right),
        ):
            self.setCorner(corner, area)
        self.setDockOptions(
            QMainWindow.AnimatedDocks | QMainWindow.AllowTabbedDocks | QMainWindow.AllowNestedDocks
        )
        self.resize(1440, 900)
        self.resizeDocks(
            [self.docks["storyboard"], self.docks["prompt"]], [330, 400], Qt.Horizontal
        )
        self.resizeDocks([self.docks["storyboard"], self.docks["takes"]], [520, 300], Qt.Vertical)
        self.resizeDocks([self.docks["prompt"], self.docks["camera"]], [380, 480], Qt.Vertical)
        self.resizeDocks([self.docks["timeline"]], [220], Qt.Vertical)

        self.prompt_panel.renderRequested.connect(self.render_current)
        self.storyboard.renderRequested.connect(self.render_shots)
        self.timeline.playheadMoved.connect(self._timeline_seek)
        self.timeline.audioClipSelected.connect(self._show_sound)
        self.timeline.shotOpened.connect(lambda _shot: self._raise_docks("storyboard", "prompt"))
        self.timeline.takeRevealed.connect(self._reveal_take)
        self.timeline.clipSelected.connect(lambda _shot: self.sound_panel.clear())
        self.timeline.view.playheadChanged.connect(self.sound_panel.set_playhead)
        self.sound_panel.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.player.positionChanged.connect(self._player_moved)

    def _dock(self, name: str, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{name}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetMovable
            | QDockWidget.DockWidgetFloatable
            | QDockWidget.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    # -- layout and settings -----------------------------------------------------------
    def _restore_layout(self) -> None:
        self._default_state = self.saveState(LAYOUT_VERSION)
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray | bytes):
            self.restoreState(state, LAYOUT_VERSION)

    def _save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        self.settings.sync()

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, LAYOUT_VERSION)
        for dock in self.docks.values():
            dock.show()

    def recent_projects(self) -> list[str]:
        value = self.settings.value("recent", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [p for p in items if (Path(p) / "project.json").exists()]

    def _remember_recent(self, folder: Path) -> None:
        path = str(Path(folder).resolve())
        items = [p for p in self.recent_projects() if p != path]
        self.settings.setValue("recent", [path, *items][:MAX_RECENT])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        items = self.recent_projects()
        for path in items:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(Path(p)))
        if not items:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def _update_title(self, *_args) -> None:
        self.setWindowTitle(f"{self.project.title}[*] — Gallop Studio")
        self.setWindowModified(not self.document.is_clean)

    # -- editing -----------------------------------------------------------------------
    def delete(self) -> None:
        """Delete what has focus: clips in the timeline, takes, jobs; shots elsewhere."""
        focus = QApplication.focusWidget()

        def within(panel: QWidget) -> bool:
            return focus is not None and (focus is panel or panel.isAncestorOf(focus))

        if within(self.timeline):
            self.timeline.view.ripple_delete()
        elif within(self.takes_panel):
            self.takes_panel.discard()
        elif within(self.queue_panel):
            self.queue_panel.cancel_or_remove()
        else:
            self.storyboard.delete_selected()

    # -- rendering ---------------------------------------------------------------------
    def render_current(self, variations: int = 1) -> None:
        shot_id = self.document.current_shot_id
        if not shot_id:
            self.statusBar().showMessage("Select a shot to render", 4000)
            return
        self.render_shots([shot_id], variations=variations)

    def render_all(self) -> None:
        """Render what needs it (`EngineBridge.render_shots`): a rendered or queued shot
        adds no job; a chained shot waits for the take of the shot it continues from."""
        batch = self.bridge.render_shots([s.id for s in self.project.shots])
        self.statusBar().showMessage(batch.summary(len(self.project.shots)), 8000)
        if batch.problems:
            QMessageBox.warning(self, "Cannot render", "\n".join(batch.problems))
        elif batch.jobs:
            self.docks["queue"].raise_()

    def render_variations(self) -> None:
        n, ok = QInputDialog.getInt(self, "Render variations", "Number of seeds:", 4, 2, 16)
        if ok:
            self.render_current(n)

    def render_shots(self, shot_ids: list[str], variations: int = 1) -> None:
        problems = []
        for shot_id in shot_ids:
            try:
                self.bridge.render_shot(shot_id, variations=variations)
            except (StudioError, OSError) as exc:
                shot = self.project.shot(shot_id)
                problems.append(f"{shot.title if shot else shot_id}: {exc}")
        if problems:
            QMessageBox.warning(self, "Cannot render", "\n".join(problems))
        elif shot_ids:
            self.docks["queue"].raise_()

    def _job_failed(self, job_id: str, message: str) -> None:
        info = self.bridge.jobs.get(job_id)
        label = info.label if info else job_id
        self.statusBar().showMessage(f"Render of {label} failed: {message}", 10_000)

    def _job_finished(self, job_id: str, _take_id: str) -> None:
        info = self.bridge.jobs.get(job_id)
        if info is not None and info.shot_id == self.document.current_shot_id:
            # On a pass of the event loop of its own: the take's arrival already repaints
            # cards, queue and timeline, and opening it in the player need not add to that.
            shot_id = info.shot_id
            self.document.later.call(
                "open take", lambda: self._show_current_take(shot_id), owner=self
            )

    # -- sound and export --------------------------------------------------------------
    def import_sound(self) -> None:
        choose_and_import_audio(self, self.document, self.timeline.view.playhead)

    def _show_sound(self, track_id: str, clip_id: str) -> None:
        self.sound_panel.show_clip(track_id, clip_id)
        self.docks["sound"].show()
        self.docks["sound"].raise_()

    def _raise_docks(self, *names: str) -> None:
        for name in names:
            self.docks[name].show()
            self.docks[name].raise_()

    def _reveal_take(self, _shot_id: str, take_id: str) -> None:
        """A clip's "Reveal take": the Takes panel, showing the clip's shot, selects it."""
        self._raise_docks("takes")
        self.takes_panel.select_takes([take_id])

    def export_film(self) -> None:
        dialog = ExportDialog(self.document, self, settings=self.settings)
        self.job_notice.watch_export(dialog, self.project.title)
        dialog.exportFinished.connect(
            lambda path: self.statusBar().showMessage(f"Exported {path}", 10_000)
        )
        dialog.open()

    # -- player and timeline -----------------------------------------------------------
    def _show_current_take(self, shot_id: str) -> None:
        if shot_id and self.player.mode == "take":
            self.player.show_take(shot_id)

    def _show_current_take_now(self) -> None:
        if self.document.current_shot_id:
            self.player.show_take(self.document.current_shot_id)

    def _timeline_seek(self, frame: int) -> None:
        if self.player.mode != "sequence":
            self.player.show_sequence()
        self.player.seek(frame)

    def _player_moved(self, frame: int) -> None:
        if self.player.mode == "sequence":
            self.timeline.set_playhead(frame)

    # -- project life ------------------------------------------------------------------
    def save(self) -> bool:
        try:
            self.session.save(self.project)
        except (OSError, StudioError) as exc:
            QMessageBox.critical(self, "Save failed", f"The project was not saved:\n{exc}")
            return False
        self.document.set_clean()
        self.statusBar().showMessage(f"Saved {self.session.folder}", 4000)
        return True

    def save_as(self) -> None:
        target, _ = QFileDialog.getSaveFileName(
            self, "Save project as", str(self.session.folder.parent / "Copy.gallop"), "*.gallop"
        )
        if not target:
            return
        folder = gallop_folder(target)
        try:
            save_project_as(self.project, self.session.folder, folder)
        except (OSError, StudioError) as exc:
            QMessageBox.critical(self, "Save as failed", str(exc))
            return
        self.document.set_clean()  # the old folder's edits now live in the copy
        self._switch_to(folder, ask=False)

    def autosave(self) -> None:
        if not self.document.is_clean:
            try:
                self.session.autosave(self.project)
            except (OSError, StudioError) as exc:
                self.statusBar().showMessage(f"Autosave failed: {exc}", 10_000)

    def new_project(self) -> None:
        target, _ = QFileDialog.getSaveFileName(
            self, "New project", str(Path.home() / "Untitled.gallop"), "*.gallop"
        )
        if not target:
            return
        folder = gallop_folder(target)
        try:
            create_project(folder, Project(title=folder.stem))
        except (OSError, StudioError) as exc:
            QMessageBox.critical(self, "Cannot create project", str(exc))
            return
        self._switch_to(folder)

    def open_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Open a .gallop project folder", str(self.session.folder.parent)
        )
        if folder:
            self.open_path(Path(folder))

    def open_path(self, folder: Path) -> None:
        self._switch_to(folder)

    def import_script(self) -> None:
        """Storyboard a screenplay or prose into a new project and open it. The script is
        chosen starting in this project's folder; the new project goes beside the script,
        or beside this project when the script lies inside it (never one in another)."""
        script, _ = QFileDialog.getOpenFileName(
            self,
            "Import a script",
            str(self.session.folder),
            "Scripts (*.fountain *.spmd *.txt *.md)",
        )
        if not script:
            return
        default = Path(script).with_suffix(".gallop")
        if Path(script).resolve().is_relative_to(self.session.folder.resolve()):
            default = self.session.folder.parent / default.name
        target, _ = QFileDialog.getSaveFileName(self, "New project from the script", str(default))
        if not target:
            return
        from engine.script_import import plan_project

        folder = gallop_folder(target)
        try:
            plan_project(Path(script), folder)
        except (OSError, StudioError) as exc:
            QMessageBox.critical(self, "Cannot import the script", str(exc))
            return
        self._switch_to(folder)

    def _switch_to(self, folder: Path, ask: bool = True) -> None:
        """Open another project in a new window, then close this one."""
        if ask and not self._confirm_close():
            return
        try:
            window = open_window(folder, self, settings=self.settings)
        except (OSError, StudioError) as exc:
            QMessageBox.critical(self, "Cannot open project", str(exc))
            return
        if window is None:
            return
        self._save_layout()
        self._closing_confirmed = True
        window.show()
        self.close()

    def preferences(self) -> None:
        dialog = PreferencesDialog(self.settings, self)
        if dialog.exec():
            if self.bridge.busy:
                QMessageBox.information(
                    self,
                    "Preferences",
                    "Renders already queued finish where they are; new renders use the "
                    "new setting.",
                )
            self.bridge.set_engine_factory(engine_factory_from_settings(self.settings))
            self.prompt_panel.set_show_test_models(show_test_models(self.settings))

    def _confirm_close(self) -> bool:
        """Ask about unsaved changes and running renders; True when closing may go on."""
        if not self.document.is_clean:
            answer = QMessageBox.question(
                self,
                "Unsaved changes",
                f"Save changes to {self.project.title} before closing?",
                QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
            )
            if answer == QMessageBox.Cancel:
                return False
            if answer == QMessageBox.Save and not self.save():
                return False
        if self.bridge.busy:
            running = sum(1 for job in self.bridge.jobs.values() if job.active)
            answer = QMessageBox.question(
                self,
                "Renders running",
                f"{running} render(s) are queued or running. Cancel them and close?",
                QMessageBox.Yes | QMessageBox.No,
            )
            if answer != QMessageBox.Yes:
                return False
        return True

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        # Once the first paint is done, the objects made so far stay: freeze them.
        QTimer.singleShot(SETTLE_MS, self, freeze_settled_objects)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        if not self._closing_confirmed and not self._confirm_close():
            event.ignore()
            return
        self._autosave.stop()
        self._save_layout()
        self.player.close()
        self.bridge.shutdown()
        self.thumbnails.wait(5000)
        self.session.close()
        release_held_objects()  # what this project leaves behind is collected again
        event.accept()


def gallop_folder(target: str) -> Path:
    """A path the user typed, as a project folder name ending in .gallop."""
    folder = Path(target)
    return folder if folder.suffix == ".gallop" else folder.with_suffix(".gallop")


def open_window(
    folder: Path,
    parent: QWidget | None = None,
    *,
    settings: QSettings | None = None,
    engine_factory=None,
) -> StudioWindow | None:
    """Open a project folder in a new window, offering a crash's autosave first; the
    saved project is never overwritten without the user saving."""
    loaded = load_offering_recovery(folder, parent)
    if loaded is None:
        return None
    project, recovered = loaded
    hold_loaded_objects()  # out of the collector's sight while the window is built and used
    session = ProjectSession(folder)
    return StudioWindow(
        project, session, settings=settings, engine_factory=engine_factory, recovered=recovered
    )


def run_studio(args: argparse.Namespace) -> int:
    """Open the window as the command line asks (`engine.cli`: `project`, `new`,
    `screenshot`) and run it; the exit code."""
    screenshot = getattr(args, "screenshot", None)
    # First, so that Qt's messages from its start are logged too.
    start_logging(getattr(args, "verbosity", 0))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    set_up_application(app)
    apply_dark_theme(app)
    try:
        if args.new:
            folder = args.project or Path.cwd() / "Untitled.gallop"
            create_project(folder, Project(title=folder.stem))
        else:
            folder = args.project or user_example_copy()
        window = open_window(folder) if screenshot is None else _unattended_window(folder)
    except (OSError, StudioError) as exc:
        if screenshot is not None:  # nobody is there to close a message box
            print(f"gallop: cannot open project: {exc}", file=sys.stderr)
        else:
            QMessageBox.critical(None, "Cannot open project", str(exc))
        return 3
    if window is None:
        return 0
    window.show()
    if screenshot is not None:
        return screenshot_when_settled(app, window, screenshot)
    return app.exec()


def _unattended_window(folder: Path) -> StudioWindow:
    """A window nobody answers: the saved project (no offer of an autosave), with settings
    of its own, so that the layout is the default one and the user's stays as it is."""
    import tempfile

    scratch = tempfile.TemporaryDirectory(prefix="gallop-screenshot-")  # gone at exit
    settings = QSettings(str(Path(scratch.name) / "settings.ini"), QSettings.IniFormat)
    window = StudioWindow(load_project(folder), ProjectSession(folder), settings=settings)
    window._scratch = scratch  # noqa: SLF001 - kept as long as the window
    return window
