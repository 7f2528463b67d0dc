"""The storyboard: one card per shot in story order, with its take (or a previz still),
its camera move and its render state; cards are added, duplicated, deleted and dragged
into a new order, each gesture one undo step.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPoint,
    QRect,
    Qt,
    Signal,
)
from PySide6.QtGui import QAccessible, QAction, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListView,
    QMenu,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from studio.commands import add_shot, remove_shot
from studio.ids import new_id
from ui.bridge import EngineBridge
from ui.document import Document
from ui.storyboard.edit_order import EditOrderBar
from ui.storyboard.shot_card import (
    CARD_SIZE,
    CHIP_COLOURS,
    CameraMoveRole,
    DurationRole,
    HasTakeImageRole,
    ProgressRole,
    ShotCardDelegate,
    ShotIdRole,
    StatusKeyRole,
    StatusRole,
)
from ui.storyboard.storyboard_model import (
    MIME_TYPE,
    THUMB_HEIGHT,
    THUMB_WIDTH,
    StoryboardModel,
    duration_text,
)
from ui.widgets.thumbnails import ThumbnailCache

# The model and the cards' roles live in storyboard_model and shot_card; callers and tests
# import them from here too.
__all__ = [
    "CHIP_COLOURS",
    "MIME_TYPE",
    "THUMB_HEIGHT",
    "THUMB_WIDTH",
    "CameraMoveRole",
    "CardView",
    "DurationRole",
    "HasTakeImageRole",
    "ProgressRole",
    "ShotIdRole",
    "StatusKeyRole",
    "StatusRole",
    "StoryboardModel",
    "StoryboardPanel",
    "duration_text",
]


INDICATOR_WIDTH = 3  # the insertion line drawn between cards while dragging


class CardView(QListView):
    """The storyboard's grid of cards.

    QListView repaints its whole viewport when any item's data changes, so a render
    reporting progress on one card repainted every card in view each step. Cards all have
    one size, so a change repaints the changed cards only; with an assistive technology
    active, Qt's own handling runs too, for the notifications it sends.

    Dragged cards land before the card under the pointer when it is over that card's left
    half, after it over the right half, in any row of the wrapped grid; a line between the
    cards shows where while dragging. (QListView's own list mode goes by the pointer's
    horizontal position alone, so a card dropped on a card of another row went nowhere.)
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._indicator = QRect()  # viewport coordinates; empty when not dragging

    def drop_indicator_rect(self) -> QRect:
        """The insertion line on screen (viewport coordinates); empty when none."""
        return QRect(self._indicator)

    def drop_target(self, pos: QPoint) -> tuple[int, QRect] | None:
        """Where shots dropped at `pos` (viewport coordinates) land: the row they go
        before and the insertion line there; None where a drop means nothing."""
        model = self.model()
        count = model.rowCount() if model is not None else 0
        if count == 0:
            return (0, QRect()) if self.viewport().rect().contains(pos) else None
        index = self._card_near(pos)
        if index.isValid():
            rect = self.visualRect(index)
            after = pos.x() >= rect.left() + rect.width() / 2
        else:
            last = self.visualRect(model.index(count - 1, 0))
            past_end = pos.y() > last.bottom() or (pos.y() >= last.top() and pos.x() > last.right())
            if not past_end:
                return None
            index, rect, after = model.index(count - 1, 0), last, True
        half_gap = self.spacing()  # cards sit `spacing` apart on each side
        x = rect.right() + 1 + half_gap if after else rect.left() - half_gap
        line = QRect(x - INDICATOR_WIDTH // 2, rect.top(), INDICATOR_WIDTH, rect.height())
        return index.row() + (1 if after else 0), line

    def _card_near(self, pos: QPoint) -> QModelIndex:
        """The card under `pos`, or across the gap beside or above it, or the last card
        of the row when `pos` is in the blank space at the row's right end."""
        index = self.indexAt(pos)
        reach = 2 * self.spacing() + 1
        for dx, dy in ((-reach, 0), (reach, 0), (0, -reach), (0, reach), (-reach, -reach)):
            if index.isValid():
                return index
            index = self.indexAt(pos + QPoint(dx, dy))
        step = max(8, self.gridSize().width() or CARD_SIZE.width()) // 2
        x = pos.x() - step
        while not index.isValid() and x >= 0:
            index = self.indexAt(QPoint(x, pos.y()))
            x -= step
        return index

    def _accepts(self, event) -> bool:
        """A move of this storyboard's own cards (never another window's storyboard)."""
        model = self.model()
        source = event.source()
        return (
            model is not None
            and (source is None or source is self)
            and bool(event.possibleActions() & Qt.MoveAction)
            and model.canDropMimeData(event.mimeData(), Qt.MoveAction, -1, 0, QModelIndex())
        )

    def _show_indicator(self, rect: QRect) -> None:
        if rect != self._indicator:
            self.viewport().update(self._indicator.adjusted(-2, -2, 2, 2))
            self._indicator = QRect(rect)
            self.viewport().update(rect.adjusted(-2, -2, 2, 2))

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().dragEnterEvent(event)
        if self._accepts(event):
            self.setState(QAbstractItemView.DraggingState)
            event.setDropAction(Qt.MoveAction)
            event.accept()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().dragMoveEvent(event)  # scrolls the grid near its edges
        pos = event.position().toPoint()
        target = self.drop_target(pos) if self._accepts(event) else None
        self._show_indicator(target[1] if target else QRect())
        if target is None:
            event.ignore()
            return
        event.setDropAction(Qt.MoveAction)
        event.accept()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._show_indicator(QRect())
        super().dragLeaveEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.stopAutoScroll()
        self.setState(QAbstractItemView.NoState)
        self._show_indicator(QRect())
        target = self.drop_target(event.position().toPoint()) if self._accepts(event) else None
        if target is None:
            event.ignore()
            return
        self.model().dropMimeData(event.mimeData(), Qt.MoveAction, target[0], 0, QModelIndex())
        # The rows are moved here: a copy tells the drag's source to remove nothing.
        event.setDropAction(Qt.CopyAction)
        event.accept()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if not self._indicator.isEmpty():
            painter = QPainter(self.viewport())
            painter.fillRect(self._indicator, self.palette().color(QPalette.Highlight))
            painter.end()

    def dataChanged(self, top_left, bottom_right, roles=()) -> None:  # noqa: N802 - Qt override
        if QAccessible.isActive() or not (top_left.isValid() and bottom_right.isValid()):
            super().dataChanged(top_left, bottom_right, roles)
            return
        model = self.model()
        area = QRect()
        for row in range(top_left.row(), bottom_right.row() + 1):
            area = area.united(self.visualRect(model.index(row, 0)))
        if not area.isEmpty():
            self.viewport().update(area)


class StoryboardPanel(QWidget):
    """The storyboard grid with its toolbar; selecting a card makes its shot current."""

    activated = Signal(str)  # a card was double-clicked or Enter was pressed on it
    renderRequested = Signal(list)  # noqa: N815 - Qt signal naming; shot ids

    def __init__(
        self,
        document: Document,
        bridge: EngineBridge | None = None,
        thumbnails: ThumbnailCache | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.model = StoryboardModel(document, bridge, thumbnails, self)

        view = self.view = CardView(self)
        view.setObjectName("storyboard")
        view.setModel(self.model)
        view.setItemDelegate(ShotCardDelegate(view))
        # List mode flowing left to right with wrapping: a grid in story order, where an
        # internal move drops between cards (icon mode would move them freely).
        view.setViewMode(QListView.ListMode)
        view.setFlow(QListView.LeftToRight)
        view.setWrapping(True)
        view.setResizeMode(QListView.Adjust)
        view.setUniformItemSizes(True)
        view.setSpacing(4)
        view.setSelectionMode(QAbstractItemView.ExtendedSelection)
        view.setDragEnabled(True)
        view.setAcceptDrops(True)
        view.setDropIndicatorShown(False)  # CardView draws its own insertion line
        view.setDragDropMode(QAbstractItemView.InternalMove)
        view.setDefaultDropAction(Qt.MoveAction)
        view.setMouseTracking(True)
        view.setMinimumSize(CARD_SIZE.width() + 24, CARD_SIZE.height() + 12)
        view.setContextMenuPolicy(Qt.CustomContextMenu)
        view.customContextMenuRequested.connect(self._context_menu)
        view.activated.connect(self._activated)

        act = self._action
        self.add_action = act("Add shot", "Add a shot after the current one", "Ins", self.add_shot)
        # Duplicate and Delete are handled as key presses of the grid (`eventFilter`), so a
        # window that binds the same keys to the same edits is not an ambiguous shortcut.
        self.duplicate_action = act(
            "Duplicate",
            "Copy the selected shots, without their takes (Ctrl+D)",
            "",
            self.duplicate_selected,
        )
        self.delete_action = act(
            "Delete", "Delete the selected shots (Del)", "", self.delete_selected
        )
        self.earlier_action = act(
            "Move earlier",
            "Move the selected shots one place earlier",
            "Alt+Left",
            lambda: self.move_selected(-1),
        )
        self.later_action = act(
            "Move later",
            "Move the selected shots one place later",
            "Alt+Right",
            lambda: self.move_selected(1),
        )
        self.render_action = act("Render", "Render the selected shots", "", self.render_selected)
        view.installEventFilter(self)
        self.toolbar = QToolBar("Storyboard", self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        for action in (self.add_action, self.duplicate_action, self.delete_action):
            self.toolbar.addAction(action)

        self.empty_hint = QLabel("No shots yet. Add a shot to start the storyboard.", self)
        self.empty_hint.setAlignment(Qt.AlignCenter)
        self.empty_hint.setEnabled(False)  # drawn in the palette's quiet text colour

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        # Says when the edit's order differs from the storyboard's, with a button to match.
        self.edit_order = EditOrderBar(document, self)
        layout.addWidget(self.edit_order)
        layout.addWidget(self.empty_hint)
        layout.addWidget(view, 1)

        view.selectionModel().currentChanged.connect(self._current_changed)
        view.selectionModel().selectionChanged.connect(self._update_actions)
        self.model.rowsInserted.connect(self._update_actions)
        self.model.rowsRemoved.connect(self._update_actions)
        self.model.rowsMoved.connect(self._update_actions)
        document.currentShotChanged.connect(self.show_shot)
        self.show_shot(document.current_shot_id)
        self._update_actions()

    def _action(self, text: str, tip: str, keys: str, slot) -> QAction:
        action = QAction(text, self)
        if keys:
            action.setShortcut(QKeySequence(keys))
            # Keys act while the storyboard has focus; other panels keep theirs.
            action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            keys = action.shortcut().toString(QKeySequence.NativeText)
        action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.view and event.type() == QEvent.KeyPress:
            if event.matches(QKeySequence.Delete) or event.key() == Qt.Key_Backspace:
                self.delete_selected()
                return True
            if event.key() == Qt.Key_D and event.modifiers() == Qt.ControlModifier:
                self.duplicate_selected()
                return True
        return super().eventFilter(watched, event)

    # -- selection and the current shot --------------------------------------------------
    def selected_shot_ids(self) -> list[str]:
        """The selected shots in story order."""
        rows = sorted(i.row() for i in self.view.selectionModel().selectedIndexes())
        return [self.model.shot_id(r) for r in rows]

    def select_shots(self, shot_ids: list[str]) -> None:
        selection = self.view.selectionModel()
        selection.clearSelection()
        for shot_id in shot_ids:
            index = self.model.index_of(shot_id)
            if index.isValid():
                selection.select(index, QItemSelectionModel.Select)

    def show_shot(self, shot_id: str) -> None:
        """Follow the document's current shot: make its card current and selected."""
        index = self.model.index_of(shot_id) if shot_id else QModelIndex()
        selection = self.view.selectionModel()
        if index.isValid() and selection.currentIndex() != index:
            selection.setCurrentIndex(index, QItemSelectionModel.ClearAndSelect)
            self.view.scrollTo(index)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.document.set_current_shot(self.model.shot_id(current.row()))

    def _update_actions(self, *_args) -> None:
        rows = [i.row() for i in self.view.selectionModel().selectedIndexes()]
        for action in (self.duplicate_action, self.delete_action, self.render_action):
            action.setEnabled(bool(rows))
        self.earlier_action.setEnabled(bool(rows) and min(rows) > 0)
        self.later_action.setEnabled(bool(rows) and max(rows) < self.model.rowCount() - 1)
        self.empty_hint.setVisible(self.model.rowCount() == 0)

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.activated.emit(self.model.shot_id(index.row()))

    # -- edits -------------------------------------------------------------------------
    def add_shot(self) -> str:
        """A new shot after the current one (or at the end); it becomes current."""
        project = self.document.project
        current = self.document.current_shot_id
        where = project.shot_index(current) + 1 if project.shot(current) else len(project.shots)
        shot = project.new_shot(title=f"Shot {len(project.shots) + 1}")
        self.document.push(add_shot(project, shot, where, clip=True))
        self.document.set_current_shot(shot.id)
        return shot.id

    def duplicate_selected(self) -> list[str]:
        """Copy the selected shots (prompt, camera, settings; not the takes), each placed
        after its original, in one undo step; the copies become the selection."""
        project = self.document.project
        ids = self.selected_shot_ids()
        copies: list[str] = []
        if not ids:
            return copies
        with self.document.macro("Duplicate shot" if len(ids) == 1 else "Duplicate shots"):
            for shot_id in ids:
                shot = project.shot(shot_id)
                copy = dataclasses.replace(
                    shot,
                    id=new_id("shot"),
                    title=f"{shot.title} (copy)" if shot.title else "",
                    references=list(shot.references),
                    characters=list(shot.characters),
                    takes=[],
                    selected_take=None,
                )
                self.document.push(
                    add_shot(project, copy, project.shot_index(shot_id) + 1, clip=True)
                )
                copies.append(copy.id)
        self.document.set_current_shot(copies[-1])
        self.select_shots(copies)
        return copies

    def delete_selected(self) -> list[str]:
        """Delete the selected shots in one undo step; the next shot becomes current.
        The timeline keeps its clips: it edits its own cut."""
        project = self.document.project
        ids = self.selected_shot_ids()
        if not ids:
            return ids
        last = max(project.shot_index(i) for i in ids)
        after = [s.id for s in project.shots[last + 1 :] if s.id not in ids]
        before = [s.id for s in project.shots[:last] if s.id not in ids]
        neighbour = after[0] if after else (before[-1] if before else "")
        if neighbour:
            self.document.set_current_shot(neighbour)
        with self.document.macro("Delete shot" if len(ids) == 1 else "Delete shots"):
            for index in sorted((project.shot_index(i) for i in ids), reverse=True):
                self.document.push(remove_shot(project, index))
        return ids

    def move_selected(self, step: int) -> bool:
        """Move the selected shots (gathered, in story order) one place earlier (step -1)
        or later (+1), as one undo step."""
        rows = sorted(i.row() for i in self.view.selectionModel().selectedIndexes())
        if not rows:
            return False
        target = rows[0] - 1 if step < 0 else rows[-1] + 2
        if not 0 <= target <= self.model.rowCount():
            return False
        return self.model.move_shots(self.selected_shot_ids(), target)

    def render_selected(self) -> None:
        ids = self.selected_shot_ids()
        if ids:
            self.renderRequested.emit(ids)

    # -- the context menu --------------------------------------------------------------
    def context_menu(self, pos: QPoint) -> QMenu:
        """The menu for a card at `pos` (viewport coordinates); right-clicking a card
        outside the selection selects it first."""
        index = self.view.indexAt(pos)
        selection = self.view.selectionModel()
        if index.isValid() and not selection.isSelected(index):
            selection.setCurrentIndex(index, QItemSelectionModel.ClearAndSelect)
        menu = QMenu(self)
        if selection.hasSelection():
            menu.addAction(self.render_action)
            menu.addSeparator()
            menu.addActions([self.duplicate_action, self.delete_action])
            menu.addSeparator()
            menu.addActions([self.earlier_action, self.later_action])
        menu.addAction(self.add_action)
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu(pos)
        menu.exec(self.view.viewport().mapToGlobal(pos))
        menu.deleteLater()
