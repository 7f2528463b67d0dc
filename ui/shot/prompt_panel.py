"""The prompt panel: the current shot's words, bible, seed, size, model, keyframe and
continuity, where every change is one undoable command on the document's stack. Its widgets
are built and laid out by `ui.shot.shot_form`."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSignalBlocker, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QComboBox, QFileDialog, QListWidgetItem, QWidget

from engine.backends.base import RenderError
from engine.backends.pictures import load_image
from engine.models.catalog import SHOW_TEST_MODELS, Availability, Catalog, forced_test_models
from engine.models.estimates import estimate, with_quantization
from engine.render.planning import plan_shot
from studio.commands import set_field
from studio.errors import StudioError
from studio.project.io import check_inside
from studio.project.loras import effective_loras
from studio.project.model import Shot
from ui.shot.shot_form import (
    CAMERA_LABELS,
    FPS_CHOICES,
    PROFILE_LABELS,
    SEED_MAX,
    SIZE_PRESETS,
    SIZE_STEP,
    WARNING,
    ShotForm,
    fps_label,
    rate_note,
    snap_size,
)
from ui.widgets.images import to_pixmap
from ui.widgets.keyframe_drop import PREVIEW, import_image
from ui.widgets.model_availability import AvailabilityCheck

if TYPE_CHECKING:
    from ui.bridge import EngineBridge
    from ui.document import Document

BURST_IDLE_MS = 1500  # a pause this long ends a typing burst: the next keys are a new step
ESTIMATE_DELAY_MS = 200

# The form's choices live in shot_form; callers and tests import them from here too.
__all__ = [
    "BURST_IDLE_MS",
    "CAMERA_LABELS",
    "ESTIMATE_DELAY_MS",
    "FPS_CHOICES",
    "PROFILE_LABELS",
    "SEED_MAX",
    "SHOW_TEST_MODELS",
    "SIZE_PRESETS",
    "SIZE_STEP",
    "WARNING",
    "PromptPanel",
    "fps_label",
    "rate_note",
    "snap_size",
]


class PromptPanel(QWidget, ShotForm):
    """Shows and edits `document.current_shot`; the render button asks the window to
    render it with N variations (`renderRequested(int)`)."""

    renderRequested = Signal(int)  # noqa: N815 - number of variations (1 = one take)
    modelsChecked = Signal()  # noqa: N815 - model availability arrived from the background

    def __init__(
        self,
        document: Document,
        bridge: EngineBridge | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.bridge = bridge
        self.catalog = Catalog()
        self.availability: dict[str, Availability] = {}
        self._shot: Shot | None = None
        self._burst = 0
        self._own_push = False
        self._bible_key: tuple = ()
        self._model_ids: list[str] = []
        # The window sets the preference (`set_show_test_models`); the environment may force it.
        self.show_test_models = bool(forced_test_models())
        self._estimate_key: tuple | None = None
        self.estimate = None  # the last engine.models.estimates.Estimate shown
        self._preview_key: tuple = ()
        self._rng = random.Random()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._check: AvailabilityCheck | None = None
        self._check_again = False

        self._burst_timer = QTimer(self, singleShot=True, interval=BURST_IDLE_MS)
        self._burst_timer.timeout.connect(self.end_burst)
        self._estimate_timer = QTimer(self, singleShot=True, interval=ESTIMATE_DELAY_MS)
        self._estimate_timer.timeout.connect(self._update_estimate)

        self._build()
        document.shotChanged.connect(self._fields_changed)
        document.bibleChanged.connect(self._bible_changed)
        document.statusChanged.connect(self._status_changed)
        document.currentShotChanged.connect(self._shot_changed)
        document.timelineChanged.connect(self._show_rates)  # the edit's rate may have changed
        document.undo_stack.indexChanged.connect(self._history_moved)
        if bridge is not None:
            bridge.shotStateChanged.connect(self._job_state_changed)
            bridge.jobChanged.connect(self._job_changed)
        self.refresh()
        self.refresh_availability()

    # -- edits -------------------------------------------------------------------------
    def _set(self, name: str, value, *, merge: bool = False) -> None:
        """Push one field change of the current shot; nothing when the value is the same
        (a refresh of the widgets must never come back as an edit)."""
        shot = self._shot
        if shot is None or getattr(shot, name) == value:
            if name in ("width", "height") and shot is not None:
                self.refresh()  # show the snapped size when the typed one rounds back
            return
        # With the project, a new duration carries the shot's untrimmed clips along.
        command = set_field(shot, name, value, merge=merge, project=self.document.project)
        if merge:
            # One undo step per burst: a pause, an undo or another edit starts a new one.
            command.merge_key = (*command.merge_key, self._burst)
            self._burst_timer.start()
        self._own_push = True
        try:
            self.document.push(command)
        finally:
            self._own_push = False

    def end_burst(self) -> None:
        """The next typed change starts a new undo step."""
        self._burst += 1

    def _character_toggled(self, item: QListWidgetItem) -> None:
        shot = self._shot
        if shot is None:
            return
        char_id = item.data(Qt.UserRole)
        chosen = [c for c in shot.characters if c != char_id]
        if item.checkState() == Qt.Checked:
            chosen.append(char_id)
        self._set("characters", chosen)

    def _preset_chosen(self) -> None:
        data = self.preset_combo.currentData()
        shot = self._shot
        if not data or shot is None:
            return
        size = tuple(int(n) for n in data.split("x"))
        if (shot.width, shot.height) == size:
            return
        with self.document.macro(f"Size {size[0]}×{size[1]}"):
            self._set("width", size[0])
            self._set("height", size[1])

    def randomise_seed(self) -> None:
        shot = self._shot
        if shot is None or shot.seed_locked:
            return
        seed = shot.seed
        while seed == shot.seed:
            seed = self._rng.randrange(SEED_MAX + 1)
        self._set("seed", seed)

    def set_keyframe_file(self, path: str) -> bool:
        """Use an image file as the keyframe (copied into the project when outside it).
        A file that is not a readable image leaves the shot as it was and says why."""
        if self._shot is None:
            return False
        try:
            relative = import_image(self.document.folder, Path(path))
        except StudioError as error:
            self._show_image_message(str(error))
            return False
        self._show_image_message("")
        self._set("keyframe", relative)
        return True

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Keyframe image", str(self.document.folder), "Images (*.png *.jpg *.jpeg *.webp)"
        )
        if path:
            self.set_keyframe_file(path)

    def _variations_changed(self, n: int) -> None:
        self.render_button.setText("Render shot" if n == 1 else f"Render {n} variations")

    def request_render(self) -> None:
        if self._shot is not None and self.render_button.isEnabled():
            self.renderRequested.emit(self.variations_spin.value())

    # -- from the model ----------------------------------------------------------------
    def _history_moved(self, _index: int) -> None:
        if not self._own_push:
            self.end_burst()  # an undo or another panel's edit: typing starts afresh

    def _fields_changed(self, shot_id: str, _fields: frozenset[str]) -> None:
        if shot_id == self.document.current_shot_id:
            self.refresh()

    def _bible_changed(self) -> None:
        self.refresh()

    def _status_changed(self, shot_ids: list[str] | None) -> None:
        shot_id = self.document.current_shot_id
        if shot_id and (shot_ids is None or shot_id in shot_ids):
            self._show_job_state()
            self._estimate_timer.start()  # what it continues from may have changed

    def _shot_changed(self, _shot_id: str) -> None:
        self.end_burst()
        self._show_image_message("")
        self.refresh()

    @contextmanager
    def _blocked(self) -> Iterator[None]:
        blockers = [QSignalBlocker(widget) for widget in self._editors]
        try:
            yield
        finally:
            for blocker in blockers:
                blocker.unblock()

    def refresh(self) -> None:
        """Show the current shot; a no-op for widgets that already show its values."""
        shot = self._shot = self.document.current_shot
        self.empty_label.setVisible(shot is None)
        self.body.setEnabled(shot is not None)
        self.render_button.setEnabled(shot is not None)
        self.variations_spin.setEnabled(shot is not None)
        with self._blocked():
            self._refresh_bible(shot)
            self._refresh_models(shot)
            if shot is None:
                for edit in (self.title_edit, self.prompt_edit, self.negative_edit):
                    edit.clear()
            else:
                self._refresh_fields(shot)
        self.dialogue_view.show_shot(shot)
        self._show_rates()
        self._refresh_keyframe(shot)
        # Debounced: typing restarts the wait, so planning never runs per keystroke.
        self._estimate_timer.start()

    def _refresh_fields(self, shot: Shot) -> None:
        if self.title_edit.text() != shot.title:
            self.title_edit.setText(shot.title)
        for edit, text in (
            (self.prompt_edit, shot.prompt),
            (self.negative_edit, shot.negative_prompt),
        ):
            # Same text: leave it, so the cursor stays where the director is typing.
            if edit.toPlainText() != text:
                cursor = edit.textCursor()
                position = cursor.position()
                edit.setPlainText(text)  # an undo: keep the cursor near where it was
                cursor.setPosition(min(position, len(text)))
                edit.setTextCursor(cursor)
        self._select(self.profile_combo, shot.profile.value)
        self._select(self.quantization_combo, shot.quantization.value)
        self._select(self.camera_combo, shot.camera_mode.value)
        self.seed_spin.setValue(min(shot.seed, SEED_MAX))
        self.lock_button.setChecked(shot.seed_locked)
        self.lock_button.setText("Locked" if shot.seed_locked else "Lock")
        self.randomise_button.setEnabled(not shot.seed_locked)
        self.duration_spin.setValue(shot.duration)
        if self.fps_combo.findData(str(shot.fps)) < 0:
            self.fps_combo.addItem(fps_label(shot.fps), str(shot.fps))  # a rate from elsewhere
        self._select(self.fps_combo, str(shot.fps))
        self.width_spin.setValue(shot.width)
        self.height_spin.setValue(shot.height)
        preset = self.preset_combo.findData(f"{shot.width}x{shot.height}")
        self.preset_combo.setCurrentIndex(max(0, preset))
        self.continue_check.setChecked(shot.continue_from_previous)
        self.match_check.setChecked(shot.match_colour)
        self.match_check.setEnabled(shot.continue_from_previous)

    @staticmethod
    def _select(combo: QComboBox, value) -> None:
        combo.setCurrentIndex(max(0, combo.findData(value)))

    def _refresh_bible(self, shot: Shot | None) -> None:
        project = self.document.project
        key = (
            tuple((c.id, c.name, c.description) for c in project.characters),
            tuple((s.id, s.name, s.description) for s in project.styles),
        )
        if key != self._bible_key:
            self._bible_key = key
            self.characters_list.clear()
            for character in project.characters:
                item = QListWidgetItem(character.name)
                item.setData(Qt.UserRole, character.id)
                item.setToolTip(character.description or "No description")
                item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsUserCheckable)
                self.characters_list.addItem(item)
            if not project.characters:
                self.characters_list.addItem(QListWidgetItem("No characters in the bible"))
            # As tall as its rows (up to five): the bible is usually short.
            rows = min(max(self.characters_list.count(), 1), 5)
            row_height = max(self.characters_list.sizeHintForRow(0), 18)
            frame = 2 * self.characters_list.frameWidth()
            self.characters_list.setFixedHeight(rows * row_height + frame + 2)
            self.style_combo.clear()
            self.style_combo.addItem("No style", "")
            for style in project.styles:
                self.style_combo.addItem(style.name, style.id)
                self.style_combo.setItemData(
                    self.style_combo.count() - 1,
                    style.description or "No description",
                    Qt.ToolTipRole,
                )
        chosen = set(shot.characters) if shot else set()
        for row in range(self.characters_list.count()):
            item = self.characters_list.item(row)
            if item.data(Qt.UserRole) is not None:
                on = item.data(Qt.UserRole) in chosen
                item.setCheckState(Qt.Checked if on else Qt.Unchecked)
        self._select(self.style_combo, (shot.style or "") if shot else "")

    def _show_rates(self) -> None:
        """The edit's rate beside the rate the shot's model renders at."""
        shot = self._shot
        if shot is None:
            self.rate_label.clear()
            return
        edit = self.document.project.timeline.fps
        if shot.model_id not in self.catalog:
            text, tip = rate_note(edit, None), f"{shot.model_id} is not in the model catalog"
        else:
            entry = self.catalog.get(shot.model_id)
            # The previz draws at the shot's own rate; diffusion models at their native one.
            native = shot.fps if entry.backend == "previz" else entry.fps
            text = rate_note(edit, native)
            tip = f"The edit plays at {fps_label(edit)} fps; {entry.name} renders "
            tip += f"{fps_label(native)} fps"
            if native != edit:
                tip += ", so its takes are resampled to the edit's rate on the timeline"
        self.rate_label.setText(text)
        self.rate_label.setToolTip(tip)

    def set_show_test_models(self, on: bool) -> None:
        """Offer the tiny test models in the model list, or not (the shot's own model
        stays listed either way)."""
        self.show_test_models = bool(on)
        with self._blocked():
            self._refresh_models(self._shot)

    def _listed_models(self, shot: Shot | None) -> list[str]:
        ids = [e.id for e in self.catalog.offered(test_models=self.show_test_models)]
        if shot is not None and shot.model_id not in ids:
            ids.append(shot.model_id)  # the shot's own model is always offered
        return ids

    def _refresh_models(self, shot: Shot | None) -> None:
        ids = self._listed_models(shot)
        if ids != self._model_ids:
            self._model_ids = ids
            self.model_combo.clear()
            for model_id in ids:
                self.model_combo.addItem(model_id, model_id)
            self._label_models()
        if shot is not None:
            self._select(self.model_combo, shot.model_id)
        self._show_model_warning(shot)

    def _label_models(self) -> None:
        """Name each model; an unavailable one is greyed, with the reason beside it."""
        # Halfway between text and background: greyed on a dark theme and on a light one.
        text, base = self.palette().color(QPalette.Text), self.palette().color(QPalette.Base)
        grey = QColor(
            (text.red() + base.red()) // 2,
            (text.green() + base.green()) // 2,
            (text.blue() + base.blue()) // 2,
        )
        for row, model_id in enumerate(self._model_ids):
            found = self.availability.get(model_id)
            if model_id not in self.catalog:
                text, tip, dim = f"{model_id} (unknown model)", "Not in the model catalog", True
            else:
                entry = self.catalog.get(model_id)
                info = f"{entry.family}, {entry.vram_text}, {entry.licence}"
                if found is None:
                    text, tip, dim = entry.name, f"{info}\nChecking whether it is on disk…", False
                elif found.available:
                    text, tip, dim = entry.name, f"{info}\nAvailable ({found.reason})", False
                else:
                    text, tip, dim = f"{entry.name} — {found.reason}", found.reason, True
            self.model_combo.setItemText(row, text)
            self.model_combo.setItemData(row, tip, Qt.ToolTipRole)
            self.model_combo.setItemData(row, grey if dim else None, Qt.ForegroundRole)

    def _show_model_warning(self, shot: Shot | None) -> None:
        reason = None
        if shot is not None:
            if shot.model_id not in self.catalog:
                reason = f"Unknown model {shot.model_id!r}: choose another one"
            elif (found := self.availability.get(shot.model_id)) and not found.available:
                reason = found.reason[:1].upper() + found.reason[1:]
        self.model_warning.setText(reason or "")
        self.model_warning.setVisible(bool(reason))
        self.model_combo.setToolTip(reason or "The model that renders the shot")

    def refresh_availability(self) -> None:
        """Look for the catalog's models on disk again (after a download, say)."""
        if self._check is not None and not self._pool.waitForDone(0):
            self._check_again = True  # the files may have changed since it started
            return
        self._check = AvailabilityCheck(list(self.catalog))
        self._check.signals.done.connect(self._availability_ready)
        self._pool.start(self._check)

    def _availability_ready(self, found: dict) -> None:
        if self._check_again:
            self._check_again = False
            self._pool.waitForDone()  # it has emitted: only its return is left
            self.refresh_availability()
            return
        self.availability = dict(found)
        self._label_models()
        self._show_model_warning(self._shot)
        self.modelsChecked.emit()

    def _refresh_keyframe(self, shot: Shot | None) -> None:
        self.clear_button.setEnabled(bool(shot and shot.keyframe))
        keyframe = shot.keyframe if shot else None
        path = None
        stamp = None
        if keyframe:
            try:
                path = check_inside(self.document.folder, keyframe)
                stamp = path.stat().st_mtime_ns
            except (StudioError, OSError):
                stamp = None
        key = (keyframe, stamp)
        if key == self._preview_key:
            return
        self._preview_key = key
        self._show_image_message("")
        drop = self.keyframe_drop
        if not keyframe:
            drop.setText("Drop an image here\n(PNG, JPEG or WebP)")
            return
        try:
            if stamp is None:
                raise RenderError(f"the keyframe {keyframe} is missing from the project")
            pixmap = to_pixmap(load_image(path))
        except StudioError as error:
            drop.setText(keyframe)
            self._show_image_message(str(error))
            return
        drop.setPixmap(pixmap.scaled(PREVIEW, Qt.KeepAspectRatio, Qt.SmoothTransformation))
        drop.setToolTip(f"{keyframe}\nDrop another image to replace it")

    def _show_image_message(self, text: str) -> None:
        self.image_message.setText(text)
        self.image_message.setVisible(bool(text))

    def _planning_key(self, shot: Shot | None) -> tuple:
        if shot is None:
            return ()
        project = self.document.project
        index = project.shot_index(shot.id)
        upstream = project.shots[index - 1].selected_take if index > 0 else None
        return (
            shot.id, shot.duration, shot.fps, shot.width, shot.height, shot.model_id,
            shot.quantization,
            shot.profile, shot.camera_mode, shot.continue_from_previous, upstream,
            shot.keyframe, shot.end_keyframe, shot.keyframes, shot.end_on_next,
            tuple(shot.characters), len(shot.takes), shot.selected_take,
            effective_loras(project, shot),
        )  # fmt: skip

    def _update_estimate(self) -> None:
        """Frames after snapping and the plan's notes, or why the shot cannot render."""
        shot = self._shot
        key = self._planning_key(shot)
        if key != self._estimate_key:
            self._estimate_key = key
            self._show_plan(shot)
        self._show_job_state()

    def _show_plan(self, shot: Shot | None) -> None:
        if shot is None:
            self.estimate_label.clear()
            return
        try:
            document = self.document
            files = document.statuses.files(document.folder)  # hashes shared with the status
            planned = plan_shot(document.project, document.folder, shot, files=files)
        except StudioError as error:
            self.estimate_label.setText(str(error))
            self._paint_warning(self.estimate_label, True)
        else:
            r = planned.request
            lines = [f"{r.frames} frames at {fps_label(r.fps)} fps, {r.width}×{r.height}"]
            lines += list(planned.notes)
            guess = estimate(
                planned.entry,
                r.width,
                r.height,
                r.frames,
                r.profile,
                r.steps,
                camera_mode=r.camera_mode,
            )
            guess = with_quantization(guess, planned.entry, r.quantization)
            lines.append(f"Estimate: {guess.summary}")
            self.estimate = guess
            self.estimate_label.setText("\n".join(lines))
            tip = guess.basis + (f"\nSource: {guess.source}" if guess.source else "")
            self.estimate_label.setToolTip(tip)
            self._paint_warning(self.estimate_label, False)

    # -- the engine --------------------------------------------------------------------
    def _job_state_changed(self, shot_id: str) -> None:
        if self._shot is not None and shot_id == self._shot.id:
            self._show_job_state()

    def _job_changed(self, job_id: str) -> None:
        info = self.bridge.jobs.get(job_id)
        if info is not None and self._shot is not None and info.shot_id == self._shot.id:
            self._show_job_state()

    def _show_job_state(self) -> None:
        shot = self._shot
        info = self.bridge.job_for_shot(shot.id) if (self.bridge and shot) else None
        if info is not None and info.active:
            text = info.state.capitalize()
            if info.total:
                text += f" {info.fraction:.0%}"
        elif shot is not None:
            try:
                text = self.document.shot_status(shot).capitalize()
            except StudioError:
                text = "Not rendered"
            if info is not None and info.state == "failed":
                text = f"Last render failed: {info.message}"
        else:
            text = ""
        self.job_label.setText(text)
