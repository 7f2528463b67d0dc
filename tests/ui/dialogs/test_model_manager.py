"""The Models window over a local stand-in for the Hugging Face Hub: the table of models,
download, pause and resume, cancel, verify, delete and the licence question, clicked as a
user clicks them; and the shot panel's model list un-greying when a download ends."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from engine.models.catalog import Catalog
from engine.models.download import download
from engine.models.installed import PARTIAL, State, model_folder, model_status
from engine.models.settings import licence_accepted
from studio.project.io import ProjectSession, copy_project, load_project
from tests.engine.models.hub_server import HELD, LICENSED, MODEL, TINY, serve
from ui.dialogs.model_manager import ModelManager
from ui.dialogs.model_tasks import ModelTasks

EXAMPLE = Path(__file__).resolve().parents[3] / "assets" / "examples" / "Lighthouse.gallop"
TOTAL = "341.7 KB"  # the tiny pipeline's files


@pytest.fixture
def hub(monkeypatch, tmp_path):
    server = serve(monkeypatch, tmp_path)
    yield server
    server.release()
    server.stop()


@pytest.fixture
def manager(qtbot, hub):
    tasks = ModelTasks()
    window = ModelManager(tasks, test_models=True)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    hub.release()
    tasks.stop_all()


def click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.LeftButton)


def when_modal(qtbot, handle) -> list:
    """Run `handle(dialog)` on the modal dialog the next click opens, as a user would;
    the list receives its title and text."""
    seen: list = []

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, poll)
            return
        seen.append((dialog.windowTitle(), getattr(dialog, "text", str)()))
        handle(dialog)

    QTimer.singleShot(0, poll)
    return seen


def finished(qtbot, manager, outcome: str):
    """Wait for the next task to end with `outcome`."""
    return qtbot.waitSignal(
        manager.tasks.finished,
        timeout=60_000,
        check_params_cb=lambda model_id, got, message: got == outcome,
    )


def test_every_model_with_state_sizes_memory_and_licence(qtbot, hub):
    window = ModelManager(ModelTasks(), test_models=False)
    qtbot.addWidget(window)
    ids = [e.id for e in window.entries]
    assert "wan2.1-t2v-1.3b" in ids and MODEL not in ids and "tiny-wan" not in ids
    row = window.row_of("wan2.1-t2v-1.3b")
    table = window.table
    assert window.status_text("wan2.1-t2v-1.3b") == "Not installed"
    assert table.item(row, 2).text() == "—" and table.item(row, 3).text() == "?"
    assert table.item(row, 4).text() == "8.19 GB"  # the published figure, quality profile
    licence = table.cellWidget(row, 7)
    assert isinstance(licence, QLabel) and "Apache-2.0" in licence.text()
    assert "https://huggingface.co/Wan-AI/Wan2.1-T2V-1.3B-Diffusers" in licence.text()
    window.set_test_models(True)  # the "Show test models" preference
    assert MODEL in [e.id for e in window.entries]
    assert window.status_text("tiny-wan") == "Installed (bundled)"
    window.select("tiny-wan")
    assert not window.download_button.isEnabled() and not window.delete_button.isEnabled()
    assert window.verify_button.isEnabled()


def test_download_from_the_window(qtbot, manager, hub):
    manager.select(MODEL)
    assert manager.status_text(MODEL) == "Not installed"
    with qtbot.waitSignal(manager.modelsChanged, timeout=60_000), finished(qtbot, manager, "done"):
        click(qtbot, manager.download_button)
    assert manager.status_text(MODEL) == "Installed"
    row = manager.row_of(MODEL)
    assert manager.table.item(row, 3).text() == TOTAL
    assert manager.table.item(row, 2).text() != "—"
    assert "ready" in manager.message.text()
    assert not manager.download_button.isEnabled() and manager.delete_button.isEnabled()


def test_pause_resume_then_cancel(qtbot, manager, hub):
    size = (TINY / HELD).stat().st_size
    hub.hold(HELD, after=size // 2)
    manager.select(MODEL)
    click(qtbot, manager.download_button)
    qtbot.waitUntil(hub.held.is_set, timeout=60_000)
    qtbot.waitUntil(lambda: f"of {TOTAL}" in manager.status_text(MODEL), timeout=60_000)
    text = manager.status_text(MODEL)
    assert text.startswith("Downloading ") and "%" in text
    assert manager.pause_button.text() == "&Pause" and not manager.download_button.isEnabled()
    partial = model_status(Catalog().get(MODEL)).folder / (HELD + PARTIAL)
    # The bytes served before the hold are on the disk (not only in the socket) first.
    qtbot.waitUntil(lambda: partial.is_file() and partial.stat().st_size > 0, timeout=60_000)
    with finished(qtbot, manager, "paused"):
        click(qtbot, manager.pause_button)
        hub.release()  # the stalled connection closes
    assert manager.status_text(MODEL) == "Partly downloaded"
    folder = model_status(Catalog().get(MODEL)).folder
    kept = (folder / (HELD + PARTIAL)).stat().st_size
    assert kept > 0
    assert manager.pause_button.text() == "&Resume"

    hub.reset_log()
    with finished(qtbot, manager, "done"):
        click(qtbot, manager.pause_button)
    assert hub.log.sent[HELD] == size - kept
    assert manager.status_text(MODEL) == "Installed"

    # Cancel: a new download stopped in the middle leaves nothing behind.
    hub.hold(HELD, after=size // 2)
    with finished(qtbot, manager, "done"):
        manager.tasks.delete(Catalog().get(MODEL))
    click(qtbot, manager.download_button)
    qtbot.waitUntil(hub.held.is_set, timeout=60_000)
    with finished(qtbot, manager, "cancelled"):
        click(qtbot, manager.cancel_button)
        hub.release()
    assert manager.status_text(MODEL) == "Not installed"
    assert not folder.exists()
    assert "cancelled" in manager.message.text()


def test_verify_finds_damage_then_delete_asks_first(qtbot, manager, hub):
    entry = Catalog().get(MODEL)
    folder = download(entry)
    weights = folder / "vae" / "diffusion_pytorch_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    manager.refresh()
    manager.select(MODEL)
    assert manager.status_text(MODEL) == "Installed"
    with finished(qtbot, manager, "done"):
        click(qtbot, manager.verify_button)
    assert manager.status_text(MODEL) == "Damaged"
    assert "vae/diffusion_pytorch_model.safetensors" in manager.message.text()
    assert manager.download_button.text() == "&Repair"

    # Delete asks first: Cancel keeps it, Yes deletes it.
    seen = when_modal(qtbot, lambda box: box.button(QMessageBox.Cancel).click())
    click(qtbot, manager.delete_button)
    assert seen and seen[0][0] == "Delete model" and folder.exists()
    seen = when_modal(
        qtbot, lambda box: qtbot.mouseClick(box.button(QMessageBox.Yes), Qt.LeftButton)
    )
    with finished(qtbot, manager, "done"):
        click(qtbot, manager.delete_button)
    assert not folder.exists()
    assert manager.status_text(MODEL) == "Not installed"


def test_a_licence_is_asked_the_first_time_only(qtbot, manager, hub):
    manager.select(LICENSED)
    seen = when_modal(qtbot, lambda box: box.buttons()[0].click())  # Accept and download
    with finished(qtbot, manager, "done"):
        click(qtbot, manager.download_button)
    assert seen[0][0] == "Licence" and "Tiny Test Licence" in seen[0][1]
    assert licence_accepted(LICENSED, "Tiny Test Licence")
    with finished(qtbot, manager, "done"):
        manager.tasks.delete(Catalog().get(LICENSED))
    asked = []
    manager.ask_licence = lambda entry: asked.append(entry) or False
    with finished(qtbot, manager, "done"):
        click(qtbot, manager.download_button)
    assert asked == []


def test_a_refused_licence_downloads_nothing(qtbot, manager, hub):
    manager.select(LICENSED)
    seen = when_modal(qtbot, lambda box: box.button(QMessageBox.Cancel).click())
    click(qtbot, manager.download_button)
    assert seen and hub.log.requests == []
    assert manager.tasks.task(LICENSED) is None
    assert model_status(Catalog().get(LICENSED)).state is State.MISSING


def test_the_shot_panel_opens_the_window_and_its_list_follows_a_download(
    qtbot, hub, tmp_path, monkeypatch
):
    monkeypatch.setenv("GALLOP_SHOW_TEST_MODELS", "1")
    from ui.app import StudioWindow

    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = StudioWindow(load_project(folder), ProjectSession(folder), settings=settings)
    win.show()
    qtbot.waitExposed(win)
    try:
        panel = win.prompt_panel
        with qtbot.waitSignal(panel.modelsChecked, timeout=30_000):
            panel.refresh_availability()
        row = panel.model_combo.findData(MODEL)
        assert row >= 0 and not panel.availability[MODEL].available
        assert panel.model_combo.itemData(row, Qt.ForegroundRole) is not None  # greyed
        models = [a for a in win.menuBar().actions() if a.text() == "&Render"][0].menu()
        assert "&Models…" in [a.text() for a in models.actions()]

        qtbot.mouseClick(panel.models_button, Qt.LeftButton)
        manager = win.model_manager
        assert manager.isVisible()
        assert manager.selected().id == win.document.current_shot.model_id
        manager.select(MODEL)
        with finished(qtbot, manager, "done"):
            click(qtbot, manager.download_button)
        # The download's end asks the panel to look again, in the background.
        qtbot.waitUntil(lambda: panel.availability[MODEL].available, timeout=30_000)
        assert panel.model_combo.itemData(row, Qt.ForegroundRole) is None  # un-greyed
    finally:
        if win.model_manager is not None:
            win.model_tasks.stop_all()
        win._closing_confirmed = True
        win.close()


def test_the_models_folder_is_a_preference_unless_the_environment_sets_it(
    qtbot, tmp_path, monkeypatch
):
    from engine.models.settings import MODELS_ENV, chosen_models_folder, models_folder
    from ui.dialogs.preferences import PreferencesDialog

    monkeypatch.setenv("GALLOP_MODEL_SETTINGS", str(tmp_path / "config" / "models.json"))
    monkeypatch.delenv(MODELS_ENV)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    dialog = PreferencesDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.models_folder.isEnabled() and dialog.models_folder.text() == ""
    chosen = tmp_path / "big disk" / "models"
    dialog.models_folder.setText(str(chosen))
    dialog.accept()
    assert chosen_models_folder() == chosen and models_folder() == chosen
    # Downloads go there; the engine and `gallop models` read the same setting.
    wan = Catalog().get("wan2.1-t2v-1.3b")
    assert model_folder(wan) == chosen / "Wan2.1-T2V-1.3B-Diffusers"

    monkeypatch.setenv(MODELS_ENV, str(tmp_path / "forced"))
    forced = PreferencesDialog(settings)
    qtbot.addWidget(forced)
    assert not forced.models_folder.isEnabled()
    assert forced.models_folder.text() == str(tmp_path / "forced")
    assert models_folder() == tmp_path / "forced"
    forced.accept()
    assert chosen_models_folder() == chosen  # the preference stays as it was
