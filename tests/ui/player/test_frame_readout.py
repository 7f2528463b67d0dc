"""One way of reading a position everywhere: the player, the compare view and the timeline
say timecode, and number frames from 0."""

from __future__ import annotations

from PySide6.QtCore import Qt

from studio.timeline.timeline import Clip
from ui.takes.take_compare import TakeCompareView
from ui.timeline.timeline_view import TimelinePanel
from ui.widgets.readouts import FRAME_TIP

from .test_player import FRAMES, add_rendered_take, make_player


def readout(widget) -> tuple[str, str]:
    owner = getattr(widget, "transport", widget)  # the player keeps its labels in its bar
    return owner.timecode_label.text(), owner.frame_label.text()


def test_the_first_frame_reads_the_same_in_the_player_and_the_compare_view(qtbot, document):
    shot = document.project.shots[0]
    path = add_rendered_take(document, shot)
    document.set_current_shot(shot.id)
    player = make_player(qtbot, document)
    compare = TakeCompareView(path, path)
    qtbot.addWidget(compare)
    compare.show()
    try:
        for widget in (player, compare):
            widget.setFocus()
            qtbot.keyClick(widget, Qt.Key_End)
            qtbot.keyClick(widget, Qt.Key_Home)
        assert readout(player) == readout(compare) == ("00:00:00:00", f"0 / {FRAMES}")

        for widget in (player, compare):
            qtbot.keyClick(widget, Qt.Key_Right)
        assert readout(player) == readout(compare) == ("00:00:00:01", f"1 / {FRAMES}")

        for widget in (player, compare):
            qtbot.keyClick(widget, Qt.Key_End)
        last = FRAMES - 1
        assert readout(player) == readout(compare) == ("00:00:01:05", f"{last} / {FRAMES}")
        assert player.transport.frame_label.toolTip() == compare.frame_label.toolTip()
        assert compare.frame_label.toolTip() == FRAME_TIP and "from 0" in FRAME_TIP
    finally:
        compare.close()
        player.shutdown()


def test_the_timeline_reads_the_players_timecode_and_its_clips_count_from_0(qtbot, document):
    player = make_player(qtbot, document)
    panel = TimelinePanel(document)
    qtbot.addWidget(panel)
    panel.resize(1200, 260)
    panel.show()
    qtbot.waitExposed(panel)
    try:
        player.show_sequence()
        player.seek(25)
        panel.set_playhead(25)
        assert panel.position.text().split(" / ")[0] == readout(player)[0] == "00:00:01:01"

        clip = next(i for i in document.project.timeline.items if isinstance(i, Clip))
        rect = panel.view.clip_rect(clip.id)
        tip = panel.view.tooltip_at(rect.center().x(), rect.center().y())
        first, last = clip.source_in, clip.source_out - 1
        assert f"Source frames {first}–{last} (counted from 0)" in tip
    finally:
        player.shutdown()
