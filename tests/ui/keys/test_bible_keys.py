"""The Characters and styles window by keyboard on an X11 desktop: Ctrl+Shift+B opens it on
the current shot's style, Ins adds, F2 renames, Ctrl+D duplicates, Delete deletes (asking
first when shots use the entry), Ctrl+Z and Ctrl+Shift+Z / Ctrl+Y walk the window's undo
history, Escape closes it."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.ui.shortcut_check import clashes


def press(sequence: str) -> None:
    """One press of `sequence` on the focused widget, shortcut map first, as X delivers it."""
    combo = QKeySequence(sequence)[0]
    QTest.keyClick(QApplication.focusWidget(), combo.key(), combo.keyboardModifiers())


def click_row(qtbot, editor, entry) -> None:
    tree = editor.tree
    rect = tree.visualItemRect(editor.item_of(entry))
    QTest.mouseClick(tree.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
    qtbot.waitUntil(tree.hasFocus)


def ambiguous(qtlog) -> list[str]:
    return [r.message for r in qtlog.records if "mbiguous" in r.message]


def test_the_bible_by_keyboard(qtbot, window, qtlog):
    project, stack = window.project, window.undo_stack
    style = project.style(window.document.current_shot.style)
    view = window.storyboard.view
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)

    press("Ctrl+Shift+B")
    editor = window.bible_editor
    qtbot.waitUntil(lambda: QApplication.activeWindow() is editor)
    assert editor.current() is style
    assert clashes(editor) == [] and clashes(window) == []

    click_row(qtbot, editor, style)
    press("Ins")  # a style, as the one selected; its name is ready to be typed over
    dusk = project.styles[-1]
    qtbot.waitUntil(editor.form.name_edit.hasFocus)
    QTest.keyClicks(editor.form.name_edit, "Harbour dusk")
    assert dusk.name == "Harbour dusk"

    click_row(qtbot, editor, dusk)
    press("F2")
    field = QApplication.focusWidget()
    assert editor.tree.isAncestorOf(field)
    QTest.keyClicks(field, "Dusk")
    press("Return")
    qtbot.waitUntil(lambda: dusk.name == "Dusk")
    qtbot.waitUntil(editor.tree.hasFocus)
    assert stack.undoText() == "Rename Harbour dusk"

    press("Ctrl+Z")
    assert dusk.name == "Harbour dusk"
    press("Ctrl+Shift+Z")
    assert dusk.name == "Dusk"
    press("Ctrl+Z")
    press("Ctrl+Y")
    assert dusk.name == "Dusk"

    press("Ctrl+D")
    copy = project.styles[-1]
    assert copy.name == "Dusk copy" and editor.current() is copy
    press("Del")  # no shot uses the copy: no question
    assert project.styles == [style, dusk]

    # A style six shots use: Delete asks, and Escape keeps it.
    click_row(qtbot, editor, style)
    seen: list = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(0, answer)
            return
        seen.append(box.text())
        QTest.keyClick(box, Qt.Key_Escape)

    QTimer.singleShot(0, answer)
    press("Backspace")
    assert seen and "6 shots use it" in seen[0]
    assert project.styles == [style, dusk]

    editor.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is editor)
    click_row(qtbot, editor, style)
    press("Esc")
    qtbot.waitUntil(lambda: not editor.isVisible())
    assert ambiguous(qtlog) == []
