"""The studio's style: Fusion with flat scroll bars that keep Fusion's sizes and hits."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QScrollBar, QStyle, QStyleFactory, QStyleOptionSlider

from ui.widgets.images import from_qimage
from ui.widgets.theme import StudioStyle, apply_dark_theme

PARTS = (
    QStyle.SC_ScrollBarSubLine,
    QStyle.SC_ScrollBarAddLine,
    QStyle.SC_ScrollBarSlider,
    QStyle.SC_ScrollBarGroove,
)


@pytest.fixture
def studio_style(qapp):
    before = qapp.style().name()
    apply_dark_theme(qapp)
    yield qapp.style()
    qapp.setStyle(before)
    qapp.setPalette(qapp.style().standardPalette())


def bar_of(qtbot, orientation) -> QScrollBar:
    bar = QScrollBar(orientation)
    qtbot.addWidget(bar)
    bar.resize(16, 300) if orientation == Qt.Vertical else bar.resize(300, 16)
    bar.setRange(0, 100)
    bar.setPageStep(20)
    bar.show()
    qtbot.waitExposed(bar)
    return bar


def rect_of(bar: QScrollBar, part):
    option = QStyleOptionSlider()
    bar.initStyleOption(option)
    return bar.style().subControlRect(QStyle.CC_ScrollBar, option, part, bar)


@pytest.mark.parametrize("orientation", [Qt.Vertical, Qt.Horizontal])
def test_the_flat_bar_keeps_fusion_parts_and_is_drawn_handle_on_groove(
    qtbot, studio_style, orientation
):
    assert isinstance(studio_style, StudioStyle)
    bar = bar_of(qtbot, orientation)
    fusion = QStyleFactory.create("Fusion")
    option = QStyleOptionSlider()
    bar.initStyleOption(option)
    for part in PARTS:  # a click lands on the same part as under Fusion
        assert rect_of(bar, part) == fusion.subControlRect(QStyle.CC_ScrollBar, option, part, bar)
    picture = from_qimage(bar.grab().toImage()).astype(int)
    handle = rect_of(bar, QStyle.SC_ScrollBarSlider).center()
    groove = rect_of(bar, QStyle.SC_ScrollBarAddPage).center()
    assert picture[handle.y(), handle.x()].sum() > picture[groove.y(), groove.x()].sum() + 60
    add = rect_of(bar, QStyle.SC_ScrollBarAddLine)
    arrow = picture[add.top() : add.bottom() + 1, add.left() : add.right() + 1]
    assert np.ptp(arrow.sum(axis=2)) > 60  # an arrow is drawn on its button


def test_the_flat_bar_answers_clicks_and_drags_as_before(qtbot, studio_style):
    bar = bar_of(qtbot, Qt.Vertical)
    QTest.mouseClick(bar, Qt.LeftButton, pos=rect_of(bar, QStyle.SC_ScrollBarAddLine).center())
    assert bar.value() == 1
    QTest.mouseClick(bar, Qt.LeftButton, pos=rect_of(bar, QStyle.SC_ScrollBarAddPage).center())
    assert bar.value() == 21
    start = rect_of(bar, QStyle.SC_ScrollBarSlider).center()
    QTest.mousePress(bar, Qt.LeftButton, pos=start)
    QTest.mouseMove(bar, start + QPoint(0, 60))
    QTest.mouseRelease(bar, Qt.LeftButton, pos=start + QPoint(0, 60))
    assert bar.value() > 21
    assert QApplication.instance().style() is studio_style
