"""The takes list's camera keys as a user presses them in the studio window, matched by
Qt's shortcut map as on an X11 desktop: S sorts the takes by camera score and back, B
picks the best-scoring take, and Ctrl+Z undoes the pick."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.ui.takes.test_takes_camera import add_takes


def test_s_sorts_by_camera_and_b_picks_the_best(qtbot, window, qtlog):
    document, panel = window.document, window.takes_panel
    shot = document.current_shot
    seed = shot.seed
    add_takes(document, shot, [48.0, 96.0, 73.0])
    window.docks["takes"].raise_()
    QTest.mouseClick(panel.list.viewport(), Qt.LeftButton, pos=panel.list.visualItemRect(
        panel.list.item(0)).center())  # fmt: skip
    qtbot.waitUntil(panel.list.hasFocus)

    QTest.keyClick(panel.list, Qt.Key_S)
    assert panel.sort_action.isChecked()
    assert [shot.take(t).request.seed for t in panel.take_ids()] == [seed + 1, seed + 2, seed]
    QTest.keyClick(panel.list, Qt.Key_S)
    assert not panel.sort_action.isChecked()
    assert [shot.take(t).request.seed for t in panel.take_ids()] == [seed, seed + 1, seed + 2]

    QTest.keyClick(panel.list, Qt.Key_B)
    assert shot.take(shot.selected_take).request.seed == seed + 1 and shot.seed == seed + 1
    QTest.keyClick(panel.list, Qt.Key_Z, Qt.ControlModifier)
    assert shot.take(shot.selected_take).request.seed == seed and shot.seed == seed
    assert not [r.message for r in qtlog.records if "mbiguous" in r.message]
