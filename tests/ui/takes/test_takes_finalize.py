"""Finalize in the takes panel: a draft take is marked "draft", its Finalize button (and
context menu action) renders the final through the engine, the shot adopts the final with
its manifest naming the draft, and one undo takes it back."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from studio.commands import set_field
from studio.jobs import Profile
from tests.ui.takes.test_takes_camera import button
from ui.storyboard.shot_card import StatusRole
from ui.storyboard.storyboard_model import StoryboardModel
from ui.takes.takes_panel import TakesPanel


@pytest.fixture
def panel(qtbot, document, bridge):
    panel = TakesPanel(document, bridge)
    qtbot.addWidget(panel)
    panel.resize(420, 600)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_finalize_a_draft_from_its_button(qtbot, panel, document, bridge):
    shot = document.current_shot
    shot.duration = 0.5
    document.push(set_field(shot, "profile", Profile.DRAFT))
    with qtbot.waitSignal(bridge.jobFinished, timeout=60_000):
        bridge.render_shot(shot.id, backend="previz")
    draft = shot.current_take
    assert draft.is_draft
    cards = StoryboardModel(document, bridge)
    card = cards.index(document.project.shot_index(shot.id), 0)
    assert card.data(StatusRole) == "draft"  # the shot's card says its take is a draft
    row = panel.take_ids().index(draft.id)
    assert "draft" in panel.list.item(row).text()
    assert panel.finalize_action in panel.list.actions()  # in the list's context menu

    panel.select_takes([draft.id])
    finalize = button(panel, panel.finalize_action)
    assert finalize.isEnabled()
    with qtbot.waitSignal(bridge.jobFinished, timeout=60_000) as done:
        qtbot.mouseClick(finalize, Qt.LeftButton)
    final = shot.current_take
    assert done.args[1] == final.id != draft.id
    assert final.draft == draft.id and not final.is_draft
    assert final.request.seed == draft.request.seed and final.request.prompt == draft.request.prompt
    assert shot.profile == Profile.QUALITY
    assert "Finalizing the draft" in panel.message.text()
    manifest = json.loads((document.folder / "takes" / f"{final.id}.json").read_text())
    assert manifest["draft"] == draft.id
    assert card.data(StatusRole) == "done"
    row = panel.take_ids().index(final.id)
    assert "draft" not in panel.list.item(row).text().split("\n")[0]

    # The final is not a draft: nothing to finalize there.
    panel.select_takes([final.id])
    assert not panel.finalize_action.isEnabled()
    document.undo_stack.undo()
    assert shot.current_take.id == draft.id and shot.profile == Profile.DRAFT


def test_a_draft_whose_shot_changed_says_why(qtbot, panel, document, bridge):
    shot = document.current_shot
    shot.duration = 0.5
    document.push(set_field(shot, "profile", Profile.DRAFT))
    with qtbot.waitSignal(bridge.jobFinished, timeout=60_000):
        bridge.render_shot(shot.id, backend="previz")
    draft = shot.current_take
    document.push(set_field(shot, "prompt", "another prompt altogether"))
    panel.select_takes([draft.id])
    assert panel.finalize() is None
    assert "prompt changed since the take" in panel.message.text()
