"""The storyboard's model: one row per shot in story order, with the data its cards show
(title, take image or previz still, duration, camera move, render state), kept in step with
the project, and the drag and drop that reorders shots as one undo step.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QImage

from engine.backends.pictures import fit_cover, load_image
from engine.backends.title_card import title_card
from studio.camera import rig as camera
from studio.commands import move_shot
from studio.errors import StudioError
from studio.ids import Places
from studio.project.model import Shot
from ui.bridge import FAILED, QUEUED, RUNNING, WAITING, EngineBridge
from ui.document import Document
from ui.storyboard.shot_card import (
    CameraMoveRole,
    CameraScoreRole,
    Card,
    CardRole,
    DurationRole,
    HasTakeImageRole,
    ProgressRole,
    ShotIdRole,
    StatusKeyRole,
    StatusRole,
)
from ui.widgets.thumbnails import ThumbnailCache

MIME_TYPE = "application/x-gallop-shot-ids"
THUMB_WIDTH, THUMB_HEIGHT = 192, 108  # 16:9, a little larger than the card's picture box


def duration_text(seconds: float) -> str:
    return f"{round(seconds, 2):g} s"


class StoryboardModel(QAbstractListModel):
    """The project's shots as a list model that follows every edit, undo and redo with
    proper insert/remove/move notifications (so selections survive)."""

    def __init__(
        self,
        document: Document,
        bridge: EngineBridge | None = None,
        thumbnails: ThumbnailCache | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.bridge = bridge
        self.thumbnails = thumbnails if thumbnails is not None else ThumbnailCache(parent=self)
        self._ids = [s.id for s in document.project.shots]
        self._rows = Places()  # where each id was last seen in `_ids`
        self._stills_awaited: defaultdict[str, set[str]] = defaultdict(set)  # name -> shots
        self._moves: dict[tuple, str] = {}  # camera move text by (rig, duration)
        self._awaiting: set[str] = set()  # shots whose card waits for its take's picture
        self._repainted: set[str] = set()  # cards repainted for the edit being announced
        document.shotsChanged.connect(self.sync)
        document.shotChanged.connect(self._shot_changed)
        document.statusChanged.connect(self._status_changed)
        self.thumbnails.ready.connect(self._thumbnail_ready)
        if bridge is not None:
            bridge.shotStateChanged.connect(self._shot_state_changed)

    # -- reading -----------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008,N802
        return 0 if parent.isValid() else len(self._ids)

    def shot_id(self, row: int) -> str:
        return self._ids[row]

    def row_of(self, shot_id: str) -> int:
        return self._rows.find(self._ids, shot_id)

    def index_of(self, shot_id: str) -> QModelIndex:
        row = self.row_of(shot_id)
        return self.index(row, 0) if row >= 0 else QModelIndex()

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        shot = self._shot_at(index.row())
        if shot is None:  # between an edit and the notification that follows it
            return None
        if role == CardRole:
            return self._card(shot)
        if role in (Qt.DisplayRole, Qt.EditRole):
            return shot.title or shot.id
        if role == ShotIdRole:
            return shot.id
        if role == DurationRole:
            return duration_text(shot.duration)
        if role == CameraMoveRole:
            return self._camera_move(shot)
        if role in (StatusRole, StatusKeyRole, ProgressRole):
            text, key, fraction = self._status(shot)
            return {StatusRole: text, StatusKeyRole: key, ProgressRole: fraction}[role]
        if role == Qt.DecorationRole:
            return self._take_image(shot) or self._previz_still(shot)
        if role == HasTakeImageRole:
            return self._take_image(shot) is not None
        if role == CameraScoreRole:
            return self._score(shot)
        if role == Qt.ToolTipRole:
            return self._tooltip(shot)
        return None

    def _card(self, shot: Shot) -> Card:
        status, key, fraction = self._status(shot)
        return Card(
            title=shot.title or shot.id,
            picture=self._take_image(shot) or self._previz_still(shot),
            duration=duration_text(shot.duration),
            move=self._camera_move(shot),
            status=status,
            status_key=key,
            progress=fraction,
            score=self._score(shot),
        )

    @staticmethod
    def _score(shot: Shot) -> str:
        take = shot.take(shot.selected_take) if shot.selected_take else None
        if take is None or take.adherence is None:
            return ""
        return f"camera {round(take.adherence.score)}"

    def _shot_at(self, row: int) -> Shot | None:
        """The shot of a row: the project's shot at the same place once the rows follow
        the project (no search through a long storyboard for each card painted)."""
        shots, shot_id = self.document.project.shots, self._ids[row]
        if row < len(shots) and shots[row].id == shot_id:
            return shots[row]
        return self.document.project.shot(shot_id)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemIsDropEnabled  # drops land between cards, never onto one
        return Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled

    def _camera_move(self, shot: Shot) -> str:
        key = (shot.camera, shot.duration)
        text = self._moves.get(key)
        if text is None:
            try:
                text = camera.describe(shot.camera, shot.duration)
            except (ValueError, ArithmeticError):
                text = ""
            if len(self._moves) > 512:
                self._moves.clear()
            self._moves[key] = text
        return text

    def _status(self, shot: Shot) -> tuple[str, str, float]:
        job = self.bridge.job_for_shot(shot.id) if self.bridge is not None else None
        if job is not None:
            if job.state == QUEUED:
                return "queued", "queued", 0.0
            if job.state == WAITING:
                return "waiting", "queued", 0.0
            if job.state == RUNNING:
                return f"rendering {int(job.fraction * 100)}%", "rendering", job.fraction
            if job.state == FAILED:
                return "failed", "failed", 0.0
        status = self.document.shot_status(shot)
        status = "done" if status == "rendered" else status
        take = shot.current_take
        if status == "done" and take is not None and take.is_draft:
            return "draft", status, 0.0  # rendered as a draft, to finalize
        return status, status, 0.0

    def _tooltip(self, shot: Shot) -> str:
        lines = [f"<b>{_escape(shot.title or shot.id)}</b>"]
        if shot.prompt:
            lines.append(_escape(shot.prompt))
        move = self._camera_move(shot)
        lines.append(f"{duration_text(shot.duration)} · {_escape(move)}")
        status = self._status(shot)[0]
        job = self.bridge.job_for_shot(shot.id) if self.bridge is not None else None
        if job is not None and job.state == FAILED and job.message:
            status += f": {job.message}"
        elif job is not None and job.state == WAITING:
            status = job.stage  # "waiting for The ship"
        elif status == "stale":
            try:
                reasons = self.document.stale_reasons(shot)
            except StudioError as exc:
                reasons = (str(exc),)
            if reasons:
                status += f": {'; '.join(reasons)}"
        lines.append(f"Status: {_escape(status)}")
        take = shot.take(shot.selected_take) if shot.selected_take else None
        if take is not None and take.adherence is not None:
            lines.append(_escape(take.adherence.summary()))
        return "<br>".join(lines)

    def _take_image(self, shot: Shot) -> QImage | None:
        path = self.document.take_path(shot)
        if path is None:
            return None
        image = self.thumbnails.get(path, 0, THUMB_WIDTH)
        if image is None:
            self._awaiting.add(shot.id)  # decoding: the card repaints when it lands
        return image if image is not None and not image.isNull() else None

    def _previz_still(self, shot: Shot) -> QImage | None:
        """The keyframe (cropped to 16:9) or else a title card of the prompt, drawn off the
        GUI thread and cached: None until it lands, then the card repaints."""
        path = self.document.media_path(shot.keyframe) if shot.keyframe else None
        text = shot.prompt.strip() or shot.title or "Untitled shot"
        # The shot's id varies the backdrop, so neighbouring cards are told apart.
        seed = (shot.seed + zlib.crc32(shot.id.encode())) % 2**32
        try:
            name = f"still:keyframe:{path}:{path.stat().st_mtime}"
        except (AttributeError, OSError):  # no keyframe, or its file is gone
            name, path = f"still:card:{seed}:{text}", None

        def draw() -> np.ndarray:
            try:
                frame = fit_cover(load_image(path), THUMB_WIDTH, THUMB_HEIGHT) if path else None
            except StudioError:  # unreadable: the title card still says what the shot is
                frame = None
            if frame is None:
                frame = title_card(text, THUMB_WIDTH, THUMB_HEIGHT, seed=seed)
            return frame

        image = self.thumbnails.drawn(name, draw)
        if image is None:
            self._stills_awaited[name].add(shot.id)
        return image

    # -- following the project ---------------------------------------------------------
    def sync(self) -> None:
        """Bring the rows in line with `project.shots`: removals, then moves, then
        insertions, each announced so views keep their selection."""
        new_ids = [s.id for s in self.document.project.shots]
        if new_ids == self._ids:
            return
        wanted = set(new_ids)
        for row in reversed(range(len(self._ids))):
            if self._ids[row] not in wanted:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._ids[row]
                self.endRemoveRows()
        kept = set(self._ids)
        order = [i for i in new_ids if i in kept]
        for target, shot_id in enumerate(order):
            source = self._ids.index(shot_id)
            if source != target:  # always source > target: the prefix already matches
                self.beginMoveRows(QModelIndex(), source, source, QModelIndex(), target)
                self._ids.insert(target, self._ids.pop(source))
                self.endMoveRows()
        for row, shot_id in enumerate(new_ids):
            if shot_id not in kept:
                self.beginInsertRows(QModelIndex(), row, row)
                self._ids.insert(row, shot_id)
                self.endInsertRows()

    def _shot_changed(self, shot_id: str, _fields: frozenset[str]) -> None:
        """Only the card of the shot that changed repaints."""
        self._repaint(shot_id)
        self._repainted.add(shot_id)

    def _status_changed(self, shot_ids: list[str] | None) -> None:
        """The cards whose status may differ; the document says so after the shots' own
        changes of the same edit, whose cards are already repainted."""
        repainted, self._repainted = self._repainted, set()
        if shot_ids is None:
            if self._ids:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, 0))
            return
        for shot_id in shot_ids:
            if shot_id not in repainted:
                self._repaint(shot_id)

    def _repaint(self, shot_id: str) -> None:
        index = self.index_of(shot_id)
        if index.isValid():
            self.dataChanged.emit(index, index)

    def _shot_state_changed(self, shot_id: str) -> None:
        self._repaint(shot_id)

    def _thumbnail_ready(self, path: str) -> None:
        """Repaint the cards that wait for a picture of this take, once it is there: the
        cache also lands other frames of the take (timeline strips, the takes list)."""
        for shot_id in self._stills_awaited.pop(path, ()):
            index = self.index_of(shot_id)
            if index.isValid():
                self.dataChanged.emit(index, index, [Qt.DecorationRole])
        for shot_id in list(self._awaiting):
            shot = self.document.project.shot(shot_id)
            take_path = self.document.take_path(shot) if shot is not None else None
            if take_path is None:
                self._awaiting.discard(shot_id)
            elif str(take_path) == path and self._take_image(shot) is not None:
                self._awaiting.discard(shot_id)
                index = self.index_of(shot_id)
                if index.isValid():
                    self.dataChanged.emit(index, index, [Qt.DecorationRole, HasTakeImageRole])

    # -- drag and drop -----------------------------------------------------------------
    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.MoveAction

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [MIME_TYPE]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # noqa: N802
        rows = sorted({i.row() for i in indexes if i.isValid()})
        data = QMimeData()
        payload = json.dumps([self._ids[r] for r in rows]).encode()
        data.setData(MIME_TYPE, QByteArray(payload))
        return data

    def _dropped_ids(self, data: QMimeData) -> list[str]:
        if data is None or not data.hasFormat(MIME_TYPE):
            return []
        try:
            ids = json.loads(bytes(data.data(MIME_TYPE).data()).decode())
        except (ValueError, UnicodeDecodeError):
            return []
        if not isinstance(ids, list):
            return []
        return [i for i in ids if isinstance(i, str) and i in self._ids]

    def canDropMimeData(self, data, action, row, column, parent) -> bool:  # noqa: N802
        return action == Qt.MoveAction and bool(self._dropped_ids(data))

    def dropMimeData(self, data, action, row, column, parent) -> bool:  # noqa: N802
        """Move the dragged shots, in story order, to land before `row` (one undo step)."""
        if action == Qt.IgnoreAction:
            return True
        moving = self._dropped_ids(data)
        if action != Qt.MoveAction or not moving:
            return False
        self.move_shots(moving, parent.row() if parent.isValid() else row)
        return True  # also when dropped where they were: the drop is accepted

    def move_shots(self, shot_ids: list[str], row: int) -> bool:
        """Move the shots, kept in story order, to land before `row` (-1: at the end), as
        one undo step. False when nothing moves."""
        project = self.document.project
        current = [s.id for s in project.shots]
        moving = [i for i in current if i in set(shot_ids)]
        if row < 0 or row > len(current):
            row = len(current)
        before = sum(1 for i in current[:row] if i not in moving)
        rest = [i for i in current if i not in moving]
        wanted = rest[:before] + moving + rest[before:]
        if wanted == current:
            return False
        text = "Move shot" if len(moving) == 1 else f"Move {len(moving)} shots"
        with self.document.macro(text):
            for target, shot_id in enumerate(wanted):
                source = project.shot_index(shot_id)
                if source != target:
                    self.document.push(move_shot(project, source, target))
        return True


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
