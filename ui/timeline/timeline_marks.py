"""Marks drawn over the timeline: the in and out points and the markers on the ruler, and
at each join between two clips a badge for its transition and one for a colour match.

Each transition kind has its own badge at the bottom of the join, so a join reads at a
glance without hovering: a crossfade a cross on the track's colour, a dip to black a
black tile, a dip to white a white one; a cut has none. A join whose incoming clip matches
its colour to the clip before shows a red, green and blue tile at the top of the join.
The geometry (`join_x`, `transition_badge_rect`, `match_badge_rect`, `marker_rect`) is
shared with the hit tests of the context menus.
"""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen, QPolygonF

from studio.timeline.timeline import Clip, Marker, MarkerColour, TransitionKind
from ui.timeline.timeline_paint import DENSE_PX, RULER_H, TITLE_H, VIDEO_H, TimelineLayout

BADGE_W, BADGE_H = 14, 11
MATCH_W, MATCH_H = 12, 8
FLAG_W, FLAG_H = 9, 11  # a marker's flag at the foot of the ruler
MARKER_QCOLOURS = {
    MarkerColour.RED: (228, 72, 62),
    MarkerColour.ORANGE: (240, 150, 40),
    MarkerColour.YELLOW: (232, 205, 60),
    MarkerColour.GREEN: (80, 185, 90),
    MarkerColour.BLUE: (70, 140, 235),
    MarkerColour.PURPLE: (170, 105, 220),
}


def marker_qcolour(colour: MarkerColour) -> QColor:
    return QColor(*MARKER_QCOLOURS[MarkerColour(colour)])


def join_x(view, layout: TimelineLayout, i: int) -> float:
    """Where the join into items[i] is drawn: the middle of a crossfade, else the cut."""
    item = layout.items[i]
    start = int(layout.starts[i])
    if isinstance(item, Clip) and item.transition.kind is TransitionKind.CROSSFADE:
        return float(view.x_of_frame(start + item.transition.frames / 2))
    return float(view.x_of_frame(start))


def transition_badge_rect(view, layout: TimelineLayout, i: int) -> QRectF:
    x = join_x(view, layout, i)
    return QRectF(x - BADGE_W / 2, view.video_top() + VIDEO_H - BADGE_H - 3, BADGE_W, BADGE_H)


def match_badge_rect(view, layout: TimelineLayout, i: int) -> QRectF:
    x = join_x(view, layout, i)
    return QRectF(x - MATCH_W / 2, view.video_top() + TITLE_H + 4, MATCH_W, MATCH_H)


def marker_rect(view, marker: Marker) -> QRectF:
    x = float(view.x_of_frame(marker.frame))
    return QRectF(x - FLAG_W / 2, RULER_H - FLAG_H, FLAG_W, FLAG_H)


def paint_marks(p: QPainter, view, layout: TimelineLayout, width: int) -> None:
    """The in and out points, the markers and the join badges of the visible frames."""
    p.save()
    try:
        p.setRenderHint(QPainter.Antialiasing, True)
        _paint_in_out(p, view, layout, width)
        _paint_join_badges(p, view, layout, width)
        _paint_markers(p, view, layout, width)
    finally:
        p.restore()


def _paint_in_out(p: QPainter, view, layout: TimelineLayout, width: int) -> None:
    tl = layout.timeline
    if tl.mark_in is None and tl.mark_out is None:
        return
    colour = QColor(view.palette().color(QPalette.Highlight))
    x0 = float(view.x_of_frame(tl.mark_in or 0))
    x1 = float(view.x_of_frame(layout.duration if tl.mark_out is None else tl.mark_out))
    band = QColor(colour)
    band.setAlpha(90)
    left, right = max(x0, -2.0), min(x1, width + 2.0)
    if right > left:
        p.fillRect(QRectF(left, RULER_H - 5, right - left, 5), band)
    pen = QPen(colour, 2)
    pen.setCapStyle(Qt.FlatCap)
    p.setPen(pen)
    bottom = view.video_top() + VIDEO_H
    # Brackets: [ at the in point, ] at the out point, with a line down through the clips.
    for x, inward, shown in ((x0, 1, tl.mark_in is not None), (x1, -1, tl.mark_out is not None)):
        if not shown or not -8 <= x <= width + 8:
            continue
        p.drawLine(QLineF(x, 1, x, RULER_H))
        p.drawLine(QLineF(x, 1, x + 5 * inward, 1))
        p.drawLine(QLineF(x, RULER_H - 1, x + 5 * inward, RULER_H - 1))
        thin = QPen(band, 1)
        p.setPen(thin)
        p.drawLine(QLineF(x, RULER_H, x, bottom))
        p.setPen(pen)


def _paint_markers(p: QPainter, view, layout: TimelineLayout, width: int) -> None:
    markers = [
        m for m in layout.timeline.markers if -FLAG_W <= view.x_of_frame(m.frame) <= width + FLAG_W
    ]
    bottom = view.video_top() + VIDEO_H
    for k, marker in enumerate(markers):
        rect = marker_rect(view, marker)
        x, top = rect.center().x(), rect.top()
        fill = marker_qcolour(marker.colour)
        line = QColor(fill)
        line.setAlpha(150)
        p.setPen(QPen(line, 1))
        p.drawLine(QLineF(x, RULER_H, x, bottom))
        flag = QPolygonF(
            [
                QPointF(rect.left(), top),
                QPointF(rect.right(), top),
                QPointF(rect.right(), top + FLAG_H * 0.6),
                QPointF(x, rect.bottom()),
                QPointF(rect.left(), top + FLAG_H * 0.6),
            ]
        )
        p.setPen(QPen(fill.darker(170), 1))
        p.setBrush(fill)
        p.drawPolygon(flag)
        if not marker.name:
            continue
        nxt = view.x_of_frame(markers[k + 1].frame) if k + 1 < len(markers) else width
        room = int(min(nxt - rect.right() - 6, 160))
        if room < 24:
            continue
        text = view.label(marker.name, room)
        size = text.size()
        box = QRectF(rect.right() + 2, RULER_H - size.height() - 1, size.width() + 4, size.height())
        p.fillRect(box, view.palette().color(QPalette.Window))
        p.setPen(fill.lighter(130) if fill.lightnessF() < 0.5 else fill.darker(140))
        p.drawStaticText(QPointF(box.left() + 2, box.top()), text)


def _paint_join_badges(p: QPainter, view, layout: TimelineLayout, width: int) -> None:
    i0, i1 = layout.visible(view.frame_at(-BADGE_W), view.frame_at(width + BADGE_W) + 1)
    if i1 - i0 > width / DENSE_PX:
        return  # clips a few pixels wide: no room for badges
    pal = view.palette()
    for i in range(max(1, i0), min(i1 + 1, len(layout.items))):
        item, before = layout.items[i], layout.items[i - 1]
        if not isinstance(item, Clip) or not isinstance(before, Clip):
            continue
        kind = item.transition.kind
        if kind is not TransitionKind.CUT:
            rect = transition_badge_rect(view, layout, i)
            ink = pal.color(QPalette.WindowText)
            if kind is TransitionKind.CROSSFADE:
                p.setPen(QPen(ink, 1))
                p.setBrush(pal.color(QPalette.Base))
                p.drawRoundedRect(rect, 2, 2)
                inner = rect.adjusted(3, 2, -3, -2)
                p.drawLine(QLineF(inner.topLeft(), inner.bottomRight()))
                p.drawLine(QLineF(inner.bottomLeft(), inner.topRight()))
            else:
                black = kind is TransitionKind.DIP_BLACK
                p.setPen(QPen(QColor(200, 200, 200) if black else QColor(40, 40, 40), 1))
                p.setBrush(QColor(0, 0, 0) if black else QColor(255, 255, 255))
                p.drawRoundedRect(rect, 2, 2)
        if item.match_colour:
            rect = match_badge_rect(view, layout, i)
            third = rect.width() / 3
            for k, rgb in enumerate(((220, 60, 60), (60, 190, 80), (70, 120, 235))):
                p.fillRect(
                    QRectF(rect.left() + k * third, rect.top(), third, rect.height()), QColor(*rgb)
                )
            p.setPen(QPen(pal.color(QPalette.WindowText), 1))
            p.setBrush(Qt.NoBrush)
            p.drawRect(rect)
