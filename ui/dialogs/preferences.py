"""Preferences, kept in QSettings: where renders run (this machine or a Ray farm) and
whether the model lists offer the tiny test models; and the folder models download into,
kept with the engine's model settings (`engine.models.settings`) so that the engine and
`gallop models` find the models there too."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.models.catalog import SHOW_TEST_MODELS, forced_test_models
from engine.models.settings import (
    MODELS_ENV,
    chosen_models_folder,
    default_models_folder,
    forced_models_folder,
    set_models_folder,
)
from engine.render.process import process_engine_factory

SHOW_TEST_MODELS_KEY = "models/show_test"


def farm_settings(settings: QSettings) -> tuple[bool, str, int]:
    enabled = str(settings.value("farm/enabled", "false")).lower() == "true"
    address = str(settings.value("farm/address", "local") or "local")
    try:
        actors = int(settings.value("farm/actors", 0) or 0)
    except (TypeError, ValueError):
        actors = 0
    return enabled, address, actors


def show_test_models(settings: QSettings) -> bool:
    """Whether the model lists offer the tiny test models: the preference (off unless
    chosen), unless GALLOP_SHOW_TEST_MODELS says otherwise."""
    forced = forced_test_models()
    if forced is not None:
        return forced
    return str(settings.value(SHOW_TEST_MODELS_KEY, "false")).lower() == "true"


def engine_factory_from_settings(settings: QSettings):
    """The engine on this machine (in its own process), or the Ray farm when the
    preferences say so."""
    enabled, address, actors = farm_settings(settings)
    if not enabled:
        return process_engine_factory(low_priority=True)
    from engine.render.farm import farm_engine_factory

    return farm_engine_factory(address, actors=actors or None)


class PreferencesDialog(QDialog):
    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.settings = settings
        enabled, address, actors = farm_settings(settings)
        self.farm = QCheckBox("Render on a Ray farm (one actor per GPU)")
        self.farm.setChecked(enabled)
        self.address = QLineEdit(address)
        self.address.setPlaceholderText("local, or ray://head-node:10001")
        self.actors = QSpinBox(minimum=0, maximum=256, value=actors)
        self.actors.setSpecialValueText("one per GPU")
        form = QFormLayout()
        form.addRow(self.farm)
        form.addRow("Cluster address", self.address)
        form.addRow("Actors", self.actors)
        note = QLabel(
            "The farm needs the cluster extra (pip install 'gallop-studio[cluster]'). "
            "Takes come back into this project's take store."
        )
        note.setWordWrap(True)
        self.test_models = QCheckBox("Show &test models")
        self.test_models.setChecked(show_test_models(settings))
        tip = (
            "Offer the tiny random-weight models (Tiny Wan, Tiny LTX) in the shot's model "
            "list: they render noise in seconds, for checking the pipeline, not for films"
        )
        if forced_test_models() is not None:
            self.test_models.setEnabled(False)
            tip += f"\nSet by the environment variable {SHOW_TEST_MODELS}"
        self.test_models.setToolTip(tip)
        self.models_folder = QLineEdit(str(chosen_models_folder() or ""))
        self.models_folder.setPlaceholderText(str(default_models_folder()))
        self.browse_button = QPushButton("&Browse…")
        self.browse_button.setAutoDefault(False)
        self.browse_button.clicked.connect(self._browse)
        folder_tip = (
            "Where Models… downloads models (empty: the default). Models already downloaded "
            "stay where they are."
        )
        if forced_models_folder() is not None:
            self.models_folder.setText(str(forced_models_folder()))
            self.models_folder.setEnabled(False)
            self.browse_button.setEnabled(False)
            folder_tip += f"\nSet by the environment variable {MODELS_ENV}"
        self.models_folder.setToolTip(folder_tip)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.models_folder, 1)
        folder_row.addWidget(self.browse_button)
        models_form = QFormLayout()
        models_form.addRow("&Models folder", folder_row)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.test_models)
        layout.addLayout(models_form)
        layout.addWidget(buttons)
        self.farm.toggled.connect(self._enable)
        self._enable(enabled)

    def _browse(self) -> None:
        start = self.models_folder.text().strip() or str(default_models_folder())
        folder = QFileDialog.getExistingDirectory(self, "Models folder", start)
        if folder:
            self.models_folder.setText(folder)

    def _enable(self, on: bool) -> None:
        self.address.setEnabled(on)
        self.actors.setEnabled(on)

    def accept(self) -> None:
        self.settings.setValue("farm/enabled", "true" if self.farm.isChecked() else "false")
        self.settings.setValue("farm/address", self.address.text().strip() or "local")
        self.settings.setValue("farm/actors", self.actors.value())
        if self.test_models.isEnabled():  # not what the environment forced
            on = self.test_models.isChecked()
            self.settings.setValue(SHOW_TEST_MODELS_KEY, "true" if on else "false")
        self.settings.sync()
        if self.models_folder.isEnabled():  # not what the environment forced
            try:
                set_models_folder(self.models_folder.text().strip() or None)
            except OSError as exc:
                QMessageBox.warning(self, "Preferences", f"Cannot keep the models folder: {exc}")
                return
        super().accept()
