"""Beside the FPS field the shot panel says at what rate the edit plays and at what rate the
chosen model renders, and follows a change of model (and its undo) at once."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from PySide6.QtCore import Qt

from studio.commands import set_timeline
from ui.shot.prompt_panel import PromptPanel


def test_the_edit_rate_and_the_models_rate_are_shown_and_follow_the_model(qtbot, panel, document):
    shot = document.current_shot
    assert shot.model_id == "previz" and shot.fps == 24
    combo = panel.model_combo
    assert panel.rate_label.text() == "24 fps edit · model renders 24 fps"
    assert combo.itemData(combo.currentIndex() + 1) == "wan2.1-t2v-1.3b"

    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key_Down)  # the next model: Wan 2.1 1.3B, native 16 fps
    assert shot.model_id == "wan2.1-t2v-1.3b"
    assert panel.rate_label.text() == "24 fps edit · model renders 16 fps, resampled"
    assert "Wan 2.1 T2V 1.3B renders 16 fps" in panel.rate_label.toolTip()
    assert "resampled" in panel.rate_label.toolTip()

    document.undo_stack.undo()
    assert shot.model_id == "previz"
    assert panel.rate_label.text() == "24 fps edit · model renders 24 fps"


def test_the_previz_renders_at_the_shots_rate_and_the_edit_rate_is_the_timelines(
    qtbot, panel, document
):
    panel.fps_combo.setCurrentIndex(panel.fps_combo.findData("30"))
    assert document.current_shot.fps == 30
    assert panel.rate_label.text() == "24 fps edit · model renders 30 fps, resampled"
    timeline = document.project.timeline
    document.push(set_timeline(document.project, replace(timeline, fps=Fraction(30)), "Rate"))
    assert panel.rate_label.text() == "30 fps edit · model renders 30 fps"


def test_an_unknown_model_says_its_rate_is_unknown(qtbot, document):
    document.current_shot.model_id = "no-such-model"
    panel = PromptPanel(document)
    qtbot.addWidget(panel)
    assert panel.rate_label.text() == "24 fps edit · model rate unknown"
    qtbot.waitUntil(lambda: bool(panel.availability), timeout=30_000)
