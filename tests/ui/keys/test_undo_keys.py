"""Undo, redo and the History dock driven as a user does: typing in the window's fields,
clicking, and pressing Ctrl+Z, Ctrl+Shift+Z and Ctrl+Y, matched by Qt's shortcut map as
on an X11 desktop."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QTabBar

from tests.ui.shortcut_check import clashes


def press(qtbot, window, sequence: str) -> None:
    """One press of `sequence` on the focused widget, shortcut map first, as X delivers it."""
    combo = QKeySequence(sequence)[0]
    target = QApplication.focusWidget() or window
    QTest.keyClick(target, combo.key(), combo.keyboardModifiers())


def type_in(qtbot, widget, text: str, *, replace: bool = False) -> None:
    """Click into a text field, go to its end (or select all of it) and type."""
    viewport = widget.viewport() if hasattr(widget, "viewport") else widget
    QTest.mouseClick(viewport, Qt.LeftButton)
    qtbot.waitUntil(widget.hasFocus)
    if replace:
        QTest.keyClick(widget, Qt.Key_A, Qt.ControlModifier)
    else:
        QTest.keyClick(widget, Qt.Key_End, Qt.ControlModifier)
    qtbot.keyClicks(widget, text)


def click_current_card(qtbot, window) -> None:
    """Leave the text field for the storyboard, so the keys reach the window's undo rather
    than the field's own."""
    view = window.storyboard.view
    index = view.model().index_of(window.document.current_shot_id)
    QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, view.visualRect(index).center())
    qtbot.waitUntil(view.hasFocus)


def ambiguous(qtlog) -> list[str]:
    return [r.message for r in qtlog.records if "mbiguous" in r.message]


def test_no_key_is_bound_twice_on_this_desktop(window):
    assert clashes(window) == []


def test_ctrl_z_undoes_a_typed_prompt_and_ctrl_shift_z_and_ctrl_y_redo_it(qtbot, window, qtlog):
    shot = window.document.current_shot
    edit = window.prompt_panel.prompt_edit
    before = shot.prompt
    type_in(qtbot, edit, ", at dusk")  # k is Stop in the window: here it is a letter
    after = before + ", at dusk"
    assert shot.prompt == after
    assert window.undo_stack.count() == 1
    assert window.undo_stack.undoText() == f"Edit prompt of {shot.title}"
    click_current_card(qtbot, window)

    press(qtbot, window, "Ctrl+Z")
    assert shot.prompt == before and edit.toPlainText() == before
    press(qtbot, window, "Ctrl+Shift+Z")
    assert shot.prompt == after and edit.toPlainText() == after
    press(qtbot, window, "Ctrl+Z")
    assert shot.prompt == before
    press(qtbot, window, "Ctrl+Y")
    assert shot.prompt == after
    assert ambiguous(qtlog) == []


def test_a_renamed_shot_comes_back_with_ctrl_z_and_goes_again_with_ctrl_y(qtbot, window, qtlog):
    shot = window.document.current_shot
    title = shot.title
    type_in(qtbot, window.prompt_panel.title_edit, "Squall", replace=True)
    assert shot.title == "Squall"
    assert window.undo_stack.undoText() == f"Rename {title}"
    click_current_card(qtbot, window)
    press(qtbot, window, "Ctrl+Z")
    assert shot.title == title and window.prompt_panel.title_edit.text() == title
    press(qtbot, window, "Ctrl+Y")
    assert shot.title == "Squall"
    press(qtbot, window, "Ctrl+Z")
    press(qtbot, window, "Ctrl+Shift+Z")
    assert shot.title == "Squall"
    assert ambiguous(qtlog) == []


def test_the_history_lists_the_edits_and_a_click_goes_back_to_one(qtbot, window, qtlog):
    shot = window.document.current_shot
    title, prompt = shot.title, shot.prompt
    type_in(qtbot, window.prompt_panel.prompt_edit, ", at dusk")
    type_in(qtbot, window.prompt_panel.title_edit, "Squall", replace=True)

    # The History tab, beside Takes, Render queue and Sound.
    bar = next(
        b
        for b in window.findChildren(QTabBar)
        if "History" in [b.tabText(i) for i in range(b.count())]
    )
    tab = [bar.tabText(i) for i in range(bar.count())].index("History")
    QTest.mouseClick(bar, Qt.LeftButton, Qt.NoModifier, bar.tabRect(tab).center())
    view = window.history
    qtbot.waitUntil(view.isVisible)
    model = view.model()
    rows = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert rows == ["Project opened", f"Edit prompt of {title}", f"Rename {title}"]

    def click_row(row: int) -> None:
        rect = view.visualRect(model.index(row, 0))
        QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())

    click_row(0)
    assert window.undo_stack.index() == 0
    assert (shot.prompt, shot.title) == (prompt, title)
    click_row(2)
    assert (shot.prompt, shot.title) == (prompt + ", at dusk", "Squall")
    click_row(1)
    assert (shot.prompt, shot.title) == (prompt + ", at dusk", title)
    assert window.prompt_panel.title_edit.text() == title

    # The keys and the list agree: redo from here, and the list follows.
    press(qtbot, window, "Ctrl+Shift+Z")
    assert shot.title == "Squall"
    assert view.selectionModel().currentIndex().row() == 2
    assert ambiguous(qtlog) == []
