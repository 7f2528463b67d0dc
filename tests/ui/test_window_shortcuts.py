"""The window's keys: no key bound twice, redo on Ctrl+Shift+Z and Ctrl+Y, Help > Shortcuts
built from the actions and the panels' declared keys, each panel handling exactly the keys
it declares, and the History dock over the undo stack."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QSettings, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtTest import QTest

from engine.media.video import write_video
from studio.camera.easing import Keyframe
from studio.commands import SetAttribute, set_field
from studio.project.io import ProjectSession, copy_project, load_project
from tests.ui.shortcut_check import clashes, live_keys
from ui.app import StudioWindow
from ui.takes.take_compare import TakeCompareView
from ui.undo import history_text
from ui.widgets.shortcuts import PANEL_KEYS, shortcut_keys

EXAMPLE = Path(__file__).resolve().parents[2] / "assets" / "examples" / "Lighthouse.gallop"

# Plain keys a panel might read: none may act unless the panel declares it in PANEL_KEYS
# (or the window binds it, which takes it first).
PLAIN_KEYS = (
    [getattr(Qt, f"Key_{c}") for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"]
    + [getattr(Qt, f"Key_F{n}") for n in range(1, 13)]
    + [
        Qt.Key_Space, Qt.Key_Return, Qt.Key_Enter, Qt.Key_Escape, Qt.Key_Backspace,
        Qt.Key_Delete, Qt.Key_Insert, Qt.Key_Home, Qt.Key_End, Qt.Key_PageUp,
        Qt.Key_PageDown, Qt.Key_Left, Qt.Key_Right, Qt.Key_Up, Qt.Key_Down, Qt.Key_Plus,
        Qt.Key_Minus, Qt.Key_Equal, Qt.Key_Backslash, Qt.Key_Comma, Qt.Key_Period,
        Qt.Key_Slash, Qt.Key_Semicolon, Qt.Key_Apostrophe, Qt.Key_BracketLeft,
        Qt.Key_BracketRight, Qt.Key_QuoteLeft, Qt.Key_Asterisk,
    ]
)  # fmt: skip


@pytest.fixture
def window(qtbot, tmp_path):
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = StudioWindow(load_project(folder), ProjectSession(folder), settings=settings)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win._closing_confirmed = True
    win.close()


def portable(keys) -> list[str]:
    return [k.toString(QKeySequence.PortableText) for k in keys]


def claims(widget, sequence: str) -> bool:
    """Whether the widget claims the key before the window's shortcuts (it accepts the
    ShortcutOverride event Qt sends the focused widget first)."""
    combo = QKeySequence(sequence)[0]
    event = QKeyEvent(QEvent.ShortcutOverride, combo.key(), combo.keyboardModifiers())
    event.ignore()
    widget.event(event)
    return event.isAccepted()


def press(widget, sequence: str) -> bool:
    """Give the widget one key press of `sequence`; whether it took it (its parents, which
    would get a key it leaves, are not asked)."""
    combo = QKeySequence(sequence)[0]
    event = QKeyEvent(QEvent.KeyPress, combo.key(), combo.keyboardModifiers())
    widget.event(event)
    return event.isAccepted()


# -- the keys of the window's actions ---------------------------------------------------


def test_shortcut_keys_expand_standard_keys_and_list_each_key_once(qapp):
    keys = portable(shortcut_keys(QKeySequence.Redo, "Ctrl+Shift+Z", QKeySequence.Redo, "Ctrl+Y"))
    assert keys[: len(QKeySequence.keyBindings(QKeySequence.Redo))] == portable(
        QKeySequence.keyBindings(QKeySequence.Redo)
    )
    assert keys.count("Ctrl+Shift+Z") == 1 and keys.count("Ctrl+Y") == 1
    assert len(keys) == len(set(keys))
    assert portable(shortcut_keys(Qt.Key_J, "", QKeySequence("Ctrl+T"))) == ["J", "Ctrl+T"]


def test_undo_and_redo_keys_hold_on_every_platform(window):
    assert "Ctrl+Z" in portable(window.act_undo.shortcuts())
    redo = portable(window.act_redo.shortcuts())
    assert "Ctrl+Shift+Z" in redo and "Ctrl+Y" in redo
    assert not set(redo) & set(portable(window.act_undo.shortcuts()))


def test_no_key_is_bound_twice_whatever_has_focus(window):
    # With an edit made, so that undo is enabled too.
    window.document.push(set_field(window.project.shots[0], "prompt", "A squall"))
    assert clashes(window) == []


def test_the_clash_check_finds_a_key_bound_twice(window):
    """The check above can fail: a second action on Ctrl+T, and a key listed twice."""
    extra = QAction("Another add", window)
    extra.setShortcut(QKeySequence("Ctrl+T"))
    window.addAction(extra)
    twice = QAction("Twice", window.timeline.view)
    twice.setShortcuts([QKeySequence("Ctrl+F9"), QKeySequence("Ctrl+F9")])
    twice.setShortcutContext(Qt.WidgetShortcut)
    window.timeline.view.addAction(twice)
    found = clashes(window)
    assert any(p.startswith("Ctrl+T is bound to") and "Another add" in p for p in found)
    assert any("'Twice' lists a key twice" in p for p in found)


# -- Help > Shortcuts -------------------------------------------------------------------


def open_shortcuts(window):
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    next(a for a in help_menu.actions() if a.text() == "&Shortcuts").trigger()
    return window.shortcuts_dialog


def test_help_shortcuts_lists_every_key_once_per_area(qtbot, window):
    window.document.push(set_field(window.project.shots[0], "prompt", "A squall"))
    assert window.act_undo.text().startswith("&Undo Edit prompt")  # names the command
    dialog = open_shortcuts(window)
    qtbot.waitExposed(dialog)
    sections = dict(dialog.sections())
    for area, rows in sections.items():
        keys = [k for row_keys, _ in rows for k in row_keys.split(", ")]
        assert len(keys) == len(set(keys)), f"{area} lists a key twice: {keys}"

    edit = dict((text, keys) for keys, text in sections["Edit"])
    assert [text for _, text in sections["Edit"]].count("Redo") == 1
    assert "Ctrl+Z" in edit["Undo"].split(", ")
    assert {"Ctrl+Shift+Z", "Ctrl+Y"} <= set(edit["Redo"].split(", "))
    every_text = [text for rows in sections.values() for _, text in rows]
    assert not [t for t in every_text if "Edit prompt" in t or "(J)" in t]

    timeline = dict((keys, text) for keys, text in sections["Timeline"])
    assert timeline["S"] == "Split the clip at the playhead"
    assert "Left, Right" in timeline and "Shift+Del, Shift+Backspace" in timeline
    assert ("J", "Shuttle back") in sections["Playback"]
    assert ("Ins", "Add shot") in sections["Storyboard"]
    assert ("C", "Compare") in sections["Takes"]
    assert "Compare takes" in sections and "Player" in sections

    # Every key of every action in the menus and panels is listed.
    listed = {k for rows in sections.values() for keys, _ in rows for k in keys.split(", ")}
    for dock in window.docks.values():
        for action in [*dock.widget().actions(), *window.actions()]:
            for key in action.shortcuts():
                assert key.toString(QKeySequence.NativeText) in listed, action.text()

    dialog.filter.setText("split")
    assert dialog.sections() == [("Timeline", [("S", "Split the clip at the playhead")])]
    dialog.filter.setText("timeline")
    assert dict(dialog.sections())["Timeline"] == sections["Timeline"]
    dialog.close()


# -- the keys the panels handle themselves ------------------------------------------------


def panel_widgets(window, qtbot, tmp_path) -> dict:
    frames = [np.full((48, 64, 3), 30 * i, np.uint8) for i in range(6)]
    a = write_video(tmp_path / "a.mp4", frames, Fraction(24))
    b = write_video(tmp_path / "b.mp4", frames[::-1], Fraction(24))
    compare = TakeCompareView(a, b)
    qtbot.addWidget(compare)
    return {
        "Timeline": window.timeline.view,
        "Player": window.player,
        "Camera": window.camera_panel.curve_editor,
        "Compare takes": compare,
    }


def test_each_panel_handles_the_keys_it_declares_and_no_other_plain_key(qtbot, window, tmp_path):
    widgets = panel_widgets(window, qtbot, tmp_path)
    assert {entry.area for entry in PANEL_KEYS} == set(widgets) | {"Storyboard"}
    window.timeline.view.select("clip-tower")
    for area, widget in widgets.items():
        if area == "Camera":  # keyframes on the curve; Left / Right select one for Up / Down
            widget.set_axis(widget.axis, (Keyframe(0.0, 0.0), Keyframe(1.0, 10.0)))
        window_keys = {k for k in live_keys(window, widget) if not claims(widget, k)}
        declared = set()
        for entry in (e for e in PANEL_KEYS if e.area == area):
            for key in entry.keys:
                name = QKeySequence(key).toString(QKeySequence.PortableText)
                declared.add(name)
                assert name not in window_keys, f"{area}: the window takes {key} first"
                if not entry.when or area == "Camera":  # no timeline drag is made here
                    assert press(widget, key), f"{area} ignores {key} ({entry.text})"
        for key in PLAIN_KEYS:
            name = QKeySequence(key).toString(QKeySequence.PortableText)
            if name not in declared and name not in window_keys:
                assert not press(widget, name), (
                    f"{area} handles {name}: declare it in ui.widgets.shortcuts.PANEL_KEYS"
                )
    widgets["Compare takes"].play(False)
    widgets["Compare takes"].release()


def test_the_storyboard_grid_deletes_with_del_and_backspace(qtbot, window):
    view = window.storyboard.view
    count = len(window.project.shots)
    for key in ("Del", "Backspace"):
        window.storyboard.select_shots([window.project.shots[1].id])
        assert "Del" not in live_keys(window, view)  # the window's Delete entry stays off
        QTest.keyClick(view, QKeySequence(key)[0].key())
    assert len(window.project.shots) == count - 2


# -- the History dock --------------------------------------------------------------------


def test_the_history_dock_is_in_the_view_menu_and_names_each_edit(qtbot, window):
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    toggle = next(a for a in view_menu.actions() if a.text() == "History")
    dock = window.docks["history"]
    assert toggle is dock.toggleViewAction() and toggle.isCheckable()
    toggle.trigger()
    assert dock.isHidden()
    toggle.trigger()
    assert not dock.isHidden()

    shot = window.project.shots[0]
    title = shot.title
    window.document.push(set_field(shot, "prompt", "A squall", merge=True))
    window.document.push(set_field(shot, "title", "Squall"))
    window.document.push(set_field(window.project, "notes", "Shoot at dusk"))
    model = window.history.model()
    texts = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert texts == [
        "Project opened",
        f"Edit prompt of {title}",
        f"Rename {title}",
        "Edit project notes",
    ]
    window.history.setCurrentIndex(model.index(1, 0))  # what a click does
    assert window.undo_stack.index() == 1
    assert shot.prompt == "A squall" and shot.title == title


def test_history_texts_name_what_an_edit_belongs_to(window):
    shot, project = window.project.shots[0], window.project
    assert history_text(set_field(shot, "negative_prompt", "fog")) == (
        f"Edit negative prompt of {shot.title}"
    )
    assert history_text(set_field(shot, "selected_take", None)) == f"Pick take of {shot.title}"
    assert history_text(set_field(project, "title", "Beacon")) == "Rename the project"
    camera = SetAttribute(shot, "camera", shot.camera, text="Camera pan")
    assert history_text(camera) == f"Camera pan on {shot.title}"
    split = SetAttribute(project, "timeline", project.timeline, text="Split clip")
    assert history_text(split) == "Split clip"
