"""The timeline panel: painting, selection, trims, rolls, moves, splits, deletes,
transitions, zoom, snapping and undo, driven with real mouse and key events."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from engine.media.video import write_video
from studio.commands import add_take, set_timeline
from studio.jobs import GenerationRequest
from studio.project.model import Project, Shot, Take
from studio.timeline.timeline import Clip, Timeline, Transition, TransitionKind, timeline_to_dict
from ui.document import Document
from ui.timeline.timeline_paint import AUDIO_H, RULER_H, VIDEO_H
from ui.timeline.timeline_view import TimelinePanel
from ui.widgets.images import from_qimage


def show_panel(qtbot, document, ppf: float | None = 4.0) -> TimelinePanel:
    panel = TimelinePanel(document)
    qtbot.addWidget(panel)
    panel.resize(1400, 280)
    panel.show()
    qtbot.waitExposed(panel)
    if ppf is not None:
        view = panel.view
        view.set_zoom(ppf, anchor_x=view.x_of_frame(0))  # frame 0 stays at the left
    return panel


def timeline(document) -> Timeline:
    return document.project.timeline


def drag(view, start: QPointF, end: QPointF, modifiers=Qt.NoModifier, steps: int = 4) -> None:
    """Press, move in steps and release, as a hand would."""
    a, b = start.toPoint(), end.toPoint()
    QTest.mousePress(view, Qt.LeftButton, modifiers, a)
    for k in range(1, steps + 1):
        QTest.mouseMove(view, a + (b - a) * k / steps)
    QTest.mouseRelease(view, Qt.LeftButton, modifiers, b)


def click(view, pos: QPointF) -> None:
    QTest.mouseClick(view, Qt.LeftButton, Qt.NoModifier, pos.toPoint())


def right_edge(view, clip_id: str) -> QPointF:
    rect = view.clip_rect(clip_id)
    return QPointF(rect.right() - 2, rect.center().y() - 20)


def band(image: np.ndarray, top: int, height: int) -> np.ndarray:
    return image[top + 3 : top + height - 3].astype(np.float64)


def test_paints_ruler_clips_and_the_audio_waveform(qtbot, document):
    panel = show_panel(qtbot, document, ppf=None)
    view = panel.view
    view.waveforms.wait()
    qtbot.waitUntil(lambda: view.waveforms.get(document.folder / "media/sea_bed.ogg") is not None)
    image = from_qimage(view.grab().toImage())
    ruler = band(image, 0, RULER_H)
    video = band(image, view.video_top(), VIDEO_H)
    audio = band(image, view.audio_top(0), AUDIO_H)
    assert ruler.std() > 10  # tick labels
    assert video.std() > 10  # six coloured clips with titles
    assert view.last_painted_clips == 6
    # The waveform: inside the audio clip the middle rows differ from the rows near its edge.
    mid = view.audio_top(0) + AUDIO_H // 2
    x0, x1 = int(view.x_of_frame(30)), int(view.x_of_frame(500))
    middle = image[mid - 2 : mid + 2, x0:x1].astype(float)
    edge = image[view.audio_top(0) + 18 : view.audio_top(0) + 20, x0:x1].astype(float)
    assert audio.std() > 10
    assert abs(middle.mean() - edge.mean()) > 10


def test_an_unreadable_sound_file_is_named_on_its_clip(qtbot, document):
    sound = document.folder / "media/sea_bed.ogg"
    sound.write_bytes(b"not a sound file")
    panel = show_panel(qtbot, document)
    view = panel.view
    view.grab()
    qtbot.waitUntil(lambda: view.waveforms.get(sound) is view.waveforms.FAILED)
    image = from_qimage(view.grab().toImage())
    assert band(image, view.audio_top(0), AUDIO_H).std() > 5  # the clip and its label
    assert "cannot read the sound file" in view.tooltip_at(50, view.audio_top(0) + 20)


def test_clicking_a_clip_selects_it_and_makes_its_shot_current(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    with qtbot.waitSignal(panel.clipSelected) as blocker:
        click(view, view.clip_rect("clip-ship").center())
    assert blocker.args == ["ship"]
    assert view.selected_id == "clip-ship"
    assert document.current_shot_id == "ship"
    # The storyboard choosing a shot selects its clip here.
    document.set_current_shot("lamp")
    assert view.selected_id == "clip-lamp"


def test_dragging_a_right_edge_ripple_trims_in_one_undo_step(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    view.snapping = False
    before = timeline_to_dict(timeline(document))
    duration = timeline(document).duration
    steps_before = document.undo_stack.count()
    start = right_edge(view, "clip-tower")
    drag(view, start, start + QPointF(-10 * view.ppf, 0), steps=5)
    tl = timeline(document)
    assert tl.item("clip-tower").source_out == 86
    assert tl.duration == duration - 10
    assert tl.start_of("clip-keeper") == 120 + 86 - 12  # later clips followed (crossfade 12)
    assert document.undo_stack.count() == steps_before + 1
    document.undo_stack.undo()
    assert timeline_to_dict(timeline(document)) == before
    assert view.timeline is timeline(document)


def test_escape_cancels_a_drag_and_leaves_no_undo_step(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    before, count = timeline(document), document.undo_stack.count()
    start = right_edge(view, "clip-tower").toPoint()
    QTest.mousePress(view, Qt.LeftButton, Qt.NoModifier, start)
    QTest.mouseMove(view, start - QPoint(40, 0))
    assert timeline(document).item("clip-tower").source_out < 96
    qtbot.keyClick(view, Qt.Key_Escape)
    QTest.mouseRelease(view, Qt.LeftButton, Qt.NoModifier, start - QPoint(40, 0))
    assert timeline_to_dict(timeline(document)) == timeline_to_dict(before)
    assert document.undo_stack.count() == count


def test_a_trim_snaps_to_the_playhead(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    view.set_playhead(205)
    start = right_edge(view, "clip-tower")  # the tower ends at frame 216
    drag(view, start, start + QPointF(-10 * view.ppf, 0))
    assert timeline(document).item("clip-tower").source_out == 96 - 11  # snapped to 205
    document.undo_stack.undo()
    view.snapping = False
    drag(view, start, start + QPointF(-10 * view.ppf, 0))
    assert timeline(document).item("clip-tower").source_out == 96 - 10


def test_shift_drag_rolls_the_edit_and_keeps_the_duration(qtbot, document):
    # Give the ship unused head frames so the edit before it can roll earlier.
    trimmed = timeline(document).trim("clip-ship", source_in=24)
    document.push(set_timeline(document.project, trimmed, "setup"))
    panel = show_panel(qtbot, document)
    view = panel.view
    view.snapping = False
    duration = timeline(document).duration
    ship_start = timeline(document).start_of("clip-ship")
    start = right_edge(view, "clip-lamp")
    drag(view, start, start + QPointF(-10 * view.ppf, 0), Qt.ShiftModifier)
    tl = timeline(document)
    assert tl.item("clip-lamp").source_out == 62
    assert tl.item("clip-ship").source_in == 14
    assert tl.start_of("clip-ship") == ship_start - 10
    assert tl.duration == duration


def test_ctrl_drag_trims_without_moving_later_clips(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    view.snapping = False
    duration = timeline(document).duration
    lamp_start = timeline(document).start_of("clip-lamp")
    start = right_edge(view, "clip-lamp")
    drag(view, start, start + QPointF(-10 * view.ppf, 0), Qt.ControlModifier)
    tl = timeline(document)
    assert tl.item("clip-lamp").source_out == 62
    assert tl.duration == duration
    gap = tl.items[tl.index_of("clip-lamp") + 1]
    assert gap.duration == 10 and tl.start_of("clip-ship") == lamp_start + 72


def test_an_impossible_edit_shows_why_and_changes_nothing(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    view.snapping = False
    before = timeline(document)
    count = document.undo_stack.count()
    start = right_edge(view, "clip-lamp")  # the ship uses its take from frame 0
    drag(view, start, start + QPointF(-10 * view.ppf, 0), Qt.ShiftModifier)
    assert timeline(document) is before
    assert document.undo_stack.count() == count
    assert "before the first frame" in panel.status.text()


def test_dragging_a_clip_moves_it(qtbot, document):
    panel = show_panel(qtbot, document, ppf=2.0)
    view = panel.view
    start = view.clip_rect("clip-storm").center()
    dawn = view.clip_rect("clip-dawn")
    drag(view, start, QPointF(dawn.right() - 10, start.y()), steps=6)
    shots = [clip.shot_id for clip in timeline(document).clips()]
    assert shots == ["tower", "keeper", "lamp", "ship", "dawn", "storm"]
    document.undo_stack.undo()
    assert [c.shot_id for c in timeline(document).clips()][0] == "storm"


def test_split_at_the_playhead_with_the_key_and_the_toolbar(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    view.setFocus()
    view.set_playhead(50)
    qtbot.keyClick(view, Qt.Key_S)
    tl = timeline(document)
    first, second = tl.items[0], tl.items[1]
    assert first.shot_id == second.shot_id == "storm"
    assert (first.duration, second.duration) == (50, 70)
    view.set_playhead(80)
    panel.split_action.trigger()
    assert [item.duration for item in timeline(document).items[:3]] == [50, 30, 40]
    assert sum(item.duration for item in timeline(document).items[:3]) == 120


def test_ripple_delete_and_lift_from_the_keyboard(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    duration = timeline(document).duration
    view.select("clip-lamp")
    view.setFocus()
    qtbot.keyClick(view, Qt.Key_Delete)
    tl = timeline(document)
    assert "clip-lamp" not in [item.id for item in tl.items]
    assert tl.duration == duration - 72
    assert view.selected_id == "clip-ship"  # the next clip, ready for another delete
    qtbot.keyClick(view, Qt.Key_Delete, Qt.ShiftModifier)
    lifted = timeline(document)
    assert lifted.duration == duration - 72
    assert "clip-ship" not in [item.id for item in lifted.items]


def test_choosing_a_crossfade_in_the_toolbar_and_undo(qtbot, document):
    panel = show_panel(qtbot, document)
    panel.view.select("clip-tower")
    index = panel.transition.findData(TransitionKind.CROSSFADE)
    panel.transition.setCurrentIndex(index)
    panel.transition.activated.emit(index)
    assert timeline(document).item("clip-tower").transition == Transition(
        TransitionKind.CROSSFADE, 12
    )
    document.undo_stack.undo()
    assert timeline(document).item("clip-tower").transition == Transition()
    assert panel.transition.currentData() == TransitionKind.CUT


def test_the_match_colour_toggle_is_per_join_and_undoable(qtbot, document):
    panel = show_panel(qtbot, document)
    panel.view.select("clip-tower")
    assert panel.match_action.isEnabled() and not panel.match_action.isChecked()
    panel.match_action.trigger()
    assert timeline(document).item("clip-tower").match_colour
    assert not timeline(document).item("clip-keeper").match_colour
    panel.view.select("clip-keeper")
    assert not panel.match_action.isChecked()
    panel.view.select("clip-tower")
    assert panel.match_action.isChecked()
    document.undo_stack.undo()
    assert not timeline(document).item("clip-tower").match_colour
    assert not panel.match_action.isChecked()


def test_dragging_a_transition_handle_changes_its_length(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    handle = view.handle_rect("clip-keeper").center()
    drag(view, handle, handle + QPointF(6 * view.ppf, 0))
    assert timeline(document).item("clip-keeper").transition.frames == 18
    document.undo_stack.undo()
    assert timeline(document).item("clip-keeper").transition.frames == 12


def test_ctrl_wheel_zooms_around_the_mouse(qtbot, document):
    panel = show_panel(qtbot, document, ppf=None)
    view = panel.view
    x = 500.0
    frame_before = (x - view.x_of_frame(0)) / view.ppf
    ppf = view.ppf
    event = QWheelEvent(
        QPointF(x, 60),
        view.mapToGlobal(QPointF(x, 60)),
        QPoint(),
        QPoint(0, 240),
        Qt.NoButton,
        Qt.ControlModifier,
        Qt.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view, event)
    assert view.ppf == pytest.approx(ppf * 1.25**2)
    assert (x - view.x_of_frame(0)) / view.ppf == pytest.approx(frame_before, abs=0.01)


def test_keys_move_the_playhead(qtbot, document):
    panel = show_panel(qtbot, document)
    view = panel.view
    view.setFocus()
    with qtbot.waitSignal(view.playheadMoved) as blocker:
        qtbot.keyClick(view, Qt.Key_Right)
    assert blocker.args == [1]
    qtbot.keyClick(view, Qt.Key_Right, Qt.ShiftModifier)
    assert view.playhead == 25
    qtbot.keyClick(view, Qt.Key_End)
    assert view.playhead == timeline(document).duration
    qtbot.keyClick(view, Qt.Key_Home)
    assert view.playhead == 0
    qtbot.keyClick(view, Qt.Key_Down)  # the next edit
    assert view.playhead == 120
    click(view, QPointF(view.x_of_frame(300) + 1, RULER_H // 2))
    assert view.playhead == 300
    assert panel.position.text().startswith("00:00:12:12")


def thousand_clips(tmp_path) -> Document:
    shots = [Shot(id=f"shot-{k}", title=f"Shot {k}") for k in range(10)]
    clips = [Clip(f"clip-{k}", f"shot-{k % 10}", None, 0, 48 + k % 5 * 12) for k in range(1000)]
    project = Project(shots=shots, timeline=Timeline(Fraction(24), tuple(clips)))
    return Document(project, tmp_path)


def test_with_a_thousand_clips_only_the_visible_ones_are_painted(qtbot, tmp_path):
    document = thousand_clips(tmp_path)
    panel = show_panel(qtbot, document, ppf=0.6)
    view = panel.view
    view.grab()
    visible = view.last_painted_clips
    assert 10 <= visible <= 60
    view.set_scroll(30_000)
    view.grab()
    assert 10 <= view.last_painted_clips <= 60
    # Fit shows all of them, drawn coalesced into a non-blank track.
    view.fit()
    image = from_qimage(view.grab().toImage())
    assert view.last_painted_clips == 1000
    assert band(image, view.video_top(), VIDEO_H).std() > 5


def test_a_clip_with_a_take_shows_a_strip_of_its_frames(qtbot, document):
    shot = document.project.shot("storm")
    request = GenerationRequest(prompt="green", model_id="previz", width=64, height=36, frames=120)
    media = "takes/green.mp4"
    frames = np.zeros((120, 36, 64, 3), np.uint8)
    frames[..., 1] = 220
    write_video(document.folder / media, frames, Fraction(24))
    take = Take(request.hash, request, media, "2025-01-01T00:00:00Z")
    document.push(add_take(shot, take))
    panel = show_panel(qtbot, document)
    view = panel.view
    rect = view.clip_rect("clip-storm")

    def green_share() -> float:
        image = from_qimage(view.grab().toImage())
        strip = image[int(rect.top()) + 24 : int(rect.bottom()) - 6, 20 : int(rect.right()) - 20]
        return float(((strip[..., 1] > 180) & (strip[..., 0] < 60)).mean())

    assert green_share() < 0.1  # the flat shot colour until the frames are decoded
    qtbot.waitUntil(lambda: green_share() > 0.6, timeout=20_000)
    # A shot without a take keeps its flat colour.
    tower = view.clip_rect("clip-tower")
    image = from_qimage(view.grab().toImage())
    flat = image[
        int(tower.top()) + 24 : int(tower.bottom()) - 6,
        int(tower.left()) + 4 : int(tower.right() - 12 * view.ppf) - 4,
    ]
    assert flat.reshape(-1, 3).std(axis=0).max() < 3


def test_a_narrow_timeline_shows_a_visible_button_for_the_tools_that_do_not_fit(qtbot, document):
    from PySide6.QtWidgets import QToolButton

    from ui.widgets.theme import apply_dark_theme

    before = QApplication.style().name()
    apply_dark_theme(QApplication.instance())
    try:
        panel = TimelinePanel(document)
        qtbot.addWidget(panel)
        panel.resize(420, 300)
        panel.show()
        qtbot.waitExposed(panel)
        button = panel.findChild(QToolButton, "qt_toolbar_ext_button")
        assert button is not None and button.isVisible()
        assert not panel.transition.isVisible()  # behind the button at this width
        # The arrows are drawn in the theme's text colour, not Fusion's dark grey.
        icon = from_qimage(button.icon().pixmap(16, 16).toImage())
        assert icon.max() > 180
    finally:
        QApplication.setStyle(before)
        QApplication.instance().setPalette(QApplication.style().standardPalette())
