"""The studio's dark Fusion theme: one palette for every panel, set on the application, and
toolbar overflow buttons drawn so that they show on it.

`warning_colour` is the red that warnings are written in, on a dark or light theme.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QToolBar, QToolButton


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
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
