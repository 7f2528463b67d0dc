"""The storyboard's shot card: how one shot is painted in the grid (picture, title, duration
and camera move, status chip with the take's camera score beside it, render progress), and
the model roles the card reads."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, NamedTuple

from PySide6.QtCore import QModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

CARD_SIZE = QSize(200, 172)

ShotIdRole = Qt.UserRole + 1
DurationRole = Qt.UserRole + 2
CameraMoveRole = Qt.UserRole + 3
StatusRole = Qt.UserRole + 4  # "queued", "rendering 42%", "failed", "not rendered", ...
StatusKeyRole = Qt.UserRole + 5  # the status without its number: picks the chip colour
ProgressRole = Qt.UserRole + 6  # 0..1 while rendering, else 0
HasTakeImageRole = Qt.UserRole + 7  # the picture is the selected take, not a previz still
CameraScoreRole = Qt.UserRole + 8  # "camera 94": the selected take's camera score, or ""
CardRole = Qt.UserRole + 9  # all of the above that a card shows, as one `Card`


class Card(NamedTuple):
    """What a card paints, read from the model in one call (each role asked separately
    crossed into Python and worked out the shot's status three times)."""

    title: str
    picture: QImage | None
    duration: str
    move: str
    status: str
    status_key: str
    progress: float
    score: str


# Chips are saturated mid-tones with light text: readable on dark and light palettes.
CHIP_COLOURS = {
    "not rendered": QColor(90, 95, 106),
    "queued": QColor(70, 110, 170),
    "rendering": QColor(40, 130, 190),
    "done": QColor(46, 140, 80),
    "stale": QColor(176, 124, 32),
    "failed": QColor(190, 60, 60),
}


class ShotCardDelegate(QStyledItemDelegate):
    """Paints a shot as a card: picture, "N. Title", duration and camera move, a status
    chip, and a thin progress bar while it renders."""

    margin = 6

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._pictures: OrderedDict[tuple[int, tuple[int, int]], QImage] = OrderedDict()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        return QSize(CARD_SIZE)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        palette = option.palette
        selected = bool(option.state & QStyle.State_Selected)
        hovered = bool(option.state & QStyle.State_MouseOver)
        card = QRectF(option.rect).adjusted(2, 2, -2, -2)

        fill = palette.color(QPalette.AlternateBase)
        if hovered:
            fill = fill.lighter(115)
        if selected:
            tint = palette.color(QPalette.Highlight)
            fill = _blend(fill, tint, 0.35)
        border = palette.color(QPalette.Highlight) if selected else palette.color(QPalette.Mid)
        painter.setPen(border)
        painter.setBrush(fill)
        painter.drawRoundedRect(card, 6, 6)

        m = self.margin
        data = index.data(CardRole)
        if not isinstance(data, Card):
            painter.restore()
            return
        box_w = card.width() - 2 * m
        box = QRectF(card.left() + m, card.top() + m, box_w, round(box_w * 9 / 16))
        self._paint_picture(painter, box, data.picture, palette)

        key = data.status_key
        if key == "rendering":
            fraction = data.progress
            bar = QRectF(box.left(), box.bottom() - 3, box.width(), 3)
            painter.fillRect(bar, QColor(0, 0, 0, 140))
            done = QRectF(bar.left(), bar.top(), bar.width() * max(0.0, min(1.0, fraction)), 3)
            painter.fillRect(done, CHIP_COLOURS["rendering"].lighter(130))

        font = QFont(option.font)
        font.setBold(True)
        title = f"{index.row() + 1}. {data.title}"
        line = _text_line(painter, font, box, title, palette.color(QPalette.Text))
        font.setBold(False)
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.9))
        info = f"{data.duration} · {data.move}"
        line = _text_line(painter, font, line, info, palette.color(QPalette.PlaceholderText))

        status = data.status
        if status:
            metrics = painter.fontMetrics()
            chip_w = metrics.horizontalAdvance(status) + 14
            chip = QRectF(box.left(), line.bottom() + 4, chip_w, metrics.height() + 4)
            painter.setPen(Qt.NoPen)
            painter.setBrush(CHIP_COLOURS.get(key, CHIP_COLOURS["not rendered"]))
            painter.drawRoundedRect(chip, chip.height() / 2, chip.height() / 2)
            painter.setPen(QColor(245, 245, 245))
            painter.drawText(chip, Qt.AlignCenter, status)
            if data.score:
                beside = QRectF(chip.right() + 6, chip.top(), box.right() - chip.right() - 6, 0)
                beside.setHeight(chip.height())
                painter.setPen(palette.color(QPalette.PlaceholderText))
                elided = metrics.elidedText(data.score, Qt.ElideRight, int(beside.width()))
                painter.drawText(beside, Qt.AlignLeft | Qt.AlignVCenter, elided)

        if option.state & QStyle.State_HasFocus:
            pen = painter.pen()
            pen.setColor(palette.color(QPalette.Highlight))
            pen.setStyle(Qt.DotLine)
            painter.setPen(pen)
            painter.setBrush(Qt.NoBrush)
            painter.drawRoundedRect(card.adjusted(2, 2, -2, -2), 5, 5)
        painter.restore()

    def _paint_picture(self, painter: QPainter, box: QRectF, image: Any, palette: QPalette) -> None:
        painter.fillRect(box, palette.color(QPalette.Dark))
        if not isinstance(image, QImage) or image.isNull():
            painter.setPen(palette.color(QPalette.PlaceholderText))
            painter.drawText(box, Qt.AlignCenter, "no picture")
            return
        painter.drawImage(box.topLeft(), self._fitted(image, box))

    def _fitted(self, image: QImage, box: QRectF) -> QImage:
        """`image` covering the box (the centre kept), scaled once: cards repaint often
        (progress, hover), and smooth scaling on every paint was most of a card's cost."""
        size = (round(box.width()), round(box.height()))
        key = (image.cacheKey(), size)
        fitted = self._pictures.get(key)
        if fitted is None:
            scaled = image.scaled(
                QSize(*size), Qt.KeepAspectRatioByExpanding, Qt.SmoothTransformation
            )
            x, y = (scaled.width() - size[0]) // 2, (scaled.height() - size[1]) // 2
            fitted = self._pictures[key] = scaled.copy(x, y, *size)
            while len(self._pictures) > 256:
                self._pictures.popitem(last=False)
        self._pictures.move_to_end(key)
        return fitted


def _text_line(painter: QPainter, font: QFont, above: QRectF, text: str, colour) -> QRectF:
    """One elided line of text under `above`; returns the line's rectangle."""
    painter.setFont(font)
    metrics = painter.fontMetrics()
    line = QRectF(above.left(), above.bottom() + 2, above.width(), metrics.height())
    painter.setPen(colour)
    elided = metrics.elidedText(text, Qt.ElideRight, int(line.width()))
    painter.drawText(line, Qt.AlignLeft | Qt.AlignVCenter, elided)
    return line


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    mix = (x + (y - x) * t for x, y in zip(a.getRgb()[:3], b.getRgb()[:3], strict=True))
    return QColor(*(round(v) for v in mix))
