"""The takes of the current shot: pick the one the timeline uses, discard the others,
compare two frame by frame, read a take's manifest, and render more seeds to choose from.
Each take shows its camera score (how closely its camera followed the shot's rig, measured
by the engine: `studio.camera.adherence`); the list can be sorted by it, and "Pick best
camera" picks the best-scoring take. A draft take (the draft profile) is marked so, and
Finalize (its context menu, the button, F) renders its final: the same shot at quality with
the draft's seed, which the shot adopts when it lands.

Every change goes through the document's undo stack. Discarding a take drops it from the
shot only; its file stays in the take store (undo brings it back) until garbage collection.
"""

from __future__ import annotations

import json
from datetime import datetime

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QAction, QFontDatabase, QGuiApplication, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.camera.adherence import best_scoring
from studio.commands import RemoveItem, pick_take, set_field
from studio.errors import StudioError
from studio.project.model import Shot, Take
from ui.bridge import EngineBridge
from ui.document import Document
from ui.takes.take_compare import TakeCompareDialog
from ui.widgets.flow_layout import FlowLayout
from ui.widgets.theme import warning_colour
from ui.widgets.thumbnails import ThumbnailCache

TAKE_ROLE = Qt.UserRole  # the take id of a list item
THUMB_WIDTH, THUMB_HEIGHT = 160, 90


def created_text(created: str) -> str:
    """An ISO time stamp as local time for people; the raw text if it does not parse."""
    try:
        moment = datetime.fromisoformat(created)
    except ValueError:
        return created
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")


def camera_text(take: Take) -> str:
    """ "camera 94" for a take whose camera was measured, else "" (the third line of its
    entry, with the colour jump at a chained take's join)."""
    return f"camera {round(take.adherence.score)}" if take.adherence is not None else ""


def camera_tooltip(take: Take) -> str:
    """What the engine measured on the take, in words (one line each), or ""."""
    lines = []
    if take.adherence is not None:
        lines.append(take.adherence.summary())
    if take.colour_jump is not None:
        lines.append(f"colour jump from the take it continues: ΔE {take.colour_jump:.1f}")
    return "\n".join(lines)


def by_camera_score(takes: list[Take]) -> list[Take]:
    """Best camera score first; takes with none keep their order after the others."""
    scored = [t for t in takes if t.adherence is not None]
    scored.sort(key=lambda t: -t.adherence.score)  # type: ignore[union-attr]
    return scored + [t for t in takes if t.adherence is None]


def manifest_text(take: Take) -> str:
    """The take's request as indented JSON: everything needed to render it again."""
    return json.dumps(json.loads(take.request.canonical_json()), indent=2, ensure_ascii=False)


class ManifestDialog(QDialog):
    """A take's manifest, read-only, with a copy button."""

    def __init__(self, take: Take, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Manifest of take {take.id[:12]}")
        self.text = QPlainTextEdit(manifest_text(take))
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.NoWrap)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ActionRole)
        copy.setToolTip("Copy the manifest to the clipboard")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText()))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(560, 520)


class TakesPanel(QWidget):
    """The current shot's takes, newest last, the picked one marked."""

    def __init__(
        self,
        document: Document,
        bridge: EngineBridge | None = None,
        thumbnails: ThumbnailCache | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("takesPanel")
        self.document = document
        self.bridge = bridge
        self.thumbnails = thumbnails if thumbnails is not None else ThumbnailCache(parent=self)
        self._shown: tuple | None = None  # what the list was built from
        self.compare_dialog: TakeCompareDialog | None = None
        self.manifest_dialog: ManifestDialog | None = None

        self.heading = QLabel()
        self.heading.setWordWrap(True)  # a long shot title wraps instead of widening the dock
        self.list = QListWidget()
        self.list.setObjectName("takeList")
        self.list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.list.setIconSize(QPixmap(THUMB_WIDTH, THUMB_HEIGHT).size())
        self.list.setUniformItemSizes(True)
        self.list.setSpacing(2)
        self.list.setToolTip(
            "Double-click or Enter picks a take; select two (Ctrl+click) to compare them"
        )
        self.list.itemSelectionChanged.connect(self._update_actions)
        self.list.itemDoubleClicked.connect(lambda item: self.pick(item.data(TAKE_ROLE)))
        self.list.setContextMenuPolicy(Qt.ActionsContextMenu)  # the actions below

        self.pick_action = self._action(
            "Pick",
            self._pick_current,
            "Make this the shot's take (and its seed the shot's)",
            "Return",
        )
        self.discard_action = self._action(
            "Discard", self.discard, "Remove the selected takes from the shot", "Delete"
        )
        self.compare_action = self._action(
            "Compare", self.compare, "Compare the two selected takes frame by frame", "C"
        )
        self.manifest_action = self._action(
            "Show manifest", self.show_manifest, "Everything that made this take", "Ctrl+I"
        )
        self.pick_camera_action = self._action(
            "Pick best camera",
            self.pick_best_camera,
            "Pick the take whose camera followed the rig best (and its seed)",
            "B",
        )
        self.finalize_action = self._action(
            "Finalize",
            self.finalize,
            "Render this draft's final: the quality profile with the draft's seed, prompt "
            "and camera",
            "F",
        )
        self.sort_action = self._action(
            "Sort by camera",
            lambda: None,
            "List the takes by camera score, best first, instead of in render order",
            "S",
        )
        self.sort_action.setCheckable(True)
        self.sort_action.toggled.connect(lambda _on: self.refresh())
        actions = FlowLayout()  # wraps in a narrow dock instead of widening it
        for action in (
            self.pick_action,
            self.discard_action,
            self.compare_action,
            self.manifest_action,
            self.pick_camera_action,
            self.finalize_action,
            self.sort_action,
        ):
            button = QToolButton()
            button.setDefaultAction(action)
            actions.addWidget(button)

        self.variations = QSpinBox()
        self.variations.setRange(2, 16)
        self.variations.setValue(4)
        self.variations.setToolTip("How many seeds to render, counting up from the shot's seed")
        self.render_button = QPushButton()
        self.render_button.setToolTip("Queue this shot with several seeds to choose from")
        self.render_button.clicked.connect(self.render_variations)
        self.variations.valueChanged.connect(self._update_render_text)
        render = QHBoxLayout()
        render.addWidget(QLabel("Seeds:"))
        render.addWidget(self.variations)
        render.addWidget(self.render_button, 1)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addWidget(self.list, 1)
        layout.addLayout(actions)
        layout.addLayout(render)
        layout.addWidget(self.message)

        # Bound methods, not lambdas: Qt drops them with the panel, while the document and
        # a shared thumbnail cache live on and keep announcing.
        document.takesChanged.connect(self._takes_changed)
        document.shotChanged.connect(self._fields_changed)
        document.currentShotChanged.connect(self._shot_changed)
        self.thumbnails.ready.connect(self._thumbnail_ready)
        self._update_render_text(self.variations.value())
        self.refresh()

    def _action(self, text: str, slot, tip: str, shortcut: str) -> QAction:
        action = QAction(text, self)
        action.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})")
        action.setShortcut(QKeySequence(shortcut))
        # On the list only, so Return in the seed box does not pick a take.
        action.setShortcutContext(Qt.WidgetShortcut)
        self.list.addAction(action)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    # -- the list ----------------------------------------------------------------------
    @property
    def shot(self) -> Shot | None:
        return self.document.current_shot

    def take_ids(self) -> list[str]:
        return [self.list.item(i).data(TAKE_ROLE) for i in range(self.list.count())]

    def selected_take_ids(self) -> list[str]:
        """The selected takes in list order."""
        return [
            self.list.item(i).data(TAKE_ROLE)
            for i in range(self.list.count())
            if self.list.item(i).isSelected()
        ]

    def select_takes(self, take_ids: list[str]) -> None:
        wanted = set(take_ids)
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setSelected(item.data(TAKE_ROLE) in wanted)
            if item.data(TAKE_ROLE) in wanted:
                self.list.setCurrentItem(item, QItemSelectionModel.NoUpdate)

    def _shot_changed(self, _shot_id: str) -> None:
        self.refresh()

    def _takes_changed(self, shot_id: str) -> None:
        if shot_id == self.document.current_shot_id:
            self.refresh()

    def _fields_changed(self, shot_id: str, fields: frozenset[str]) -> None:
        if "title" in fields and shot_id == self.document.current_shot_id:
            self.refresh()  # the heading names the shot

    def refresh(self) -> None:
        """Rebuild the list when the shot, its takes or its pick changed."""
        shot = self.shot
        sort = self.sort_action.isChecked()
        shown = (
            (shot.id, tuple(t.id for t in shot.takes), shot.selected_take, shot.title, sort)
            if shot is not None
            else None
        )
        if shown == self._shown:
            return
        self._shown = shown
        keep = set(self.selected_take_ids())
        self.list.blockSignals(True)
        self.list.clear()
        if shot is None:
            self.heading.setText("No shot selected")
        else:
            count = len(shot.takes)
            name = shot.title or shot.id
            self.heading.setText(
                f"{count} take{'s' if count != 1 else ''} of {name}"
                if count
                else f"{name} has no takes yet: render it, or render a few seeds below"
            )
            for take in by_camera_score(shot.takes) if sort else shot.takes:
                self.list.addItem(self._item(shot, take))
        self.list.blockSignals(False)
        self.select_takes([t for t in self.take_ids() if t in keep])
        self._update_actions()

    def _item(self, shot: Shot, take: Take) -> QListWidgetItem:
        request = take.request
        picked = take.id == shot.selected_take
        draft = " · draft" if take.is_draft else ""
        lines = [
            f"seed {request.seed} · {request.model_id}{draft}" + ("   ✓ picked" if picked else ""),
            f"{created_text(take.created)} · {request.width}x{request.height}, "
            f"{request.frames} frames",
        ]
        measured = [camera_text(take)] if take.adherence is not None else []
        if take.colour_jump is not None:
            measured.append(f"join ΔE {take.colour_jump:.1f}")
        if measured:
            lines.append(" · ".join(measured))
        item = QListWidgetItem("\n".join(lines))
        item.setData(TAKE_ROLE, take.id)
        details = camera_tooltip(take)
        item.setToolTip(
            f"take {take.id[:12]}\n{request.prompt}" + (f"\n{details}" if details else "")
        )
        if picked:
            font = item.font()
            font.setBold(True)
            item.setFont(font)
        self._set_icon(item, shot, take)
        return item

    def _set_icon(self, item: QListWidgetItem, shot: Shot, take: Take) -> None:
        image = self.thumbnails.get(self.document.take_path(shot, take.id), 0, THUMB_WIDTH)
        if image is not None and not image.isNull():
            item.setIcon(QIcon(QPixmap.fromImage(image)))
        else:
            placeholder = QPixmap(THUMB_WIDTH, THUMB_HEIGHT)
            placeholder.fill(self.palette().base().color())
            item.setIcon(QIcon(placeholder))

    def _thumbnail_ready(self, path: str) -> None:
        shot = self.shot
        if shot is None:
            return
        for i in range(self.list.count()):
            item = self.list.item(i)
            take = shot.take(item.data(TAKE_ROLE))
            if take is not None and str(self.document.take_path(shot, take.id)) == path:
                self._set_icon(item, shot, take)

    def _update_actions(self) -> None:
        selected = self.selected_take_ids()
        current = self.list.currentItem()
        self.pick_action.setEnabled(current is not None or len(selected) == 1)
        self.discard_action.setEnabled(bool(selected))
        self.compare_action.setEnabled(len(selected) == 2)
        self.manifest_action.setEnabled(len(selected) == 1)
        shot = self.shot
        scored = shot is not None and best_scoring(shot.takes) is not None
        self.pick_camera_action.setEnabled(scored)
        draft = shot.take(selected[0]) if shot is not None and len(selected) == 1 else None
        self.finalize_action.setEnabled(
            self.bridge is not None and draft is not None and draft.is_draft
        )
        self.render_button.setEnabled(self.bridge is not None and self.shot is not None)

    def _update_render_text(self, count: int) -> None:
        self.render_button.setText(f"Render {count} variations")

    def _show_message(self, text: str, warning: bool = False) -> None:
        self.message.setText(text)
        colour = warning_colour(self.palette()).name() if warning else None
        self.message.setStyleSheet(f"color: {colour}" if colour else "")
        self.message.setVisible(bool(text))

    # -- actions -----------------------------------------------------------------------
    def _pick_current(self) -> None:
        selected = self.selected_take_ids()
        if len(selected) == 1:
            self.pick(selected[0])
        elif self.list.currentItem() is not None:
            self.pick(self.list.currentItem().data(TAKE_ROLE))

    def pick(self, take_id: str) -> None:
        """Make `take_id` the shot's take in the timeline, its seed the shot's, so the shot
        is rendered with it (one undo step: `studio.commands.pick_take`)."""
        shot = self.shot
        if shot is None or shot.take(take_id) is None:
            return
        command = pick_take(shot, take_id)
        if command is not None:
            self.document.push(command)

    def pick_best_camera(self) -> Take | None:
        """Pick the take whose camera scored best (one undo step, as `pick`); says which."""
        shot = self.shot
        best = best_scoring(shot.takes) if shot is not None else None
        if shot is None or best is None:
            self._show_message("No take of this shot has a camera score yet.", warning=True)
            return None
        self.pick(best.id)
        assert best.adherence is not None
        self._show_message(f"Picked seed {best.request.seed}: {best.adherence.summary()}.")
        return best

    def discard(self, take_ids: list[str] | None = None) -> None:
        """Drop takes from the shot in one undo step; when the picked take goes, the next
        surviving take (else the one before) is picked instead, or none is left."""
        shot = self.shot
        if shot is None:
            return
        gone = set(take_ids if take_ids is not None else self.selected_take_ids())
        indexes = [i for i, take in enumerate(shot.takes) if take.id in gone]
        if not indexes:
            return
        picked = shot.selected_take
        new_pick = picked
        if picked in gone:
            position = next(i for i, t in enumerate(shot.takes) if t.id == picked)
            after = [t.id for t in shot.takes[position + 1 :] if t.id not in gone]
            before = [t.id for t in shot.takes[:position] if t.id not in gone]
            new_pick = after[0] if after else (before[-1] if before else None)
        text = "Discard take" if len(indexes) == 1 else f"Discard {len(indexes)} takes"
        with self.document.macro(text):
            # Re-pick first, so the shot never points at a take it no longer has.
            if new_pick != picked:
                self.document.push(
                    pick_take(shot, new_pick)
                    if new_pick is not None
                    else set_field(shot, "selected_take", None)
                )
            for index in reversed(indexes):
                self.document.push(RemoveItem(shot.takes, index, text="Discard take"))

    def compare(self) -> TakeCompareDialog | None:
        """Open the two selected takes in the compare window (A: first in the list)."""
        shot = self.shot
        selected = self.selected_take_ids()
        if shot is None or len(selected) != 2:
            return None
        takes = [shot.take(take_id) for take_id in selected]
        paths = [self.document.take_path(shot, take.id) for take in takes]
        if None in paths:
            self._show_message("The media file of a selected take is missing.", warning=True)
            return None
        same_seed = takes[0].request.seed == takes[1].request.seed
        labels = tuple(
            f"{side}: seed {take.request.seed}"
            + (f" · {take.request.model_id}" if same_seed else "")
            for side, take in zip("AB", takes, strict=True)
        )
        if self.compare_dialog is not None:
            self.compare_dialog.close()
        dialog = TakeCompareDialog((paths[0], paths[1]), self, labels=labels)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self._forget_compare(dialog))
        self.compare_dialog = dialog
        dialog.show()
        return dialog

    def _forget_compare(self, dialog: TakeCompareDialog) -> None:
        if self.compare_dialog is dialog:
            self.compare_dialog = None

    def show_manifest(self) -> ManifestDialog | None:
        shot = self.shot
        selected = self.selected_take_ids()
        take = shot.take(selected[0]) if shot is not None and len(selected) == 1 else None
        if take is None:
            return None
        if self.manifest_dialog is not None:
            self.manifest_dialog.close()
        dialog = ManifestDialog(take, self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "manifest_dialog", None))
        self.manifest_dialog = dialog
        dialog.show()
        return dialog

    def finalize(self, take_id: str | None = None) -> str | None:
        """Queue the final of the selected draft take (or `take_id`); says what happened, or
        why it cannot be finalized (not a draft, the shot changed since)."""
        shot = self.shot
        selected = self.selected_take_ids()
        take_id = take_id or (selected[0] if len(selected) == 1 else None)
        if shot is None or self.bridge is None or take_id is None:
            return None
        try:
            job_id = self.bridge.finalize(shot.id, take_id)
        except StudioError as exc:
            self._show_message(f"Cannot finalize: {exc}", warning=True)
            return None
        seed = shot.take(take_id).request.seed
        self._show_message(f"Finalizing the draft of seed {seed} at the quality profile.")
        return job_id

    def render_variations(self) -> list[str]:
        """Queue the shot with N seeds; a shot that cannot render says why here."""
        shot = self.shot
        if shot is None or self.bridge is None:
            return []
        count = self.variations.value()
        try:
            job_ids = self.bridge.render_shot(shot.id, variations=count)
        except StudioError as exc:
            self._show_message(f"Cannot render {shot.title or shot.id}: {exc}", warning=True)
            return []
        self._show_message(f"Queued {count} variations of {shot.title or shot.id}.")
        return job_ids
