"""The player's transport icons, drawn in the palette's button text colour.

The style's own media icons are near-black pictures, lost on the dark theme (a contrast of
about 1.5:1 against the buttons). These are shapes painted in the text colour of the
palette they are made for, so they read as well as the buttons' words do (over 4.5:1,
WCAG AA), and in its disabled text colour when the button is disabled.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap, QPolygonF

MEDIA_KINDS = ("play", "pause", "start", "back", "forward", "end")
_SIZES = (16, 24, 32)


def media_icon(kind: str, palette: QPalette) -> QIcon:
    """The transport icon `kind` (one of MEDIA_KINDS) in the palette's button text colours."""
    if kind not in MEDIA_KINDS:
        raise ValueError(f"no media icon {kind!r}; one of {', '.join(MEDIA_KINDS)}")
    icon = QIcon()
    normal = palette.color(QPalette.Active, QPalette.ButtonText)
    disabled = palette.color(QPalette.Disabled, QPalette.ButtonText)
    for size in _SIZES:
        for mode, colour in ((QIcon.Normal, normal), (QIcon.Disabled, disabled)):
            icon.addPixmap(_draw(kind, size, colour), mode)
    return icon


def _draw(kind: str, size: int, colour: QColor) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setPen(Qt.NoPen)
    painter.setBrush(colour)
    s = size / 16.0  # shapes are laid out on a 16-unit square

    def triangle(x0: float, x1: float) -> None:
        """Pointing right when x1 > x0, left otherwise, 10 units tall."""
        painter.drawPolygon(
            QPolygonF([QPointF(x0 * s, 3 * s), QPointF(x1 * s, 8 * s), QPointF(x0 * s, 13 * s)])
        )

    def bar(x: float, width: float = 2.0) -> None:
        painter.drawRect(QRectF(x * s, 3 * s, width * s, 10 * s))

    if kind == "play":
        triangle(4, 13)
    elif kind == "pause":
        bar(4, 3)
        bar(9, 3)
    elif kind == "start":
        bar(2)
        triangle(9, 4)
        triangle(14, 9)
    elif kind == "back":
        triangle(8, 2)
        triangle(14, 8)
    elif kind == "forward":
        triangle(2, 8)
        triangle(8, 14)
    else:  # end
        triangle(2, 7)
        triangle(7, 12)
        bar(12)
    painter.end()
    return pixmap
