"""The Export dialog: the finished film to a file (preset, place, size, rate, and optionally
the edit for another editor), written on a thread with progress, ETA and cancel.

The export runs as an `engine.export.job.ExportJob`, a job of a render engine of its own
(see there why not the window's engine process); its events arrive on the engine thread and
cross to the GUI thread through a queued signal, as in `ui.bridge`. Before anything starts
the dialog names the shots whose clips have no take, since the export would stop there.
"""

from __future__ import annotations

import re
from contextlib import suppress
from fractions import Fraction
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.export.job import ExportJob, export_request
from engine.export.presets import SPECS, destination_problem, output_problem
from engine.media.sequence import MissingTakeError, clip_media
from engine.render.reporter import eta_text, size_text
from studio.errors import StudioError
from studio.jobs import Cancelled, Event, ExportPreset, Failed, Finished, Progress, Started
from ui.dialogs.export_range import RangeChoice
from ui.document import Document
from ui.project_life import app_settings
from ui.widgets.theme import warning_colour

PRESETS = (
    (ExportPreset.WEB, "Web — H.264 MP4"),
    (ExportPreset.HEVC, "HEVC 10-bit MP4"),
    (ExportPreset.PRORES, "ProRes 422 HQ MOV"),
    (ExportPreset.WEBM, "VP9 WebM"),
    (ExportPreset.GIF, "GIF"),
    (ExportPreset.PNG, "PNG sequence (a folder)"),
)
SIZES = ((1920, 1080), (1280, 720), (854, 480))
RATES = (
    ("23.976", Fraction(24000, 1001)),
    ("24", Fraction(24)),
    ("25", Fraction(25)),
    ("30", Fraction(30)),
    ("50", Fraction(50)),
    ("60", Fraction(60)),
)
EDIT_FORMATS = (
    ("Nothing", ""),
    ("OpenTimelineIO (.otio)", ".otio"),
    ("Final Cut Pro 7 XML (.xml)", ".xml"),
    ("CMX 3600 EDL (.edl)", ".edl"),
)
IDLE, EXPORTING, CANCELLING, DONE, FAILED, CANCELLED = (
    "idle exporting cancelling done failed cancelled".split()
)
CANCELLED_TEXT = "Cancelled — no file written"


def _suffix(preset: ExportPreset) -> str:
    suffixes = SPECS[preset].suffixes
    return suffixes[0] if suffixes else ""


def _disk_size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    return path.stat().st_size if path.exists() else 0


def missing_takes(document: Document, span: tuple[int, int] | None = None) -> list[str]:
    """The names of shots whose clips on the timeline (in frames `span`, when given) have
    no take (or a lost take file)."""
    timeline = document.project.timeline
    names: list[str] = []
    for clip in timeline.clips() if span is None else timeline.clips_between(*span):
        try:
            clip_media(document.project, document.folder, clip)
        except MissingTakeError as exc:
            if exc.title not in names:
                names.append(exc.title)
    return names


class ExportDialog(QDialog):
    """Export the edit. `settings` remembers the last preset, folder and edit format.

    Signals: `exportStarted()`, `exportFinished(path)`, `exportFailed(message)`,
    `exportCancelled()`.
    """

    exportStarted = Signal()  # noqa: N815 - Qt signal naming
    exportFinished = Signal(str)  # noqa: N815
    exportFailed = Signal(str)  # noqa: N815
    exportCancelled = Signal()  # noqa: N815
    _event = Signal(object)

    def __init__(
        self,
        document: Document,
        parent: QWidget | None = None,
        *,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export film")
        self.setObjectName("exportDialog")
        self.document = document
        self.settings = settings if settings is not None else app_settings()
        self.job: ExportJob | None = None
        self.result = None
        self.state = IDLE
        self.edit_path: Path | None = None
        self._missing: list[str] = []
        self._event.connect(self._handle, Qt.QueuedConnection)
        self._build()
        self._restore()
        # Whether every clip has a take: the timeline, the shots, and their takes.
        for signal in (document.timelineChanged, document.shotsChanged, document.takesChanged):
            signal.connect(self._check_takes)
        self._check_takes()
        self._sync_buttons()

    # -- building ------------------------------------------------------------------------
    def _build(self) -> None:
        project = self.document.project
        self.preset = QComboBox()
        for preset, label in PRESETS:
            self.preset.addItem(label, preset.value)
        self.preset.setToolTip("The file format of the film")
        self.preset.currentIndexChanged.connect(self._follow_suffix)

        self.output_edit = QLineEdit()
        self.output_edit.setToolTip("Where the film is written (a folder for a PNG sequence)")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setToolTip("Choose the file (or folder) to write")
        self.browse_button.clicked.connect(self.browse)
        output_row = QHBoxLayout()
        output_row.addWidget(self.output_edit, 1)
        output_row.addWidget(self.browse_button)

        self.size = QComboBox()
        self.size.addItem(f"Project size ({project.width} × {project.height})", "project")
        for w, h in SIZES:
            self.size.addItem(f"{w} × {h}", f"{w}x{h}")
        self.size.addItem("Custom", "custom")
        self.size.setToolTip("Frame size; takes of another shape get black bars, never stretch")
        self.size.currentIndexChanged.connect(self._size_chosen)
        self.width_spin = QSpinBox(minimum=16, maximum=8192, singleStep=2, suffix=" px")
        self.height_spin = QSpinBox(minimum=16, maximum=8192, singleStep=2, suffix=" px")
        self.width_spin.setValue(project.width)
        self.height_spin.setValue(project.height)
        self.width_spin.setToolTip("Width of a custom size (even for video presets)")
        self.height_spin.setToolTip("Height of a custom size (even for video presets)")
        size_row = QHBoxLayout()
        size_row.addWidget(self.size, 1)
        size_row.addWidget(self.width_spin)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.height_spin)

        self.fps = QComboBox()
        fps = project.timeline.fps
        self.fps.addItem(f"Timeline rate ({float(fps):g} fps)", str(fps))
        for label, rate in RATES:
            self.fps.addItem(f"{label} fps", str(rate))
        self.fps.setToolTip("Frames per second of the film")

        self.smart = QCheckBox("Copy pictures that need no new encoding (smart render)")
        self.smart.setChecked(True)
        self.smart.setToolTip(
            "Web preset: where a take already matches the film's size and rate, its pictures "
            "are copied as they are: faster, and no loss of quality"
        )

        self.edit_format = QComboBox()
        for label, suffix in EDIT_FORMATS:
            self.edit_format.addItem(label, suffix)
        self.edit_format.setToolTip(
            "Also write the edit beside the film, with the same name, for another editor"
        )

        self.form = QWidget()
        form = QFormLayout(self.form)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("&Preset", self.preset)
        for text, row, buddy in (
            ("&Output", output_row, self.output_edit),
            ("&Size", size_row, self.size),
        ):
            label = QLabel(text)
            label.setBuddy(buddy)  # the mnemonic of a row that is a layout
            form.addRow(label, row)
        form.addRow("&Frame rate", self.fps)
        self.range = RangeChoice(self.document)  # the whole edit, or in to out
        self.range.currentIndexChanged.connect(self._check_takes)
        form.addRow("&Range", self.range)
        form.addRow("", self.smart)
        form.addRow("Also write the &edit", self.edit_format)

        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.problem.setStyleSheet(f"color: {warning_colour(self.palette()).name()}")
        self.problem.hide()
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m frames")
        self.progress.hide()
        self.stage = QLabel()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.show_folder_button = QPushButton("Show in folder")
        self.show_folder_button.setToolTip("Open the folder that holds the film")
        self.show_folder_button.clicked.connect(self.show_in_folder)
        self.show_folder_button.hide()

        self.export_button = QPushButton("&Export")
        self.export_button.setDefault(True)
        self.export_button.setToolTip("Write the film (Enter)")
        self.export_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("&Cancel export")
        self.cancel_button.setToolTip("Stop the export; nothing is written")
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_folder_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.problem)
        layout.addWidget(self.progress)
        layout.addWidget(self.stage)
        layout.addWidget(self.result_label)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.setMinimumWidth(560)
        self._size_chosen()

    def _restore(self) -> None:
        preset = self.settings.value("export/preset", ExportPreset.WEB.value)
        index = self.preset.findData(preset)
        self.preset.blockSignals(True)
        self.preset.setCurrentIndex(max(0, index))
        self.preset.blockSignals(False)
        edit = self.edit_format.findData(self.settings.value("export/edit", ""))
        self.edit_format.setCurrentIndex(max(0, edit))
        folder = Path(str(self.settings.value("export/folder", "") or ""))
        if not str(folder) or str(folder) == "." or not folder.is_dir():
            folder = self.document.folder.parent
        title = self.document.project.title or self.document.folder.stem
        name = re.sub(r'[\\/:*?"<>|]+', "-", title).strip(" .") or "Film"
        self.output_edit.setText(str(folder / f"{name}{_suffix(self.current_preset)}"))
        self.smart.setEnabled(self.current_preset is ExportPreset.WEB)

    def _remember(self) -> None:
        self.settings.setValue("export/preset", self.current_preset.value)
        self.settings.setValue("export/edit", self.edit_format.currentData())
        output = self.output_path()
        if output is not None:
            self.settings.setValue("export/folder", str(output.parent))

    # -- the choices ---------------------------------------------------------------------
    @property
    def current_preset(self) -> ExportPreset:
        return ExportPreset(self.preset.currentData())

    def set_preset(self, preset: ExportPreset) -> None:
        self.preset.setCurrentIndex(self.preset.findData(ExportPreset(preset).value))

    def output_path(self) -> Path | None:
        text = self.output_edit.text().strip()
        return Path(text).expanduser() if text else None

    def set_output(self, path: str | Path) -> None:
        self.output_edit.setText(str(path))

    def set_size(self, width: int, height: int) -> None:
        """Choose a size: a listed one when it is listed, else a custom one."""
        index = self.size.findData(f"{width}x{height}")
        self.size.setCurrentIndex(index if index >= 0 else self.size.count() - 1)
        self.width_spin.setValue(width)
        self.height_spin.setValue(height)

    def export_size(self) -> tuple[int, int]:
        data = self.size.currentData()
        if data == "custom":
            return self.width_spin.value(), self.height_spin.value()
        if data == "project":
            return self.document.project.width, self.document.project.height
        width, height = data.split("x")
        return int(width), int(height)

    def export_fps(self) -> Fraction:
        return Fraction(self.fps.currentData())

    def set_fps(self, fps: Fraction | int) -> None:
        index = self.fps.findData(str(Fraction(fps)))
        if index >= 0:
            self.fps.setCurrentIndex(index)

    def _size_chosen(self, *_args) -> None:
        custom = self.size.currentData() == "custom"
        self.width_spin.setEnabled(custom)
        self.height_spin.setEnabled(custom)
        if not custom:
            w, h = self.export_size()
            self.width_spin.setValue(w)
            self.height_spin.setValue(h)

    def _follow_suffix(self, *_args) -> None:
        """The output name takes the chosen preset's suffix (none for a PNG folder)."""
        self.smart.setEnabled(self.current_preset is ExportPreset.WEB)
        output = self.output_path()
        if output is None:
            return
        spec = SPECS[self.current_preset]
        known = {s for p in SPECS.values() for s in p.suffixes} | {".png"}
        base = output.with_suffix("") if output.suffix.lower() in known else output
        if spec.suffixes and output.suffix.lower() in spec.suffixes:
            return
        self.output_edit.setText(str(base.with_name(base.name + _suffix(self.current_preset))))

    def browse(self) -> None:
        preset = self.current_preset
        current = str(self.output_path() or self.document.folder.parent)
        if SPECS[preset].suffixes:
            patterns = " ".join(f"*{s}" for s in SPECS[preset].suffixes)
            label = dict(PRESETS)[preset]
            name, _ = QFileDialog.getSaveFileName(
                self, "Export film", current, f"{label} ({patterns})"
            )
        else:
            name, _ = QFileDialog.getSaveFileName(
                self, "Name the folder of PNG frames", current, "Folder (*)"
            )
        if name:
            self.set_output(name)
            self._follow_suffix()

    # -- checks --------------------------------------------------------------------------
    def _check_takes(self) -> list[str]:
        if self.state in (EXPORTING, CANCELLING):
            return []
        names = missing_takes(self.document, self.range.chosen_range())
        if names:
            quoted = ", ".join(f"“{n}”" for n in names)
            shots = "this shot has" if len(names) == 1 else "these shots have"
            self.show_problem(
                f"The film cannot be exported yet: {shots} no take on the timeline: {quoted}. "
                "Render them first (Render ▸ Render all shots)."
            )
        elif self.problem.property("takes"):
            self.show_problem("")
        self.problem.setProperty("takes", bool(names))
        self._missing = names
        self._sync_buttons()
        return names

    def problems(self) -> str:
        """Why the export cannot start as chosen, or ""."""
        output = self.output_path()
        if output is None:
            return "Choose where to write the film."
        preset = self.current_preset
        # The checks gallop export makes: a folder that exists and can be written, never
        # the project's takes/, a device or a pipe, a file or a folder as the preset needs.
        png = preset is ExportPreset.PNG
        problem = output_problem(preset, output) or destination_problem(
            output, self.document.folder, folder_output=png
        )
        if problem:
            return problem[0].upper() + problem[1:] + "."
        width, height = self.export_size()
        if preset is not ExportPreset.PNG and (width % 2 or height % 2):
            return f"Video needs an even width and height, not {width} × {height}."
        return ""

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def confirm_overwrite(self, path: Path) -> bool:
        answer = QMessageBox.question(
            self, "Export film", f"{path.name} exists. Replace it when the export is done?"
        )
        return answer == QMessageBox.Yes

    def confirm_stop(self) -> bool:
        answer = QMessageBox.question(
            self, "Export film", "The film is still being written. Stop the export and close?"
        )
        return answer == QMessageBox.Yes

    # -- running -------------------------------------------------------------------------
    @property
    def exporting(self) -> bool:
        return self.state in (EXPORTING, CANCELLING)

    def start(self) -> bool:
        """Start the export as chosen; False (with the reason shown) when it cannot."""
        if self.exporting:
            return False
        if self._check_takes():
            return False
        problem = self.problems()
        if problem:
            self.show_problem(problem)
            return False
        output = self.output_path()
        assert output is not None
        if output.is_file() and not self.confirm_overwrite(output):
            return False
        width, height = self.export_size()
        project, folder = self.document.project, self.document.folder
        try:
            request = export_request(
                project,
                folder,
                output,
                self.current_preset,
                width=width,
                height=height,
                fps=self.export_fps(),
                smart_render=self.smart.isChecked(),
                range=self.range.chosen_range(),
            )
            job = ExportJob(project, folder, request, self._sink)
        except StudioError as exc:
            self.show_problem(str(exc))
            return False
        self._remember()
        self.show_problem("")
        self.result, self.edit_path = None, None
        self.job = job
        self.state = EXPORTING
        self.result_label.clear()
        self.result_label.setStyleSheet("")
        self.show_folder_button.hide()
        self.progress.setRange(0, 0)  # busy until the first frame is counted
        self.progress.show()
        self.stage.setText("Starting…")
        self._sync_buttons()
        # A dialog destroyed with its window while the film is written stops the export:
        # nobody is left to see it, and a cancelled export leaves no file behind.
        self.destroyed.connect(job.cancel)
        self.exportStarted.emit()
        job.start()
        return True

    def cancel(self) -> None:
        """Stop the running export; the dialog then says that nothing was written."""
        if self.job is not None and self.state == EXPORTING:
            self.job.cancel()
            self.state = CANCELLING
            self.stage.setText("Cancelling…")
            self._sync_buttons()

    def _sink(self, event: Event) -> None:
        with suppress(RuntimeError):  # the dialog is gone: its events have nobody to tell
            self._event.emit(event)  # the export thread -> the GUI thread

    def _handle(self, event: Event) -> None:
        if self.job is None or event.job_id != self.job.id:
            return  # an earlier export of this dialog
        if isinstance(event, Started):
            if self.state == EXPORTING:
                self.stage.setText("Preparing…")
        elif isinstance(event, Progress):
            self.progress.setRange(0, max(1, event.total))
            self.progress.setValue(event.step)
            if self.state == EXPORTING:
                eta = eta_text(event.eta_seconds)
                text = f"{str(event.stage).capitalize()}: frame {event.step} of {event.total}"
                self.stage.setText(f"{text} · {eta}" if eta else text)
        elif isinstance(event, Finished):
            self._finished(event.result)
        elif isinstance(event, Failed):
            self.state = FAILED
            self.stage.clear()
            self.progress.hide()
            self.show_problem(event.message)
            self._sync_buttons()
            self.exportFailed.emit(event.message)
        elif isinstance(event, Cancelled):
            self.state = CANCELLED
            self.progress.hide()
            self.stage.setText(CANCELLED_TEXT)
            self._sync_buttons()
            self.exportCancelled.emit()

    def _finished(self, result) -> None:
        self.state, self.result = DONE, result
        path = Path(result.path)
        self.progress.setRange(0, max(1, result.frames))
        self.progress.setValue(result.frames)
        self.stage.setText("Done")
        lines = [
            f"Wrote {path}",
            f"{size_text(_disk_size(path))} · {result.frames} frames · {result.seconds:.2f} s",
        ]
        copied = getattr(result, "copied_segments", None)
        encoded = getattr(result, "encoded_segments", None)
        if copied is not None and encoded is not None:
            lines.append(f"Copied {copied} segments from the takes, encoded {encoded}.")
        suffix = self.edit_format.currentData()
        if suffix:
            lines.append(self._write_edit(path, suffix))
        self.result_label.setText("\n".join(lines))
        self.show_folder_button.show()
        self._sync_buttons()
        self.exportFinished.emit(str(path))

    def _write_edit(self, film: Path, suffix: str) -> str:
        target = film.with_name(film.stem + suffix) if film.suffix else Path(f"{film}{suffix}")
        try:
            from engine.export.interchange import write_edit  # OTIO loads only when asked for

            self.edit_path = write_edit(self.document.project, self.document.folder, target)
        except ImportError as exc:
            return f"The edit was not written: interchange is not available ({exc})."
        except StudioError as exc:
            self.result_label.setStyleSheet(f"color: {warning_colour(self.palette()).name()}")
            return f"The edit was not written: {exc}"
        return f"Wrote the edit to {self.edit_path.name}."

    def show_in_folder(self) -> None:
        if self.result is None:
            return
        path = Path(self.result.path)
        folder = path if path.is_dir() else path.parent
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def _sync_buttons(self) -> None:
        busy = self.exporting
        self.form.setEnabled(not busy)
        self.export_button.setEnabled(not busy and not self._missing)
        self.export_button.setText("Export &again" if self.state == DONE else "&Export")
        self.cancel_button.setEnabled(self.state == EXPORTING)
        self.cancel_button.setVisible(busy)

    # -- closing -------------------------------------------------------------------------
    def reject(self) -> None:
        """Close (Esc, the window's close button): a running export is stopped if agreed."""
        if self.exporting:
            if not self.confirm_stop():
                return
            self.cancel()
            if self.job is not None:
                self.job.wait(30)
        super().reject()
