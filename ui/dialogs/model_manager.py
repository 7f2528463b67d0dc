"""The Models window: every catalog model with its state, size on disk, download size,
estimated GPU memory per profile and licence; download (asking for the licence the first
time), pause and resume, cancel, verify, delete and open its folder. The work runs in
threads (`ui.dialogs.model_tasks`), so the window never waits; the shot panel's model
list hears of each finished download at once (`ModelTasks.modelsChanged`).

Downloading is the only thing in the studio that goes online, and only from here (or
`gallop models download`)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.models.catalog import Catalog, ModelEntry
from engine.models.download import DownloadProgress
from engine.models.estimates import estimate
from engine.models.installed import ModelStatus, State, model_status
from engine.models.settings import licence_accepted, models_folder
from engine.render.reporter import size_text
from studio.jobs import Profile
from ui.dialogs.model_tasks import ModelTasks, VerifyProgress

COLUMNS = ("Model", "Status", "On disk", "Download", "Quality", "Fast", "Low VRAM", "Licence")
STATUS, LICENCE = 1, 7
PROFILES = {4: Profile.QUALITY, 5: Profile.FAST, 6: Profile.LOWVRAM}
STATE_TEXT = {
    State.INSTALLED: "Installed",
    State.PARTIAL: "Partly downloaded",
    State.DAMAGED: "Damaged",
    State.MISSING: "Not installed",
}


def _vram(entry: ModelEntry, profile: Profile) -> tuple[str, str]:
    """The estimated peak GPU memory at the model's default shot, and where it is from."""
    if entry.backend == "previz":
        return "none", "The previz draws on the CPU"
    found = estimate(entry, entry.width, entry.height, entry.frames, profile)
    if found.vram_gb is not None:
        return f"{found.vram_gb:.3g} GB", found.basis
    if profile is Profile.QUALITY and entry.vram_gb:
        return f"{entry.vram_gb:g} GB", "The catalog's figure for the model's default shot"
    return "—", found.basis or "No published figure"


class ModelManager(QDialog):
    """The Models window. `test_models`: whether the tiny test models are listed (the
    "Show test models" preference)."""

    modelsChanged = Signal()  # noqa: N815 - a model was downloaded or deleted

    def __init__(
        self, tasks: ModelTasks, *, test_models: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setWindowFlag(Qt.WindowMaximizeButtonHint, True)
        self.tasks = tasks
        self.catalog = Catalog()
        self.test_models = test_models
        self.entries: list[ModelEntry] = []
        self.statuses: dict[str, ModelStatus] = {}
        self.bars: dict[str, QProgressBar] = {}

        self.folder_label = QLabel(wordWrap=True)
        self.folder_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(STATUS, QHeaderView.Stretch)
        for column in PROFILES:
            self.table.horizontalHeaderItem(column).setToolTip(
                f"Estimated peak GPU memory with the {PROFILES[column].value} profile at the "
                "model's default size and length"
            )
        self.table.setContextMenuPolicy(Qt.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.itemSelectionChanged.connect(self._enable)
        self.table.installEventFilter(self)

        self.download_button = self._button("&Download", self.download_selected)
        self.pause_button = self._button("&Pause", self.pause_or_resume)
        self.cancel_button = self._button("&Cancel download", self.cancel_selected)
        self.cancel_button.setToolTip(
            "Stop the download and delete what it fetched (Pause keeps it to resume later)"
        )
        self.verify_button = self._button("&Verify", self.verify_selected)
        self.verify_button.setToolTip("Read every file and check it against the Hub's checksums")
        self.delete_button = self._button("De&lete…", self.delete_selected)
        self.open_button = self._button("&Open folder", self.open_selected)
        self.message = QLabel(wordWrap=True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        close = self._button("Close", self.close)

        # The buttons in the order of the row and of the right-click menu.
        self._actions = (
            self.download_button,
            self.pause_button,
            self.cancel_button,
            self.verify_button,
            self.delete_button,
            self.open_button,
        )
        buttons = QHBoxLayout()
        for button in self._actions:
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.folder_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.resize(1100, 520)

        tasks.changed.connect(self._task_changed)
        tasks.finished.connect(self._task_finished)
        tasks.modelsChanged.connect(self.modelsChanged)
        self.refresh()

    def _button(self, text: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setAutoDefault(False)
        button.clicked.connect(lambda *_: slot())
        return button

    # -- the table -------------------------------------------------------------------------

    def set_test_models(self, on: bool) -> None:
        if on != self.test_models:
            self.test_models = on
            self.refresh()

    def refresh(self) -> None:
        """Read every model's state again and fill the table (keeping the selection)."""
        chosen = self.selected()
        self.folder_label.setText(
            f"Models download into <b>{models_folder()}</b> (Preferences choose another "
            "folder). Downloading is the only thing the studio does online."
        )
        self.entries = self.catalog.offered(test_models=self.test_models)
        self.table.setRowCount(len(self.entries))
        self.bars.clear()
        for row, entry in enumerate(self.entries):
            self.statuses[entry.id] = status = model_status(entry)
            self._fill(row, entry, status)
        if chosen is not None:
            self.select(chosen.id)
        elif self.entries and not self.table.selectedItems():
            self.table.selectRow(0)
        self._enable()

    def _item(self, row: int, column: int, text: str, tip: str = "") -> QTableWidgetItem:
        item = QTableWidgetItem(text)
        if tip:
            item.setToolTip(tip)
        self.table.setItem(row, column, item)
        return item

    def _fill(self, row: int, entry: ModelEntry, status: ModelStatus) -> None:
        name = self._item(row, 0, entry.name, entry.repo or entry.path or "built in")
        name.setData(Qt.UserRole, entry.id)
        self._show_status(row, entry, status)
        disk = size_text(status.size_on_disk) if status.size_on_disk else "—"
        self._item(row, 2, disk, str(status.folder or ""))
        if entry.repo is None:
            size, tip = "—", "Comes with the studio"
        elif status.download_size is not None:
            size, tip = size_text(status.download_size), "The pipeline's files on the Hub"
        else:
            size, tip = "?", "Known once a download starts (the Hub says it)"
        self._item(row, 3, size, tip)
        for column, profile in PROFILES.items():
            self._item(row, column, *_vram(entry, profile))
        licence = entry.licence + (" (accept first)" if entry.accept_licence else "")
        self._item(row, LICENCE, "", "")
        if entry.card_repo:
            card = f"https://huggingface.co/{entry.card_repo}"
            link = QLabel(f'<a href="{card}">{licence}</a>')
            link.setOpenExternalLinks(True)
            link.setToolTip(f"The model card and its licence: {card}")
            self.table.setCellWidget(row, LICENCE, link)
        else:
            self.table.removeCellWidget(row, LICENCE)
            self._item(row, LICENCE, licence)

    def _show_status(self, row: int, entry: ModelEntry, status: ModelStatus) -> None:
        task = self.tasks.task(entry.id)
        if task is not None:
            bar = self.bars.get(entry.id)
            if bar is None:
                bar = self.bars[entry.id] = QProgressBar(maximum=1000)
                bar.setTextVisible(True)
                self.table.setCellWidget(row, STATUS, bar)
            self._item(row, STATUS, "")
            event = task.last
            if isinstance(event, DownloadProgress):
                bar.setValue(int(event.fraction * 1000))
                text = f"Downloading {event.fraction:.0%} · {event.text}"
                bar.setToolTip(f"{event.file} ({event.files_done} of {event.files_total} files)")
            elif isinstance(event, VerifyProgress):
                bar.setValue(int(event.fraction * 1000))
                text = f"Verifying {event.fraction:.0%} · {event.file}"
            else:
                bar.setValue(0)
                text = {"download": "Asking the Hub…", "verify": "Verifying…"}.get(
                    task.kind, "Deleting…"
                )
            bar.setFormat(text.replace("%", "%%"))
            return
        self.bars.pop(entry.id, None)
        self.table.removeCellWidget(row, STATUS)
        text = STATE_TEXT[status.state]
        if status.state is State.INSTALLED and status.where not in ("", "models folder"):
            text += f" ({status.where})"
        self._item(row, STATUS, text, status.detail or str(status.folder or ""))

    def row_of(self, model_id: str) -> int:
        return next(i for i, e in enumerate(self.entries) if e.id == model_id)

    def select(self, model_id: str) -> None:
        if any(e.id == model_id for e in self.entries):
            self.table.selectRow(self.row_of(model_id))

    def selected(self) -> ModelEntry | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.entries):
            return None
        return self.entries[rows[0].row()]

    def status_text(self, model_id: str) -> str:
        """What the Status column shows for the model (a progress bar's text while busy)."""
        row = self.row_of(model_id)
        bar = self.table.cellWidget(row, STATUS)
        if isinstance(bar, QProgressBar):
            return bar.format().replace("%%", "%")
        return self.table.item(row, STATUS).text()

    # -- actions ---------------------------------------------------------------------------

    def _enable(self) -> None:
        entry = self.selected()
        status = self.statuses.get(entry.id) if entry else None
        task = self.tasks.task(entry.id) if entry else None
        online = entry is not None and entry.repo is not None
        state = status.state if status else None
        downloading = task is not None and task.kind == "download"
        self.download_button.setEnabled(
            online and task is None and state in (State.MISSING, State.DAMAGED)
        )
        self.download_button.setText("&Repair" if state is State.DAMAGED else "&Download")
        self.pause_button.setText("&Resume" if state is State.PARTIAL and not task else "&Pause")
        self.pause_button.setEnabled(downloading or (state is State.PARTIAL and task is None))
        self.cancel_button.setEnabled(downloading or (state is State.PARTIAL and task is None))
        self.verify_button.setEnabled(
            task is None and state in (State.INSTALLED, State.DAMAGED) and entry.backend != "previz"
        )
        self.delete_button.setEnabled(task is None and status is not None and status.deletable)
        self.open_button.setEnabled(status is not None and status.folder is not None)

    def _task_changed(self, model_id: str) -> None:
        if any(e.id == model_id for e in self.entries):
            row = self.row_of(model_id)
            self._show_status(row, self.entries[row], self.statuses[model_id])
            self._enable()

    def _task_finished(self, model_id: str, outcome: str, message: str) -> None:
        self.refresh()
        entry = self.catalog.get(model_id) if model_id in self.catalog else None
        name = entry.name if entry else model_id
        if outcome == "failed":
            self.message.setText(f"<b>{name}</b>: {message}")
        elif outcome == "paused":
            self.message.setText(f"{name}: paused; Resume continues where it stopped")
        elif outcome == "cancelled":
            self.message.setText(f"{name}: download cancelled, its files deleted")
        else:
            self.message.setText(message)

    def download_selected(self) -> None:
        entry = self.selected()
        if entry is None or entry.repo is None or self.tasks.task(entry.id) is not None:
            return
        accept = False
        if entry.accept_licence and not licence_accepted(entry.id, entry.licence):
            if not self.ask_licence(entry):
                return
            accept = True
        self.message.clear()
        self.tasks.download(entry, accept_licence=accept)
        self._enable()

    def ask_licence(self, entry: ModelEntry) -> bool:
        box = QMessageBox(self)
        box.setWindowTitle("Licence")
        box.setIcon(QMessageBox.Question)
        box.setTextFormat(Qt.RichText)
        url = f"https://huggingface.co/{entry.card_repo}"
        box.setText(
            f"<b>{entry.name}</b> is under the <b>{entry.licence}</b>, which you must read "
            f'and accept before it downloads: <a href="{url}">{url}</a>.'
        )
        box.setInformativeText("Your acceptance is remembered for this model.")
        accept = box.addButton("&Accept and download", QMessageBox.AcceptRole)
        box.addButton(QMessageBox.Cancel)
        box.exec()
        return box.clickedButton() is accept

    def pause_or_resume(self) -> None:
        # Resuming asks no licence: one was accepted when the download started.
        self._act_on_download(lambda task: task.pause(), self.tasks.download)

    def cancel_selected(self) -> None:
        self._act_on_download(lambda task: task.cancel(), self.tasks.discard)

    def _act_on_download(self, running, partial) -> None:
        """`running(task)` on the selected model's download while it runs, or
        `partial(entry)` when the model holds a partial download and nothing runs."""
        entry = self.selected()
        if entry is None:
            return
        task = self.tasks.task(entry.id)
        if task is not None and task.kind == "download":
            running(task)
        elif task is None and self.statuses[entry.id].state is State.PARTIAL:
            self.message.clear()
            partial(entry)
            self._enable()

    def verify_selected(self) -> None:
        entry = self.selected()
        if entry is not None and self.tasks.task(entry.id) is None:
            self.message.clear()
            self.tasks.verify(entry)
            self._enable()

    def delete_selected(self) -> None:
        entry = self.selected()
        status = self.statuses.get(entry.id) if entry else None
        if entry is None or status is None or not status.deletable:
            return
        if self.tasks.task(entry.id) is not None:
            return
        answer = QMessageBox.question(
            self,
            "Delete model",
            f"Delete {entry.name} ({size_text(status.size_on_disk)}) from\n{status.folder}?\n"
            "Downloading it again fetches it all.",
            QMessageBox.Yes | QMessageBox.Cancel,
            QMessageBox.Cancel,
        )
        if answer == QMessageBox.Yes:
            self.tasks.delete(entry)
            self._enable()

    def open_selected(self) -> None:
        entry = self.selected()
        status = self.statuses.get(entry.id) if entry else None
        if status is None or status.folder is None:
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(status.folder))):
            QMessageBox.information(self, "Model folder", f"{entry.name} is in\n{status.folder}")

    def _context_menu(self, pos: QPoint) -> None:
        if self.table.itemAt(pos) is None:
            return
        self.table.selectRow(self.table.itemAt(pos).row())
        menu = QMenu(self)
        for button in self._actions:
            action = menu.addAction(button.text(), button.click)
            action.setEnabled(button.isEnabled())
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        """Del deletes the selected model (after asking), Enter downloads it."""
        if watched is self.table and event.type() == event.Type.KeyPress:
            if event.matches(QKeySequence.Delete) or event.key() == Qt.Key_Delete:
                self.delete_selected()
                return True
            if event.key() in (Qt.Key_Return, Qt.Key_Enter):
                self.download_selected()
                return True
        return super().eventFilter(watched, event)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.refresh()  # what changed while it was closed (a render, another download)
        super().showEvent(event)
