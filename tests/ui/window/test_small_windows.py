"""The studio in a small window: usable from 1280x720, readable at 1024x700.

Every core label and button shows its whole text, the player's read-outs sit apart, the
camera previz stays in view while its axes scroll, a long notice never widens the window,
and the transport icons stand out from their buttons on the dark theme.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QToolButton,
    QWidget,
)

from studio.project.io import copy_project
from tests.ui.test_window import EXAMPLE, make_window, settle
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.images import from_qimage
from ui.widgets.theme import apply_dark_theme

SIZES = [(1024, 700), (1280, 720)]
LONG_NOTICE = (
    "No audio device could be opened: the sound card is busy or missing, so the sequence "
    "plays without sound until a device is chosen in the preferences of the studio"
)


@pytest.fixture(params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def small(request, qtbot, folder, settings):
    """The window at the asked size, shown and settled."""
    window = make_window(qtbot, folder, settings)
    window.resize(*request.param)
    settle(window)
    yield window
    window._closing_confirmed = True
    window.close()


@pytest.fixture
def folder(tmp_path):
    return copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


def core_panels(window) -> dict[str, QWidget]:
    return {
        "shot": window.prompt_panel,
        "camera": window.camera_panel,
        "player": window.player,
        "takes": window.takes_panel,
        "queue": window.queue_panel,
    }


def shown_text(text: str) -> str:
    """The text as drawn: "&Title" shows as "Title", "&&" as "&"."""
    return re.sub(r"&(.)", r"\1", text)


def text_room(widget: QWidget) -> int:
    """The width a widget has for its text: a label's contents, a button's width less
    what its style adds around the text (measured on a plain button of the same kind)."""
    if isinstance(widget, QLabel):
        return widget.contentsRect().width() - 2 * widget.margin() - max(0, widget.indent())
    kind = next(
        k for k in (QPushButton, QToolButton, QCheckBox, QRadioButton) if isinstance(widget, k)
    )
    probe = kind()
    probe.setFont(widget.font())
    probe.setIcon(widget.icon())
    probe.setIconSize(widget.iconSize())
    if isinstance(widget, QToolButton):
        probe.setToolButtonStyle(widget.toolButtonStyle())
        probe.setPopupMode(widget.popupMode())
        probe.setAutoRaise(widget.autoRaise())
    sample = "X" * 40
    probe.setText(sample)
    overhead = probe.sizeHint().width() - probe.fontMetrics().horizontalAdvance(sample)
    probe.deleteLater()
    return widget.width() - overhead


def cut_texts(window) -> list[str]:
    """The core labels and buttons in view whose text does not fit them."""
    problems = []
    for name, panel in core_panels(window).items():
        widgets = panel.findChildren(QLabel) + panel.findChildren(QAbstractButton)
        for widget in widgets:
            text = shown_text(widget.text())
            if not text.strip() or not widget.isVisible() or widget.visibleRegion().isEmpty():
                continue
            if isinstance(widget, ElidedLabel) or (
                isinstance(widget, QLabel) and widget.textFormat() == Qt.RichText
            ):
                continue  # text that may be cut by design, with the whole as a tooltip
            metrics = widget.fontMetrics()
            room = text_room(widget)
            if isinstance(widget, QLabel) and widget.wordWrap():
                longest = max(text.split(), key=metrics.horizontalAdvance)
                if metrics.horizontalAdvance(longest) > room or (
                    widget.heightForWidth(widget.width()) > widget.height()
                ):
                    problems.append(f"{name}: {text!r} wraps past its label")
                continue
            if metrics.elidedText(text, Qt.ElideRight, room) != text:
                problems.append(f"{name}: {type(widget).__name__} {text!r} in {room} px")
    return problems


def clipped_sideways(window) -> list[str]:
    """Core widgets whose scroll area is narrower than they are: a column cut off."""
    problems = []
    for name, panel in core_panels(window).items():
        for area in panel.findChildren(QScrollArea):
            if area.isVisible() and area.horizontalScrollBar().maximum() > 0:
                problems.append(f"{name}: {area.widget()} is wider than its scroll area")
    return problems


def window_rect(widget: QWidget) -> QRect:
    return QRect(widget.mapTo(widget.window(), widget.rect().topLeft()), widget.size())


def test_the_window_fits_the_size_and_no_core_text_is_cut(small):
    wanted = small.size()
    assert small.minimumSizeHint().width() <= 1024 and small.minimumSizeHint().height() <= 700
    assert (small.width(), small.height()) in SIZES, f"the window stayed at {wanted}"
    assert cut_texts(small) == []
    assert clipped_sideways(small) == []


def test_the_timecode_and_the_frame_counter_sit_apart(small):
    assert (small.width(), small.height()) in SIZES
    small.player.show_sequence()  # frames to count
    settle(small)
    bar = small.player.transport
    assert bar.frame_label.text() and bar.timecode_label.text()[0].isdigit()
    timecode, frames = window_rect(bar.timecode_label), window_rect(bar.frame_label)
    assert not timecode.intersects(frames), (timecode, frames)
    for label in (bar.timecode_label, bar.frame_label):
        assert label.visibleRegion().boundingRect() == label.rect(), "cut off by the panel"
        room = text_room(label)
        assert label.fontMetrics().horizontalAdvance(label.text()) <= room


def test_a_long_notice_never_changes_the_window_size(small):
    size, least = small.size(), small.minimumSizeHint()
    small.player.transport.show_notice(LONG_NOTICE)
    small.statusBar().showMessage(LONG_NOTICE)
    settle(small)
    assert small.player.transport.notice_label.isVisible()
    assert small.size() == size
    assert small.minimumSizeHint() == least
    screen = small.screen().availableGeometry()
    assert least.width() <= max(1024, screen.width())


def test_the_camera_previz_stays_in_view_while_the_axes_scroll(small):
    panel = small.camera_panel
    small.docks["camera"].raise_()
    settle(small)
    (scroll,) = [a for a in panel.findChildren(QScrollArea) if a.isVisible()]
    bar = scroll.verticalScrollBar()
    assert bar.maximum() > 0, "the axes need a scroll at this size"
    bar.setValue(bar.maximum())
    settle(small)
    previz = panel.viewport
    assert previz.isVisible() and previz.width() >= 160
    assert previz.visibleRegion().boundingRect() == previz.rect(), "the previz is cut off"
    assert panel.rect().contains(QRect(previz.mapTo(panel, previz.rect().topLeft()), previz.size()))
    assert not scroll.isAncestorOf(previz)
    # The panel's last row (the presets' footer) is the one now in view, whole.
    assert panel.reset.visibleRegion().boundingRect() == panel.reset.rect()


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(float) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def contrast_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    la, lb = relative_luminance(a), relative_luminance(b)
    return (np.maximum(la, lb) + 0.05) / (np.minimum(la, lb) + 0.05)


def test_the_transport_icons_stand_out_from_their_buttons(qtbot, folder, settings):
    app = QApplication.instance()
    before = app.style().name()
    apply_dark_theme(app)
    window = make_window(qtbot, folder, settings)
    try:
        window.resize(1280, 720)
        window.player.show_sequence()  # the buttons are enabled
        settle(window)
        bar = window.player.transport
        for button in bar.transport_buttons():
            assert button.isEnabled()
            picture = from_qimage(button.grab().toImage())[..., :3]
            background = picture[1, 1]  # a corner: the button's face
            ratio = contrast_ratio(picture.reshape(-1, 3), background[None, :])
            ink = ratio[ratio > 1.05]  # the icon's pixels, its soft edges included
            assert ink.size >= 20, f"{button.accessibleName()} shows no icon"
            assert np.percentile(ink, 75) >= 4.5, (
                f"{button.accessibleName()}: {np.percentile(ink, 75):.2f}:1 against its button"
            )
    finally:
        window._closing_confirmed = True
        window.close()
        app.setStyle(before)
        app.setPalette(app.style().standardPalette())
