"""FlowLayout: a row of buttons that wraps in a narrow panel instead of widening it."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QToolButton, QVBoxLayout, QWidget

from ui.widgets.flow_layout import FlowLayout

TEXTS = ["Pick", "Discard", "Compare", "Show manifest"]


def make_panel(qtbot) -> tuple[QWidget, list[QToolButton]]:
    panel = QWidget()
    qtbot.addWidget(panel)
    column = QVBoxLayout(panel)
    flow = FlowLayout()
    buttons = []
    for text in TEXTS:
        button = QToolButton(text=text)
        flow.addWidget(button)
        buttons.append(button)
    column.addLayout(flow)
    column.addWidget(QLabel("below"))
    return panel, buttons


def test_it_asks_for_its_widest_item_and_wishes_for_one_row(qtbot):
    panel, buttons = make_panel(qtbot)
    flow = panel.layout().itemAt(0).layout()
    widest = max(b.sizeHint().width() for b in buttons)
    assert flow.minimumSize().width() == widest
    together = sum(b.sizeHint().width() for b in buttons) + flow.spacing() * (len(buttons) - 1)
    assert flow.sizeHint().width() == together


def test_the_items_wrap_onto_rows_without_overlapping(qtbot):
    panel, buttons = make_panel(qtbot)
    panel.show()
    for width in (600, 200, 130):
        panel.resize(width, 300)
        qtbot.waitUntil(lambda w=width: panel.width() == w)
        panel.layout().activate()
        rects = [b.geometry() for b in buttons]
        for i, a in enumerate(rects):
            assert panel.rect().contains(a), (width, TEXTS[i])
            assert a.width() == buttons[i].sizeHint().width()
            assert not any(a.intersects(b) for b in rects[i + 1 :])
        rows = len({r.top() for r in rects})
        assert rows == 1 if width == 600 else rows > 1
        below = panel.layout().itemAt(1).widget()
        assert below.geometry().top() > max(r.bottom() for r in rects)  # the rows take room
