"""The studio's dark Fusion theme: one palette for every panel, set on the application,
flat scroll bars, and toolbar overflow buttons drawn so that they show on it.

Fusion paints a scroll bar's groove and handle with gradients, about 2 microseconds per
pixel of its length: a tall storyboard's or prompt's bar took 1.5 ms of each repaint, four
of them half of a whole window's. `StudioStyle` draws them flat (a groove, a rounded
handle that lightens under the pointer, Fusion's arrows) at Fusion's own sizes, so every
click and drag lands where it did.

`warning_colour` is the red that warnings are written in, on a dark or light theme.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleOptionSlider,
    QToolBar,
    QToolButton,
)

_ARROWS = {
    (Qt.Vertical, QStyle.SC_ScrollBarSubLine): QStyle.PE_IndicatorArrowUp,
    (Qt.Vertical, QStyle.SC_ScrollBarAddLine): QStyle.PE_IndicatorArrowDown,
    (Qt.Horizontal, QStyle.SC_ScrollBarSubLine): QStyle.PE_IndicatorArrowLeft,
    (Qt.Horizontal, QStyle.SC_ScrollBarAddLine): QStyle.PE_IndicatorArrowRight,
}


class StudioStyle(QProxyStyle):
    """Fusion, with flat scroll bars (see the module)."""

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawComplexControl(self, control, option, painter, widget=None) -> None:  # noqa: N802
        if control != QStyle.CC_ScrollBar or not isinstance(option, QStyleOptionSlider):
            super().drawComplexControl(control, option, painter, widget)
            return
        palette = option.palette
        enabled = bool(option.state & QStyle.State_Enabled)
        painter.fillRect(option.rect, palette.color(QPalette.Base))
        handle = self.subControlRect(control, option, QStyle.SC_ScrollBarSlider, widget)
        if enabled and handle.isValid() and option.maximum > option.minimum:
            active = option.activeSubControls & QStyle.SC_ScrollBarSlider
            pressed = active and option.state & QStyle.State_Sunken
            hovered = active and option.state & QStyle.State_MouseOver
            colour = palette.color(QPalette.Mid).lighter(115)
            if pressed:
                colour = palette.color(QPalette.Highlight)
            elif hovered:
                colour = colour.lighter(140)
            painter.save()
            painter.setRenderHint(QPainter.Antialiasing)
            painter.setPen(Qt.NoPen)
            painter.setBrush(colour)
            across, along = (3, 2) if option.orientation == Qt.Vertical else (2, 3)
            shape = QRectF(handle).adjusted(across, along, -across, -along)
            painter.drawRoundedRect(shape, 3, 3)
            painter.restore()
        for sub in (QStyle.SC_ScrollBarSubLine, QStyle.SC_ScrollBarAddLine):
            arrow = QStyleOptionSlider(option)
            arrow.rect = self.subControlRect(control, option, sub, widget)
            if arrow.rect.isValid():
                self.drawPrimitive(_ARROWS[(option.orientation, sub)], arrow, painter, widget)


def apply_dark_theme(app: QApplication) -> None:
    style = StudioStyle()
    app.setStyle(style)
    palette = QPalette()
    base, window, text = QColor(30, 31, 34), QColor(43, 45, 48), QColor(220, 220, 220)
    for role, color in {
        QPalette.Window: window,
        QPalette.WindowText: text,
        QPalette.Base: base,
        QPalette.AlternateBase: window,
        QPalette.Text: text,
        QPalette.Button: window,
        QPalette.ButtonText: text,
        QPalette.BrightText: QColor(255, 120, 100),
        QPalette.Link: QColor(110, 170, 255),
        QPalette.Highlight: QColor(214, 137, 16),
        QPalette.HighlightedText: QColor(0, 0, 0),
        QPalette.ToolTipBase: base,
        QPalette.ToolTipText: text,
        QPalette.PlaceholderText: QColor(130, 130, 130),
    }.items():
        palette.setColor(role, color)
    for role in (QPalette.Text, QPalette.ButtonText, QPalette.WindowText):
        palette.setColor(QPalette.Disabled, role, QColor(120, 120, 120))
    app.setPalette(palette)


def show_toolbar_overflow(bar: QToolBar) -> None:
    """Fusion draws a toolbar's overflow button (») in dark grey, lost on this theme: draw
    it in the text colour, so a narrow dock shows that more tools are a click away."""
    button = bar.findChild(QToolButton, "qt_toolbar_ext_button")
    if button is None:
        return
    size = 16
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.transparent)
    painter = QPainter(pixmap)
    painter.setPen(bar.palette().color(QPalette.ButtonText))
    font = painter.font()
    font.setBold(True)
    font.setPixelSize(14)
    painter.setFont(font)
    painter.drawText(pixmap.rect(), Qt.AlignCenter, "»")
    painter.end()
    button.setIcon(QIcon(pixmap))
    button.setToolTip("More tools")


def warning_colour(palette: QPalette) -> QColor:
    """A red that reads on the window background, dark theme or light."""
    dark = palette.color(QPalette.Window).lightness() < 128
    return QColor(255, 128, 100) if dark else QColor(175, 30, 20)
