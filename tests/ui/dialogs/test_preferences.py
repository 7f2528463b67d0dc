"""Preferences: "Show test models" is a saved choice, off by default, that the shot panel's
model list follows as soon as the dialog is accepted; the environment can still force it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from engine.models.catalog import SHOW_TEST_MODELS
from studio.project.io import ProjectSession, copy_project, load_project
from ui.app import StudioWindow
from ui.dialogs.preferences import SHOW_TEST_MODELS_KEY, PreferencesDialog

EXAMPLE = Path(__file__).resolve().parents[3] / "assets" / "examples" / "Lighthouse.gallop"


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


@pytest.fixture
def window(qtbot, tmp_path, settings, monkeypatch):
    monkeypatch.delenv(SHOW_TEST_MODELS, raising=False)
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    win = StudioWindow(load_project(folder), ProjectSession(folder), settings=settings)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win._closing_confirmed = True
    win.close()


def when_modal(qtbot, handle) -> list:
    """Run `handle(dialog)` on the modal dialog that the next call opens, as a user
    answering it would; the list receives the dialog."""
    seen: list = []

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, poll)  # not shown yet: look again on a later pass
            return
        seen.append(dialog)
        handle(dialog)

    QTimer.singleShot(0, poll)
    return seen


def click_box(qtbot, box) -> None:
    """A click on the box's indicator (its middle may be empty row, past the text)."""
    qtbot.mouseClick(box, Qt.LeftButton, pos=QPoint(8, box.height() // 2))


def toggle_test_models(qtbot, dialog: PreferencesDialog) -> None:
    assert isinstance(dialog, PreferencesDialog)
    click_box(qtbot, dialog.test_models)
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.Ok)
    qtbot.mouseClick(ok, Qt.LeftButton)


def listed(window: StudioWindow) -> list[str]:
    combo = window.prompt_panel.model_combo
    return [combo.itemData(row) for row in range(combo.count())]


def test_show_test_models_is_off_by_default_and_the_list_follows_it(qtbot, window, settings):
    assert "tiny-wan" not in listed(window) and "previz" in listed(window)

    seen = when_modal(qtbot, lambda dialog: toggle_test_models(qtbot, dialog))
    window.act_prefs.trigger()
    assert seen and not seen[0].isVisible()
    assert settings.value(SHOW_TEST_MODELS_KEY) == "true"
    assert {"tiny-wan", "tiny-ltx"} <= set(listed(window))
    assert window.project.shots[0].model_id == load_project(window.session.folder).shots[0].model_id
    assert window.undo_stack.count() == 0  # listing models edits nothing

    # Choosing a test model then hiding them keeps the shot's own model in the list.
    combo = window.prompt_panel.model_combo
    combo.setCurrentIndex(combo.findData("tiny-wan"))
    assert window.document.current_shot.model_id == "tiny-wan"
    when_modal(qtbot, lambda dialog: toggle_test_models(qtbot, dialog))
    window.act_prefs.trigger()
    assert settings.value(SHOW_TEST_MODELS_KEY) == "false"
    assert "tiny-wan" in listed(window) and "tiny-ltx" not in listed(window)
    assert combo.currentData() == "tiny-wan"


def test_cancel_keeps_the_choice(qtbot, window, settings):
    def toggle_and_cancel(dialog) -> None:
        click_box(qtbot, dialog.test_models)
        assert dialog.test_models.isChecked()
        qtbot.keyClick(dialog, Qt.Key_Escape)

    when_modal(qtbot, toggle_and_cancel)
    window.act_prefs.trigger()
    assert settings.value(SHOW_TEST_MODELS_KEY) is None
    assert "tiny-wan" not in listed(window)


@pytest.mark.parametrize(("forced", "shown"), [("1", True), ("0", False)])
def test_the_environment_overrides_the_preference(qtbot, settings, monkeypatch, forced, shown):
    settings.setValue(SHOW_TEST_MODELS_KEY, "false" if shown else "true")
    monkeypatch.setenv(SHOW_TEST_MODELS, forced)
    dialog = PreferencesDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.test_models.isChecked() is shown
    assert not dialog.test_models.isEnabled()
    assert SHOW_TEST_MODELS in dialog.test_models.toolTip()
    dialog.accept()
    assert settings.value(SHOW_TEST_MODELS_KEY) == ("false" if shown else "true")  # untouched
