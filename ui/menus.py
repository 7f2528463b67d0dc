"""The studio window's actions, with their shortcuts, and its menu bar: File, Edit, Render,
Playback, View and Help, and the History dock beside undo and redo. `StudioWindow` builds
them through `WindowMenus`.

Each action's keys come from `ui.widgets.shortcuts.shortcut_keys`, so no key is bound twice
(Qt runs neither binding of an ambiguous key), and Help > Shortcuts lists the actions and
the panels' own keys from the same sources.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle, QUndoView

from ui.dialogs.preferences import show_test_models
from ui.dialogs.shortcuts_dialog import ShortcutsDialog
from ui.system.identity import open_log_folder
from ui.widgets.shortcuts import Section, shortcut_keys, shortcut_sections


class WindowMenus:
    """The actions and menus of `StudioWindow` (`_build_actions`, `_build_menus`)."""

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        """`shortcut`: a key, a standard key (all of its bindings here) or a list of them."""
        action = QAction(text, self)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts(shortcut_keys(*keys))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda *_: slot())
        self.addAction(action)  # shortcuts work wherever focus is in the window
        return action

    def _build_history(self) -> None:
        """The History dock: every edit of every panel in order, the saved one marked;
        clicking one undoes or redoes to it. Tabbed with takes, queue and sound."""
        self.history = QUndoView(self.undo_stack)
        self.history.setEmptyLabel("Project opened")
        self.history.setCleanIcon(self.style().standardIcon(QStyle.SP_DialogSaveButton))
        self.history.setToolTip("Click an edit to go back (or forward) to it")
        self._dock("history", "History", self.history, Qt.LeftDockWidgetArea)
        self.tabifyDockWidget(self.docks["sound"], self.docks["history"])
        self.docks["takes"].raise_()

    def _build_actions(self) -> None:
        self._build_history()  # its dock is in the View menu with the others
        a = self._action
        self.act_new = a("&New project…", self.new_project, QKeySequence.New)
        self.act_open = a("&Open project…", self.open_dialog, QKeySequence.Open)
        self.act_save = a("&Save", self.save, QKeySequence.Save)
        self.act_save_as = a("Save &as…", self.save_as, QKeySequence.SaveAs)
        self.act_import = a("&Import script…", self.import_script, tip="Fountain or prose")
        self.act_import_sound = a(
            "Import &sound…", self.import_sound, "Ctrl+Shift+I", "Music or voice-over"
        )
        self.act_export = a("&Export film…", self.export_film, "Ctrl+E", "Film and edit")
        # Some systems bind no key to these standard ones: the extras hold everywhere.
        self.act_prefs = a("&Preferences…", self.preferences, [QKeySequence.Preferences, "Ctrl+,"])
        self.act_quit = a("&Quit", self.close, [QKeySequence.Quit, "Ctrl+Q"])

        # Their text names the command ("Undo Edit prompt of The ship"); the list of
        # shortcuts names them by what they are.
        self.act_undo = self.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcuts(shortcut_keys(QKeySequence.Undo, "Ctrl+Z"))
        self.act_undo.setProperty("shortcutLabel", "Undo")
        self.act_redo = self.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts(shortcut_keys(QKeySequence.Redo, "Ctrl+Shift+Z", "Ctrl+Y"))
        self.act_redo.setProperty("shortcutLabel", "Redo")
        self.addActions([self.act_undo, self.act_redo])
        self.act_add = a("&Add shot", self.storyboard.add_shot, "Ctrl+T")
        self.act_dup = a("&Duplicate shot", self.storyboard.duplicate_selected, "Ctrl+D")
        # Delete belongs to the focused panel (shots, clips, takes, jobs, keyframes); the
        # menu entry shows the key and acts on the storyboard or the timeline. Del alone:
        # some systems bind the standard Delete to Ctrl+D too, which duplicates here.
        self.act_delete = a("&Delete", self.delete, "Del")
        self.act_delete.setShortcutContext(Qt.WidgetShortcut)
        self.act_bible = a(
            "C&haracters and styles…",
            self.show_bible_editor,
            "Ctrl+Shift+B",
            "The bible: characters and styles, their descriptions, pictures and LoRAs",
        )
        self.prompt_panel.bible_button.clicked.connect(lambda *_: self.show_bible_editor())
        self.bible_editor = None  # made the first time it is asked for

        self.act_render = a(
            "&Render shot",
            self.prompt_panel.request_render,
            [QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")],
            "Render the current shot (with the Shot panel's variations)",
        )
        self.act_render_all = a("Render &all shots", self.render_all, "Ctrl+Shift+Return")
        self.act_variations = a("Render &variations…", self.render_variations)
        self.act_cancel_all = a("&Cancel all renders", self.bridge.cancel_all)
        self.act_models = a(
            "&Models…", self.show_model_manager, tip="Download, check and delete models"
        )
        self.prompt_panel.models_button.clicked.connect(lambda *_: self.show_model_manager())
        # After Preferences (which may move the models folder): look for the models again.
        self.act_prefs.triggered.connect(lambda *_: self._models_folder_may_have_moved())
        self.model_manager = None  # made the first time it is asked for

        self.act_play = a("&Play / pause", self.player.toggle_play, Qt.Key_Space)
        self.act_j = a("Shuttle &back", lambda: self.player.shuttle(-1), Qt.Key_J)
        self.act_k = a("&Stop", lambda: self.player.shuttle(0), Qt.Key_K)
        self.act_l = a("Shuttle &forward", lambda: self.player.shuttle(1), Qt.Key_L)
        self.act_in = a("Mark &in", self.player.mark_in, Qt.Key_I)
        self.act_out = a("Mark &out", self.player.mark_out, Qt.Key_O)
        self.act_prev = a("Previous frame", lambda: self.player.step(-1), Qt.Key_Comma)
        self.act_next = a("Next frame", lambda: self.player.step(1), Qt.Key_Period)
        self.act_sequence = a("Play the &sequence", self.player.show_sequence, "Ctrl+Shift+P")
        self.act_take = a("Play the shot's &take", self._show_current_take_now, "Ctrl+P")
        self.act_reset_layout = a("&Reset layout", self.reset_layout)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.act_new, self.act_open])
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        file_menu.addActions([self.act_save, self.act_save_as])
        file_menu.addSeparator()
        file_menu.addActions([self.act_import, self.act_import_sound])
        file_menu.addAction(self.act_export)
        file_menu.addSeparator()
        file_menu.addActions([self.act_prefs, self.act_quit])

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.act_undo, self.act_redo])
        edit_menu.addSeparator()
        edit_menu.addActions([self.act_add, self.act_dup, self.act_delete])
        edit_menu.addSeparator()
        edit_menu.addAction(self.act_bible)

        render_menu = bar.addMenu("&Render")
        render_menu.addActions(
            [self.act_render, self.act_render_all, self.act_variations, self.act_cancel_all]
        )
        render_menu.addSeparator()
        render_menu.addAction(self.act_models)

        play_menu = bar.addMenu("&Playback")
        play_menu.addActions([self.act_play, self.act_j, self.act_k, self.act_l])
        play_menu.addSeparator()
        play_menu.addActions([self.act_prev, self.act_next, self.act_in, self.act_out])
        play_menu.addSeparator()
        play_menu.addActions([self.act_take, self.act_sequence])

        view_menu = bar.addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        view_menu.addAction(self.act_reset_layout)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(QAction("&Shortcuts", self, triggered=self._show_shortcuts))
        self.act_open_logs = help_menu.addAction("Open &log folder")
        self.act_open_logs.setStatusTip("The window's and the engine's log files")
        self.act_open_logs.triggered.connect(lambda *_: open_log_folder(self))

    def shortcut_sections(self) -> list[Section]:
        """Help > Shortcuts: the menus' keys, then each panel's (dock titles, the player)."""
        menus = [a.menu() for a in self.menuBar().actions() if a.menu() is not None]
        panels = {dock.windowTitle(): dock.widget() for dock in self.docks.values()}
        panels["Player"] = self.player
        panels["Characters and styles"] = self._bible_editor()
        return shortcut_sections(menus, panels)

    def _bible_editor(self):
        if self.bible_editor is None:
            from ui.shot.bible_editor import BibleEditor

            self.bible_editor = BibleEditor(self.document, self)
        return self.bible_editor

    def show_bible_editor(self) -> None:
        """The Characters and styles window, showing the current shot's style (or its
        first character) when the shot has one."""
        editor = self._bible_editor()
        shot = self.document.current_shot
        if shot is not None and not editor.isVisible():
            project = self.document.project
            shown = project.style(shot.style) or next(
                (project.character(c) for c in shot.characters if project.character(c)), None
            )
            if shown is not None:
                editor.refresh()
                editor.select(shown)
        editor.show()
        editor.raise_()
        editor.activateWindow()

    def show_model_manager(self) -> None:
        """The Models window, showing the current shot's model. Its downloads belong to
        the window (`model_tasks`): they go on while it is closed, and each one that
        ends makes the shot panel look for the models again."""
        if self.model_manager is None:
            from ui.dialogs.model_manager import ModelManager
            from ui.dialogs.model_tasks import ModelTasks

            self.model_tasks = ModelTasks(self)
            self.model_tasks.modelsChanged.connect(self.prompt_panel.refresh_availability)
            self.model_manager = ModelManager(
                self.model_tasks, test_models=show_test_models(self.settings), parent=self
            )
        self.model_manager.set_test_models(show_test_models(self.settings))
        shot = self.document.current_shot
        if shot is not None:
            self.model_manager.select(shot.model_id)
        self.model_manager.show()
        self.model_manager.raise_()
        self.model_manager.activateWindow()

    def _models_folder_may_have_moved(self) -> None:
        self.prompt_panel.refresh_availability()
        if self.model_manager is not None:
            self.model_manager.refresh()

    def _show_shortcuts(self) -> None:
        self.shortcuts_dialog = ShortcutsDialog(self.shortcut_sections(), self)
        self.shortcuts_dialog.setAttribute(Qt.WA_DeleteOnClose)
        self.shortcuts_dialog.open()
