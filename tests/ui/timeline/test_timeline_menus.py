"""The timeline's context menus, join marks, markers and in/out points, driven as a user
does: right-clicks through the window, menus walked with the keyboard, keys, double-clicks.

The example edit: storm 0-120, tower 120-216, keeper 204-300 (a 12-frame crossfade in),
lamp 300-372, ship 372-468, dawn 468-588 (a 24-frame dip to black in).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from studio.timeline.timeline import MarkerColour, Transition, TransitionKind
from tests.ui.timeline.menu_driver import answer_dialog, double_click, right_click, walk_menu
from ui.timeline.timeline_marks import (
    marker_qcolour,
    marker_rect,
    match_badge_rect,
    transition_badge_rect,
)
from ui.timeline.timeline_paint import RULER_H, VIDEO_H
from ui.timeline.timeline_view import TimelinePanel
from ui.widgets.images import from_qimage


def show_panel(qtbot, document, ppf: float = 2.0) -> TimelinePanel:
    panel = TimelinePanel(document)
    qtbot.addWidget(panel)
    panel.resize(1400, 280)
    panel.show()
    qtbot.waitExposed(panel)
    panel.view.set_zoom(ppf, anchor_x=panel.view.x_of_frame(0))
    return panel


def tl(document):
    return document.project.timeline


def join_point(view, clip_id: str) -> QPointF:
    """A point on the cut into `clip_id`, in the clip's title band."""
    i = view.layout_.index[clip_id]
    return QPointF(view.x_of_frame(view.layout_.starts[i]) + 1, view.video_top() + 8)


def body_point(view, clip_id: str) -> QPointF:
    rect = view.clip_rect(clip_id)
    return QPointF(rect.center().x(), rect.top() + 10)


def pixel(view, point: QPointF) -> np.ndarray:
    image = from_qimage(view.grab().toImage())
    return image[int(point.y()), int(point.x())].astype(int)


def test_a_join_menu_sets_a_transition_kind_then_its_length_each_one_undo_step(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    steps = document.undo_stack.count()
    chosen = walk_menu("Dip to white")
    right_click(view, join_point(view, "clip-tower"))
    assert chosen["chosen"] == ["Dip to white"]
    assert chosen["checked"]["Dip to white"] is False  # it was a cut
    # Every kind the model has is offered, and the length and removal after them.
    kinds = ["Cut", "Crossfade", "Dip to black", "Dip to white", "Length", "Remove transition"]
    assert chosen["entries"][0][1 : 1 + len(kinds)] == kinds
    assert tl(document).item("clip-tower").transition == Transition(TransitionKind.DIP_WHITE, 12)
    length = walk_menu("Length", "24 frames (1 s)")
    right_click(view, join_point(view, "clip-tower"))
    assert length["chosen"] == ["Length", "24 frames (1 s)"]
    assert tl(document).item("clip-tower").transition == Transition(TransitionKind.DIP_WHITE, 24)
    assert document.undo_stack.count() == steps + 2
    document.undo_stack.undo()
    assert tl(document).item("clip-tower").transition.frames == 12
    document.undo_stack.undo()
    assert tl(document).item("clip-tower").transition == Transition()


def test_a_custom_length_is_asked_for_and_a_transition_removed_from_the_menu(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    handle = view.handle_rect("clip-keeper").center()  # the crossfade's own handle
    walk_menu("Length", "Custom…")
    asked = answer_dialog(30)
    right_click(view, handle)
    assert asked["label"] == "Length in frames:"
    assert tl(document).item("clip-keeper").transition == Transition(TransitionKind.CROSSFADE, 30)
    removed = walk_menu("Remove transition")
    right_click(view, view.handle_rect("clip-keeper").center())
    assert removed["chosen"] == ["Remove transition"]
    assert tl(document).item("clip-keeper").transition == Transition()
    document.undo_stack.undo()
    assert tl(document).item("clip-keeper").transition.frames == 30


def test_lengths_that_do_not_fit_are_offered_disabled(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    # lamp is 72 frames with a cut on both sides: a 48-frame dip fits, 9999 frames would not.
    walk_menu("Crossfade")
    right_click(view, join_point(view, "clip-lamp"))
    report = walk_menu("Length", "48 frames (2 s)")
    right_click(view, join_point(view, "clip-lamp"))
    assert report["chosen"] == ["Length", "48 frames (2 s)"]
    assert tl(document).item("clip-lamp").transition.frames == 48
    # Now a 48-frame crossfade out of the 72-frame lamp leaves it too short for another.
    out = walk_menu("Crossfade")
    right_click(view, join_point(view, "clip-ship"))
    assert out["enabled"]["Crossfade"] is True  # 12 frames fit beside the 48
    too_long = walk_menu("Length", "36 frames (1.5 s)")
    right_click(view, join_point(view, "clip-ship"))
    assert too_long["enabled"]["36 frames (1.5 s)"] is False
    assert tl(document).item("clip-ship").transition.frames == 12


def test_the_clip_menu_splits_matches_colour_and_sets_the_transition_out(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    opened = []
    panel.shotOpened.connect(opened.append)
    view.set_playhead(330)
    split = walk_menu("Split at playhead")
    right_click(view, body_point(view, "clip-lamp"))
    assert split["chosen"] == ["Split at playhead"] and view.selected_id == "clip-lamp"
    assert [i.id for i in tl(document).items][3:5] == ["clip-lamp", "clip-lamp-2"]
    walk_menu("Match colour to previous clip")
    right_click(view, body_point(view, "clip-ship"))
    assert tl(document).item("clip-ship").match_colour
    walk_menu("Transition out", "Dip to black")
    right_click(view, body_point(view, "clip-ship"))
    assert tl(document).item("clip-dawn").transition == Transition(TransitionKind.DIP_BLACK, 24)
    walk_menu("Transition in", "Crossfade")
    right_click(view, body_point(view, "clip-ship"))
    assert tl(document).item("clip-ship").transition == Transition(TransitionKind.CROSSFADE, 12)
    walk_menu("Open shot")
    right_click(view, body_point(view, "clip-storm"))
    assert opened == ["storm"] and document.current_shot_id == "storm"
    no_take = walk_menu("Reveal take in Takes")
    right_click(view, body_point(view, "clip-storm"))
    assert no_take["enabled"]["Reveal take in Takes"] is False  # never rendered
    for _ in range(4):
        document.undo_stack.undo()
    assert [i.id for i in tl(document).items][3] == "clip-lamp"
    assert tl(document).item("clip-lamp").duration == 72


def test_the_first_clip_has_no_transition_in_to_choose(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    report = walk_menu("Transition in")
    right_click(view, body_point(view, "clip-storm"))
    assert report["enabled"]["Transition in"] is False
    assert tl(document).item("clip-storm").transition == Transition()


def test_each_transition_kind_and_a_colour_match_have_their_own_mark(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    lay = view.layout_
    dawn = transition_badge_rect(view, lay, lay.index["clip-dawn"]).center()
    assert pixel(view, dawn).max() < 40  # a dip to black: a black tile
    view.set_join_transition("clip-dawn", TransitionKind.DIP_WHITE)
    lay = view.layout_
    dawn = transition_badge_rect(view, lay, lay.index["clip-dawn"]).center()
    assert pixel(view, dawn).min() > 215  # a dip to white: a white tile
    # A crossfade's tile is crossed: its centre is ink, a point off the diagonals is not.
    keeper = transition_badge_rect(view, lay, lay.index["clip-keeper"])
    centre, side = pixel(view, keeper.center()), pixel(view, keeper.center() + QPointF(0, -3))
    assert np.abs(centre - side).sum() > 120
    # A cut has no tile: the join shows the clips' own colour there.
    tower = transition_badge_rect(view, lay, lay.index["clip-tower"]).center()
    before = pixel(view, tower)
    match = match_badge_rect(view, lay, lay.index["clip-tower"])
    plain = pixel(view, match.center())
    view.set_clip_match_colour("clip-tower", True)
    lay = view.layout_
    assert np.array_equal(pixel(view, tower), before)
    stripes = [
        pixel(view, QPointF(match.left() + k * match.width() / 3 + 2, match.center().y()))
        for k in range(3)
    ]
    assert [int(np.argmax(s)) for s in stripes] == [0, 1, 2]  # red, green, blue
    assert not np.array_equal(pixel(view, match.center()), plain)


def test_m_adds_a_marker_drawn_on_the_ruler_renamed_by_double_click(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    view.setFocus()
    view.set_playhead(150)
    qtbot.keyClick(view, Qt.Key_M)
    (marker,) = tl(document).markers
    assert (marker.frame, marker.name, marker.colour) == (150, "Marker 1", MarkerColour.BLUE)
    flag = marker_rect(view, marker)
    view.set_playhead(0)  # the playhead's red line would hide the flag's middle
    colour = pixel(view, QPointF(flag.center().x(), flag.top() + 3))
    assert np.abs(colour - np.array(marker_qcolour(marker.colour).getRgb()[:3])).max() < 30
    view.set_playhead(150)
    qtbot.keyClick(view, Qt.Key_M)  # a second marker on the same frame is refused
    assert len(tl(document).markers) == 1
    assert "marker at 00:00:06:06 already" in panel.status.text()
    asked = answer_dialog("Storm ends")
    double_click(view, QPointF(flag.center().x(), flag.top() + 3))
    assert asked["label"] == "Name:"
    assert tl(document).markers[0].name == "Storm ends"
    walk_menu("Colour", "Red")
    right_click(view, QPointF(flag.center().x(), flag.top() + 3))
    assert tl(document).markers[0].colour is MarkerColour.RED
    view.set_playhead(400)
    qtbot.keyClick(view, Qt.Key_M)
    assert tl(document).markers[1].colour is MarkerColour.RED  # the colour chosen last
    qtbot.keyClick(view, Qt.Key_Home)
    qtbot.keyClick(view, Qt.Key_M, Qt.ShiftModifier)
    assert view.playhead == 150
    qtbot.keyClick(view, Qt.Key_M, Qt.ShiftModifier)
    assert view.playhead == 400
    qtbot.keyClick(view, Qt.Key_M, Qt.ShiftModifier | Qt.ControlModifier)
    assert view.playhead == 150
    deleted = walk_menu("Delete marker")
    right_click(view, QPointF(flag.center().x(), RULER_H - 3))
    assert deleted["chosen"] == ["Delete marker"]
    assert [m.frame for m in tl(document).markers] == [400]
    document.undo_stack.undo()
    assert [m.name for m in tl(document).markers] == ["Storm ends", "Marker 2"]


def test_i_and_o_set_the_in_and_out_points_drawn_on_the_ruler(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    view.setFocus()
    band_y = RULER_H - 2
    inside = QPointF(view.x_of_frame(30), band_y)
    plain = pixel(view, inside)
    view.set_playhead(10)
    qtbot.keyClick(view, Qt.Key_I)
    view.set_playhead(33)
    qtbot.keyClick(view, Qt.Key_O)
    assert (tl(document).mark_in, tl(document).mark_out) == (10, 34)  # the out frame included
    assert tl(document).marked_range() == (10, 34)
    assert not np.array_equal(pixel(view, inside), plain)
    assert np.array_equal(pixel(view, QPointF(view.x_of_frame(80), band_y)), plain)
    walk_menu("Set out point here")
    right_click(view, QPointF(view.x_of_frame(60) + 1, RULER_H / 2))
    assert tl(document).mark_out == 61
    qtbot.keyClick(view, Qt.Key_X, Qt.AltModifier)
    assert tl(document).marked_range() is None
    document.undo_stack.undo()
    assert tl(document).marked_range() == (10, 61)


def test_a_right_click_in_a_gap_offers_to_close_it(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    view.select("clip-lamp")
    view.lift()
    gap_id = tl(document).items[3].id
    report = walk_menu("Close gap")
    right_click(view, body_point(view, gap_id))
    assert report["chosen"] == ["Close gap"]
    assert [i.id for i in tl(document).items][3] == "clip-ship"
    assert view.video_top() + VIDEO_H < view.height()


def test_with_the_timeline_focused_i_and_o_mark_it_not_the_window(qtbot, document):
    # The studio window binds I and O to the player's marks, as window shortcuts.
    host = QWidget()
    qtbot.addWidget(host)
    other = QPushButton("Elsewhere")
    panel = TimelinePanel(document)
    layout = QVBoxLayout(host)
    layout.addWidget(other)
    layout.addWidget(panel)
    player_marks = []
    for key in ("I", "O"):
        action = QAction(f"Mark {key}", host)
        action.setShortcut(QKeySequence(key))
        action.triggered.connect(lambda _=False, k=key: player_marks.append(k))
        host.addAction(action)
    host.resize(1400, 320)
    host.show()
    host.activateWindow()
    qtbot.waitExposed(host)
    view = panel.view
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    view.set_playhead(20)
    qtbot.keyClick(view, Qt.Key_I)
    view.set_playhead(40)
    qtbot.keyClick(view, Qt.Key_O)
    assert tl(document).marked_range() == (20, 41) and player_marks == []
    other.setFocus()
    qtbot.waitUntil(other.hasFocus)
    qtbot.keyClick(other, Qt.Key_I)
    assert player_marks == ["I"]  # elsewhere the window's shortcut has the key


def test_the_playhead_snaps_to_markers_and_marks_on_the_ruler(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    view.add_marker(150)
    view.set_mark_in(251)
    for near, expected in ((152, 150), (253, 251)):  # 4 pixels off at 2 pixels a frame
        QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, QPoint(int(view.x_of_frame(near)), 5))
        assert view.playhead == expected
    panel.snap_action.setChecked(False)
    QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, QPoint(int(view.x_of_frame(152)), 5))
    assert view.playhead == 152
