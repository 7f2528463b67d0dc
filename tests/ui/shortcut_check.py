"""Which shortcuts of a window are live for a given focus, as Qt's shortcut map decides
it, and the keys bound twice.

Qt matches a key press against every enabled action whose shortcut context holds for the
focused widget: a window shortcut anywhere in its window, a widget-with-children shortcut
inside the widget the action was added to, a widget shortcut on that widget alone, a menu's
action where the menu's own action is live. Two live actions on one key are ambiguous and
Qt runs neither. Visibility is not considered: a hidden dock may be shown at any time.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget


def all_actions(window: QWidget) -> list[QAction]:
    """Every action of the window: its children and the actions added to its widgets."""
    found: dict[int, QAction] = {id(a): a for a in window.findChildren(QAction)}
    for widget in [window, *window.findChildren(QWidget)]:
        for action in widget.actions():
            found.setdefault(id(action), action)
    return list(found.values())


def keys_of(action: QAction) -> list[str]:
    return [s.toString(QKeySequence.PortableText) for s in action.shortcuts() if not s.isEmpty()]


def _live_on(action: QAction, context, focus: QWidget, window: QWidget, depth: int = 0) -> bool:
    if depth > 8:
        return False
    for owner in action.associatedObjects():
        if isinstance(owner, QMenu):
            if _live_on(owner.menuAction(), context, focus, window, depth + 1):
                return True
            continue
        if not isinstance(owner, QWidget):
            continue
        if context == Qt.ApplicationShortcut:
            return True

        def inside(widget: QWidget) -> bool:
            return widget is window or window.isAncestorOf(widget)

        if context == Qt.WindowShortcut:
            if inside(owner) and inside(focus):
                return True
        elif context == Qt.WidgetWithChildrenShortcut:
            if owner is focus or owner.isAncestorOf(focus):
                return True
        elif owner is focus:  # Qt.WidgetShortcut
            return True
    return False


def live_keys(window: QWidget, focus: QWidget) -> dict[str, list[QAction]]:
    """The enabled actions that a key pressed with `focus` focused would match, by key."""
    bound: dict[str, list[QAction]] = {}
    for action in all_actions(window):
        if not action.isEnabled():
            continue
        keys = keys_of(action)
        if keys and _live_on(action, action.shortcutContext(), focus, window):
            for key in dict.fromkeys(keys):
                bound.setdefault(key, []).append(action)
    return bound


def clashes(window: QWidget) -> list[str]:
    """Keys listed twice on one action, and keys two live actions share for some focus."""
    problems: list[str] = []
    for action in all_actions(window):
        keys = keys_of(action)
        if len(keys) != len(set(keys)):
            problems.append(f"{action.text()!r} lists a key twice: {keys}")
    for focus in [window, *window.findChildren(QWidget)]:
        for key, actions in live_keys(window, focus).items():
            if len(actions) > 1:
                names = sorted(a.text() for a in actions)
                problems.append(f"{key} is bound to {names} ({type(focus).__name__} focused)")
    return list(dict.fromkeys(problems))
