"""Exporting the in to out range from the window: I and O on the timeline, "In to out" in
the Export dialog, and a film of exactly the range's frames."""

from __future__ import annotations

import av
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.ui.dialogs.test_export_dialog import (  # noqa: F401 - fixtures
    make_dialog,
    out,
    rendered,
    settings,
)
from ui.dialogs.export_dialog import DONE
from ui.timeline.timeline_view import TimelinePanel


def test_i_and_o_then_in_to_out_exports_just_the_range(qtbot, rendered, settings, out):  # noqa: F811
    document = rendered
    timeline = TimelinePanel(document)
    qtbot.addWidget(timeline)
    timeline.resize(1200, 260)
    timeline.show()
    qtbot.waitExposed(timeline)
    view = timeline.view
    view.setFocus()
    view.set_playhead(10)
    qtbot.keyClick(view, Qt.Key_I)
    view.set_playhead(33)
    qtbot.keyClick(view, Qt.Key_O)  # the frame under the playhead is the last one in
    assert document.project.timeline.marked_range() == (10, 34)

    dialog = make_dialog(qtbot, document, settings)
    dialog.show()
    choices = [dialog.range.itemText(i) for i in range(dialog.range.count())]
    assert choices == [
        "Whole edit (00:00:02:12)",
        "In to out (00:00:00:10 – 00:00:01:10, 24 frames)",
    ]
    assert dialog.range.currentIndex() == 1  # chosen, since the edit has in and out points
    dialog.set_output(out / "Range.mp4")
    QTest.mouseClick(dialog.export_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=120_000)
    assert dialog.state == DONE, dialog.problem.text()
    with av.open(str(out / "Range.mp4")) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 24
    assert "24 frames" in dialog.result_label.text()

    # Cleared in and out points leave the whole edit as the only choice.
    qtbot.keyClick(view, Qt.Key_X, Qt.AltModifier)
    assert dialog.range.count() == 1 and dialog.range.chosen_range() is None
