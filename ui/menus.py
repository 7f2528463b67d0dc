"""The studio window's actions, with their shortcuts, and its menu bar: File, Edit, Render,
Playback, View and Help. `StudioWindow` builds them through `WindowMenus`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox

from ui.identity import open_log_folder


class WindowMenus:
    """The actions and menus of `StudioWindow` (`_build_actions`, `_build_menus`)."""

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcuts(
                shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)]
            )
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda *_: slot())
        self.addAction(action)  # shortcuts work wherever focus is in the window
        return action

    def _build_actions(self) -> None:
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
        self.act_prefs = a("&Preferences…", self.preferences, QKeySequence.Preferences)
        self.act_quit = a("&Quit", self.close, QKeySequence.Quit)

        self.act_undo = self.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QKeySequence.Undo)
        self.act_redo = self.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence.Redo, QKeySequence("Ctrl+Shift+Z")])
        self.addActions([self.act_undo, self.act_redo])
        self.act_add = a("&Add shot", self.storyboard.add_shot, "Ctrl+T")
        self.act_dup = a("&Duplicate shot", self.storyboard.duplicate_selected, "Ctrl+D")
        # Delete belongs to the focused panel (shots, clips, takes, jobs, keyframes); the
        # menu entry shows the key and acts on the storyboard or the timeline.
        self.act_delete = a("&Delete", self.delete, QKeySequence.Delete)
        self.act_delete.setShortcutContext(Qt.WidgetShortcut)

        self.act_render = a(
            "&Render shot",
            self.prompt_panel.request_render,
            [QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")],
            "Render the current shot (with the Shot panel's variations)",
        )
        self.act_render_all = a("Render &all shots", self.render_all, "Ctrl+Shift+Return")
        self.act_variations = a("Render &variations…", self.render_variations)
        self.act_cancel_all = a("&Cancel all renders", self.bridge.cancel_all)

        self.act_play = a("&Play / pause", self.player.toggle_play, Qt.Key_Space)
        self.act_j = a("Shuttle &back (J)", lambda: self.player.shuttle(-1), Qt.Key_J)
        self.act_k = a("&Stop (K)", lambda: self.player.shuttle(0), Qt.Key_K)
        self.act_l = a("Shuttle &forward (L)", lambda: self.player.shuttle(1), Qt.Key_L)
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

        render_menu = bar.addMenu("&Render")
        render_menu.addActions(
            [self.act_render, self.act_render_all, self.act_variations, self.act_cancel_all]
        )

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

    def _show_shortcuts(self) -> None:
        lines = []
        for action in self.actions():
            keys = ", ".join(s.toString(QKeySequence.NativeText) for s in action.shortcuts())
            if keys:
                lines.append(f"{action.text().replace('&', '')}: {keys}")
        QMessageBox.information(self, "Shortcuts", "\n".join(sorted(lines)))
