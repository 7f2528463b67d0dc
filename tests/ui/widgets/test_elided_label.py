"""ElidedLabel: a label whose changing text never widens its panel."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QWidget

from ui.widgets.elided_label import ElidedLabel

LONG = "Render of Lighting the lamp failed: the model folder is missing its weights file"


def test_its_minimum_width_does_not_follow_the_text(qtbot):
    label = ElidedLabel("short")
    qtbot.addWidget(label)
    small = label.minimumSizeHint().width()
    label.setText(LONG)
    assert label.minimumSizeHint().width() == small
    assert label.sizeHint().width() > 3 * small  # the whole text is still its wish


def test_a_panel_around_it_keeps_its_minimum_width(qtbot):
    panel = QWidget()
    qtbot.addWidget(panel)
    label = ElidedLabel("ok", panel)
    QHBoxLayout(panel).addWidget(label)
    before = panel.minimumSizeHint().width()
    label.setText(LONG)
    assert panel.minimumSizeHint().width() == before


def test_cut_text_ends_in_an_ellipsis_and_the_whole_is_the_tooltip(qtbot):
    label = ElidedLabel()
    qtbot.addWidget(label)
    label.resize(120, label.sizeHint().height())
    label.show()
    label.setText(LONG)
    assert label.elided_text().endswith("…")
    assert label.fontMetrics().horizontalAdvance(label.elided_text()) <= 120
    assert label.toolTip() == LONG
    label.resize(label.fontMetrics().horizontalAdvance(LONG) + 20, label.height())
    assert label.elided_text() == LONG
    assert label.toolTip() == ""


def test_a_tooltip_of_its_own_is_kept(qtbot):
    label = ElidedLabel()
    qtbot.addWidget(label)
    label.setToolTip("Timecode")
    label.resize(60, 20)
    label.setText(LONG)
    assert label.toolTip() == "Timecode"


def test_it_paints_cut_text_without_error(qtbot):
    label = ElidedLabel(LONG)
    qtbot.addWidget(label)
    label.resize(90, 24)
    image = label.grab().toImage()
    assert not image.isNull()
    colours = {image.pixel(x, y) for x in range(0, 90, 3) for y in range(0, 24, 2)}
    assert len(colours) > 1  # some text was drawn
