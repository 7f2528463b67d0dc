"""The studio's dark Fusion theme: one palette for every panel, set on the application."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


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
