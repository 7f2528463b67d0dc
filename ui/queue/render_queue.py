"""The render queue: every job the bridge knows as a row with its state, progress, ETA and
last live preview, the actions that fit its state (cancel, retry, remove, details), and
queue-wide cancel, clear and reordering of the jobs that still wait.

Rows are widgets bound to job ids. A progress event touches only its own row; moving a
queued job swaps the jobs two rows show instead of rebuilding the list.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QSizePolicy,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.render.reporter import eta_text
from studio.errors import StudioError
from ui.bridge import CANCELLED, DONE, FAILED, QUEUED, RUNNING, WAITING, EngineBridge, JobInfo
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.images import to_qimage
from ui.widgets.theme import warning_colour

THUMB_WIDTH, THUMB_HEIGHT = 96, 54
PROGRESS_STEPS = 1000
BUSY_STAGES = {"starting", "loading", "encoding prompt"}


def status_text(info: JobInfo) -> str:
    if info.state == WAITING:
        return info.stage  # "waiting for The ship"
    if info.state == RUNNING:
        if info.total > 1:
            return f"{info.stage} {info.step}/{info.total}"
        return info.stage
    return info.state


class JobRow(QWidget):
    """One job: preview thumbnail, label, status, progress, ETA and its buttons."""

    def __init__(self, panel: RenderQueuePanel, job_id: str) -> None:
        super().__init__()
        self.panel = panel
        self.job_id = job_id
        self._preview = None  # the array the thumbnail was made from
        self._warning = False  # the message is drawn in the warning colour

        self.thumb = QLabel()
        self.thumb.setFixedSize(THUMB_WIDTH, THUMB_HEIGHT)
        self.thumb.setAlignment(Qt.AlignCenter)
        self.thumb.setAutoFillBackground(True)
        self.thumb.setBackgroundRole(QPalette.Base)
        self.thumb.setToolTip("The last live preview of the render")

        self.title = ElidedLabel()  # "The tower (seed 1…" in a narrow dock, never clipped
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.NoTextInteraction)
        self.status = QLabel()
        self.message = QLabel()
        self.message.setWordWrap(True)
        # Long messages (file paths) wrap or clip instead of widening the row.
        self.message.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.message.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setMinimumWidth(120)
        self.progress.setMaximumHeight(16)
        self.eta = QLabel()
        self.eta.setMinimumWidth(80)

        self.cancel_button = self._button("Cancel", "Stop this render", panel.cancel)
        self.retry_button = self._button("Retry", "Render this shot again", panel.retry)
        self.remove_button = self._button("Remove", "Remove this job from the list", panel.remove)
        self.details_button = self._button(
            "Details…", "Show what went wrong in full", panel.show_details
        )

        heading = QHBoxLayout()
        heading.setSpacing(2)
        heading.addWidget(self.title, 1)
        for button in (
            self.cancel_button,
            self.retry_button,
            self.details_button,
            self.remove_button,
        ):
            heading.addWidget(button)
        line = QHBoxLayout()
        line.addWidget(self.status)
        line.addStretch(1)
        line.addWidget(self.eta)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addLayout(heading)
        text.addLayout(line)
        text.addWidget(self.progress)
        text.addWidget(self.message)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.thumb, 0, Qt.AlignTop)
        layout.addLayout(text, 1)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)

    def _button(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        # The row may show another job after a move: act on the one it shows now.
        button.clicked.connect(lambda: slot(self.job_id))
        return button

    def refresh(self, info: JobInfo) -> None:
        self.title.setText(info.label)
        seed = f" · seed {info.request.seed}" if info.request is not None else ""
        self.title.setToolTip(f"{info.label}\nshot {info.shot_id}{seed}")
        self.status.setText(status_text(info))
        self.eta.setText(eta_text(info.eta) if info.state == RUNNING else "")
        self._refresh_progress(info)
        self._refresh_message(info)
        if info.preview is not self._preview:
            self._preview = info.preview
            self._show_preview(info.preview)
        self.cancel_button.setVisible(info.active)
        self.retry_button.setVisible(info.state in (FAILED, CANCELLED))
        self.remove_button.setVisible(not info.active)
        self.details_button.setVisible(info.state == FAILED and bool(info.detail))

    def _refresh_progress(self, info: JobInfo) -> None:
        bar = self.progress
        if info.state == RUNNING and (info.stage in BUSY_STAGES or info.total <= 0):
            bar.setRange(0, 0)  # a busy indicator: no step count yet
            return
        bar.setRange(0, PROGRESS_STEPS)
        if info.state == DONE:
            bar.setValue(PROGRESS_STEPS)
            bar.setFormat("done")
        elif info.state in (QUEUED, WAITING):
            bar.setValue(0)
            bar.setFormat(info.state)
        else:
            bar.setValue(round(info.fraction * PROGRESS_STEPS))
            bar.setFormat("%p%" if info.state == RUNNING else info.state)

    def _refresh_message(self, info: JobInfo) -> None:
        failed = info.state == FAILED
        # A cancelled job says why when it was not the user who cancelled it.
        text = info.message if (failed or info.state in (RUNNING, CANCELLED)) else ""
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.message.setToolTip((info.detail or info.message) if failed else "")
        if failed != self._warning:
            # A style sheet re-polishes the label: set it only when the look changes.
            self._warning = failed
            colour = warning_colour(self.palette()).name()
            self.message.setStyleSheet(f"color: {colour}" if failed else "")

    def _show_preview(self, frame) -> None:
        if frame is None:
            self.thumb.clear()
            return
        try:
            image = to_qimage(frame)
        except ValueError:
            self.thumb.clear()
            return
        image = image.scaled(THUMB_WIDTH, THUMB_HEIGHT, Qt.KeepAspectRatio, Qt.SmoothTransformation)
        self.thumb.setPixmap(QPixmap.fromImage(image))

    def thumbnail(self) -> QPixmap | None:
        pixmap = self.thumb.pixmap()
        return None if pixmap is None or pixmap.isNull() else pixmap


class RenderQueuePanel(QWidget):
    """The bridge's jobs, newest last, with per-job and queue-wide actions."""

    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("renderQueue")
        self.bridge = bridge
        self._order: list[str] = []  # job ids in display order
        self._rows: dict[str, int] = {}
        self.details_box: QMessageBox | None = None

        self.header = QLabel()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setVisible(False)

        self.toolbar = QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.cancel_all_action = self._action(
            "Cancel all", self.cancel_all, "Cancel every queued and running render"
        )
        self.clear_finished_action = self._action(
            "Clear finished", self.clear_finished, "Remove done, failed and cancelled jobs"
        )
        self.move_up_action = self._action(
            "Move up", self.move_up, "Render the selected queued job earlier", "Ctrl+Up"
        )
        self.move_down_action = self._action(
            "Move down", self.move_down, "Render the selected queued job later", "Ctrl+Down"
        )
        self.cancel_selected_action = self._action(
            "Cancel or remove", self.cancel_or_remove, "Cancel the selected job", "Delete"
        )
        for action in (
            self.cancel_all_action,
            self.clear_finished_action,
            self.move_up_action,
            self.move_down_action,
        ):
            self.toolbar.addAction(action)

        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.list.setAlternatingRowColors(True)
        self.list.setToolTip("Renders, oldest first. Ctrl+Up/Down reorders queued jobs.")
        self.list.currentRowChanged.connect(lambda _row: self._update_actions())
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.list.viewport().installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.header)
        layout.addWidget(self.error)
        layout.addWidget(self.list, 1)

        bridge.jobAdded.connect(self._added)
        bridge.jobChanged.connect(self._changed)
        bridge.jobRemoved.connect(self._removed)
        for job_id in list(bridge.jobs):
            self._added(job_id)
        self._update_header()
        self._update_actions()

    def _action(self, text: str, slot, tip: str, shortcut: str | None = None) -> QAction:
        action = QAction(text, self)
        action.setToolTip(f"{tip} ({shortcut})" if shortcut else tip)
        action.setStatusTip(tip)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            self.addAction(action)
        action.triggered.connect(slot)
        return action

    # -- rows --------------------------------------------------------------------------
    def job_ids(self) -> list[str]:
        """The jobs in display order."""
        return list(self._order)

    def row_widget(self, job_id: str) -> JobRow | None:
        row = self._rows.get(job_id)
        if row is None:
            return None
        return self.list.itemWidget(self.list.item(row))

    def current_job(self) -> str | None:
        row = self.list.currentRow()
        return self._order[row] if 0 <= row < len(self._order) else None

    def select_job(self, job_id: str) -> None:
        if job_id in self._rows:
            self.list.setCurrentRow(self._rows[job_id])

    def _fit(self, item: QListWidgetItem, widget: JobRow) -> None:
        """Rows are as wide as the list and as tall as their wrapped message needs."""
        width = max(240, self.list.viewport().width())
        layout = widget.layout()
        height = layout.heightForWidth(width) if layout.hasHeightForWidth() else -1
        item.setSizeHint(QSize(width, max(height, widget.sizeHint().height())))

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if watched is self.list.viewport() and event.type() == QEvent.Resize:
            for row in range(self.list.count()):
                item = self.list.item(row)
                widget = self.list.itemWidget(item)
                if widget is not None:
                    self._fit(item, widget)
        return super().eventFilter(watched, event)

    def _reindex(self) -> None:
        self._rows = {job_id: row for row, job_id in enumerate(self._order)}

    def _added(self, job_id: str) -> None:
        info = self.bridge.jobs.get(job_id)
        if info is None or job_id in self._rows:
            return
        item = QListWidgetItem()
        row = JobRow(self, job_id)
        row.refresh(info)
        self.list.addItem(item)
        self.list.setItemWidget(item, row)
        self._order.append(job_id)
        self._rows[job_id] = len(self._order) - 1
        self._fit(item, row)
        self._update_header()
        self._update_actions()

    def _changed(self, job_id: str) -> None:
        widget = self.row_widget(job_id)
        info = self.bridge.jobs.get(job_id)
        if widget is None or info is None:
            return
        had_message = not widget.message.isHidden()
        widget.refresh(info)
        if widget.message.isHidden() == had_message:
            self._fit(self.list.item(self._rows[job_id]), widget)
        self._update_header()
        if job_id == self.current_job():
            self._update_actions()

    def _removed(self, job_id: str) -> None:
        row = self._rows.get(job_id)
        if row is None:
            return
        item = self.list.item(row)
        self.list.removeItemWidget(item)
        self.list.takeItem(row)
        del self._order[row]
        self._reindex()
        self._update_header()
        self._update_actions()

    def _update_header(self) -> None:
        states = [self.bridge.jobs[j].state for j in self._order if j in self.bridge.jobs]
        active = sum(s in (WAITING, QUEUED, RUNNING) for s in states)
        parts = [f"{active} rendering/queued"]
        for state, word in ((FAILED, "failed"), (CANCELLED, "cancelled"), (DONE, "done")):
            count = states.count(state)
            if count:
                parts.append(f"{count} {word}")
        self.header.setText(", ".join(parts))
        self.cancel_all_action.setEnabled(active > 0)
        self.clear_finished_action.setEnabled(active < len(states))

    def _update_actions(self) -> None:
        job_id = self.current_job()
        queued = self._queued()
        position = queued.index(job_id) if job_id in queued else -1
        self.move_up_action.setEnabled(position > 0)
        self.move_down_action.setEnabled(0 <= position < len(queued) - 1)
        self.cancel_selected_action.setEnabled(job_id is not None)

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setStyleSheet(f"color: {warning_colour(self.palette()).name()}")
        self.error.setVisible(bool(text))

    # -- per-job actions ---------------------------------------------------------------
    def cancel(self, job_id: str) -> None:
        self.bridge.cancel(job_id)

    def retry(self, job_id: str) -> list[str]:
        """Render the job's shot again (the failed or cancelled row makes way for it)."""
        try:
            new_ids = self.bridge.retry(job_id)
        except StudioError as exc:
            self._show_error(f"Cannot retry: {exc}")
            return []
        self._show_error("")
        if new_ids:
            self.select_job(new_ids[0])
        return new_ids

    def remove(self, job_id: str) -> None:
        self.bridge.remove(job_id)

    def show_details(self, job_id: str) -> None:
        info = self.bridge.jobs.get(job_id)
        if info is None:
            return
        box = QMessageBox(QMessageBox.Warning, "Render failed", info.label, parent=self)
        box.setInformativeText(info.message)
        box.setDetailedText(info.detail)
        box.setAttribute(Qt.WA_DeleteOnClose)
        self.details_box = box
        box.finished.connect(lambda _r: setattr(self, "details_box", None))
        box.open()

    def cancel_or_remove(self) -> None:
        job_id = self.current_job()
        info = self.bridge.jobs.get(job_id) if job_id else None
        if info is None:
            return
        if info.active:
            self.cancel(job_id)
        else:
            self.remove(job_id)

    # -- queue-wide actions ------------------------------------------------------------
    def cancel_all(self) -> None:
        self.bridge.cancel_all()

    def clear_finished(self) -> None:
        for job_id in list(self._order):
            info = self.bridge.jobs.get(job_id)
            if info is not None and not info.active:
                self.bridge.remove(job_id)

    def _queued(self) -> list[str]:
        jobs = self.bridge.jobs
        return [j for j in self._order if j in jobs and jobs[j].state == QUEUED]

    def move_up(self) -> None:
        self._move(-1)

    def move_down(self) -> None:
        self._move(1)

    def _move(self, step: int) -> None:
        """Swap the selected queued job with its queued neighbour, then tell the engine the
        new order of every queued job: the display is what the engine was sent."""
        job_id = self.current_job()
        queued = self._queued()
        if job_id not in queued:
            return
        position = queued.index(job_id)
        other_position = position + step
        if not 0 <= other_position < len(queued):
            return
        other = queued[other_position]
        row_a, row_b = self._rows[job_id], self._rows[other]
        self._order[row_a], self._order[row_b] = other, job_id
        self._reindex()
        for row in (row_a, row_b):
            widget = self.list.itemWidget(self.list.item(row))
            widget.job_id = self._order[row]
            widget.refresh(self.bridge.jobs[widget.job_id])
            self._fit(self.list.item(row), widget)
        self.list.setCurrentRow(row_b)
        self.bridge.reorder(self._queued())
        self._update_actions()
