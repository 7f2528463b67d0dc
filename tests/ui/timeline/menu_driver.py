"""Driving context menus and input dialogs as a user does: a right-click through the window
system (which is what turns it into a context-menu event), then the menu walked with the
keyboard: Down to each entry of `path`, Right to open a submenu, Return on the last.

The walk is prepared before the click and starts with it, since the menu runs its own
event loop inside the click; it waits on the popup itself, never on time.
The pointer moves to the spot before each click, as a hand's does: Qt sends a press that
comes with no move, on the spot of the last one, elsewhere.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu

TRIES = 2000  # polls (each a pass of the event loop) before a walk gives up and closes
_armed: list = []  # walks and answers that the next click starts


def _entry(popup: QMenu, text: str):
    return next((a for a in popup.actions() if a.text().split("\t")[0] == text), None)


def walk_menu(*path: str) -> dict:
    """Arm a walk through the next menu to open; the dict says what was chosen (`chosen`,
    the entries in order) and each entry's state on the way (`enabled`, `checked`)."""
    report: dict = {"chosen": [], "enabled": {}, "checked": {}, "entries": []}
    steps = list(path)
    tries = [0]

    def step() -> None:
        popup = QApplication.activePopupWidget()
        action = _entry(popup, steps[0]) if isinstance(popup, QMenu) else None
        if action is None:
            tries[0] += 1
            if tries[0] > TRIES:
                while QApplication.activePopupWidget() is not None:
                    QApplication.activePopupWidget().close()
                return
            QTimer.singleShot(0, step)
            return
        text = steps.pop(0)
        report["entries"].append([a.text().split("\t")[0] for a in popup.actions() if a.text()])
        report["enabled"][text] = action.isEnabled()
        report["checked"][text] = action.isChecked()
        if not action.isEnabled():
            while QApplication.activePopupWidget() is not None:
                QApplication.activePopupWidget().close()
            return
        report["chosen"].append(text)
        for _ in popup.actions():  # down the menu to the entry, as the keyboard goes
            if popup.activeAction() is action:
                break
            QTest.keyClick(popup, Qt.Key_Down)
        QTest.keyClick(popup, Qt.Key_Right if steps else Qt.Key_Return)
        if steps:
            # At once, while the submenu is the active popup: with a real pointer resting
            # on the parent menu, the parent takes the hover back on a later pass.
            step()

    _armed.append(lambda: QTimer.singleShot(0, step))
    return report


def answer_dialog(value) -> dict:
    """Arm an answer to the next input dialog: `value` typed in (a number or text), then
    OK. The dict says what the dialog asked (`label`)."""
    report: dict = {}
    tries = [0]

    def step() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QInputDialog):
            tries[0] += 1
            if tries[0] <= TRIES:
                QTimer.singleShot(0, step)
            return
        report["label"] = dialog.labelText()
        if isinstance(value, int):
            dialog.setIntValue(value)
        else:
            dialog.setTextValue(value)
        dialog.accept()

    _armed.append(lambda: QTimer.singleShot(0, step))
    return report


def _active_window(widget):
    """The widget's window, made active again (a closed dialog leaves none active)."""
    top = widget.window()
    if QApplication.activeWindow() is not top:
        top.activateWindow()
        QTest.qWaitForWindowActive(top)
    while _armed:  # armed now: waiting for the window must not use up their polls
        _armed.pop(0)()
    return top.windowHandle()


def window_point(widget, pos: QPointF | QPoint) -> QPoint:
    point = pos.toPoint() if isinstance(pos, QPointF) else pos
    return widget.mapTo(widget.window(), point)


def right_click(widget, pos: QPointF | QPoint) -> None:
    """A right-click at `pos` in `widget`, through its window (as the platform sends it)."""
    window = _active_window(widget)
    point = window_point(widget, pos)
    QTest.mouseMove(window, point + QPoint(4, 4))  # the pointer comes from nearby
    QTest.mouseMove(window, point)
    QTest.mouseClick(window, Qt.RightButton, Qt.NoModifier, point)


def double_click(widget, pos: QPointF | QPoint) -> None:
    window = _active_window(widget)
    point = window_point(widget, pos)
    QTest.mouseMove(window, point)
    QTest.mouseDClick(window, Qt.LeftButton, Qt.NoModifier, point)
