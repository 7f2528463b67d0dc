"""The shot panel as the tests of its parts use it: shown, its background model check
landed so that it cannot race a test's assertions."""

from __future__ import annotations

import pytest

from ui.shot.prompt_panel import PromptPanel


@pytest.fixture
def panel(qtbot, document):
    panel = PromptPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: bool(panel.availability), timeout=30_000)
    return panel
