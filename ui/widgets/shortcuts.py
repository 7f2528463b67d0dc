"""Keyboard shortcuts: the key lists of the window's actions, the keys the panels handle
themselves, and the Help > Shortcuts table built from both.

`shortcut_keys` gives an action every binding of a standard key on this platform plus the
keys the studio promises everywhere (redo is Ctrl+Shift+Z and Ctrl+Y on every system),
each sequence once: Qt reports a key bound twice as an ambiguous shortcut and then runs
neither binding.

`PANEL_KEYS` declares the keys that panels read in their own key handlers (the timeline,
the player, the camera's curve, the storyboard's grid, the compare window). They are not
QActions, so the table is how the Shortcuts window learns of them; the tests press every
key of the table on its panel, and every other plain key, to keep the two in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

KeyLike = QKeySequence.StandardKey | QKeySequence | Qt.Key | str
Row = tuple[str, str]  # the keys as the user reads them, what they do
Section = tuple[str, list[Row]]  # an area of the window and its rows


def shortcut_keys(*keys: KeyLike) -> list[QKeySequence]:
    """The shortcut list of an action: each standard key expands to all of this
    platform's bindings for it, the others are taken as they are; empty sequences and
    repeats are left out, the first of each kept (the one menus show)."""
    result: list[QKeySequence] = []
    seen: set[str] = set()
    for key in keys:
        if isinstance(key, QKeySequence.StandardKey):
            sequences = QKeySequence.keyBindings(key)
        else:
            sequences = [key if isinstance(key, QKeySequence) else QKeySequence(key)]
        for sequence in sequences:
            text = sequence.toString(QKeySequence.PortableText)
            if text and text not in seen:
                seen.add(text)
                result.append(sequence)
    return result


@dataclass(frozen=True)
class PanelKey:
    """Keys one panel handles itself while it has the keyboard focus. `when` names the
    state they need, when they do nothing otherwise ("" when they always act)."""

    area: str
    keys: tuple[str, ...]
    text: str
    when: str = ""


PANEL_KEYS: tuple[PanelKey, ...] = (
    PanelKey("Storyboard", ("Del", "Backspace"), "Delete the selected shots"),
    PanelKey("Timeline", ("Left", "Right"), "Playhead one frame back / forward"),
    PanelKey("Timeline", ("Shift+Left", "Shift+Right"), "Playhead one second back / forward"),
    PanelKey("Timeline", ("Home", "End"), "Playhead to the start / the end"),
    PanelKey("Timeline", ("Up", "Down"), "Playhead to the previous / next cut"),
    PanelKey("Timeline", ("S",), "Split the clip at the playhead"),
    PanelKey("Timeline", ("M",), "Add a marker at the playhead"),
    PanelKey("Timeline", ("Shift+M", "Ctrl+Shift+M"), "Go to the next / previous marker"),
    PanelKey("Timeline", ("I", "O"), "Set the edit's in / out point at the playhead"),
    PanelKey("Timeline", ("Alt+X",), "Clear the in and out points"),
    PanelKey("Timeline", ("Del", "Backspace"), "Delete the selected clip, closing the gap"),
    PanelKey("Timeline", ("Shift+Del", "Shift+Backspace"), "Lift the selected clip, leaving a gap"),
    PanelKey("Timeline", ("+", "="), "Zoom in"),
    PanelKey("Timeline", ("-",), "Zoom out"),
    PanelKey("Timeline", ("\\",), "Fit the whole film"),
    PanelKey("Timeline", ("Esc",), "Cancel the drag", when="while dragging a clip"),
    PanelKey("Player", ("Left", "Right"), "One frame back / forward"),
    PanelKey("Player", ("Home", "End"), "First / last frame"),
    PanelKey(
        "Camera",
        ("Left", "Right"),
        "Select the previous / next keyframe of the curve",
        when="when the curve has keyframes",
    ),
    PanelKey(
        "Camera",
        ("Up", "Down"),
        "Raise / lower the selected keyframe",
        when="with a keyframe selected",
    ),
    PanelKey("Camera", ("Del", "Backspace"), "Remove the selected keyframe"),
    PanelKey("Compare takes", ("Space",), "Play / pause both takes"),
    PanelKey("Compare takes", ("Left", "Right"), "One frame back / forward"),
    PanelKey("Compare takes", ("Home", "End"), "First / last frame"),
    PanelKey("Compare takes", ("W",), "Switch between wipe and side by side"),
)


def key_text(sequence: QKeySequence) -> str:
    return sequence.toString(QKeySequence.NativeText)


def action_label(action: QAction) -> str:
    """What an action does, as a list of shortcuts names it: its `shortcutLabel` property
    when its text changes (undo and redo name the command), else its text without the
    mnemonic's "&" and a trailing "…"."""
    label = action.property("shortcutLabel") or action.text()
    return label.replace("&&", "\0").replace("&", "").replace("\0", "&").removesuffix("…")


def action_rows(actions: Iterable[QAction]) -> list[Row]:
    """One row per action with a shortcut, submenus included, each action once; actions
    on the same keys (each in a list of its own) share a row: "Remove LoRA / Remove
    keyframe"."""
    rows: list[Row] = []
    seen: set[int] = set()

    def walk(items: Iterable[QAction]) -> None:
        for action in items:
            if id(action) in seen or action.isSeparator():
                continue
            seen.add(id(action))
            if action.menu() is not None:
                walk(action.menu().actions())
            keys = [key_text(s) for s in action.shortcuts() if not s.isEmpty()]
            if keys:
                rows.append((", ".join(keys), action_label(action)))

    walk(actions)
    shared: dict[str, list[str]] = {}
    for keys, label in rows:
        shared.setdefault(keys, []).append(label)
    return [(keys, " / ".join(dict.fromkeys(labels))) for keys, labels in shared.items()]


def widget_actions(widget: QWidget) -> list[QAction]:
    """The actions added to a widget and to every widget inside it."""
    actions = list(widget.actions())
    for child in widget.findChildren(QWidget):
        if not isinstance(child, QMenu):  # context menus repeat their panel's actions
            actions.extend(child.actions())
    return actions


def panel_key_rows(area: str) -> list[Row]:
    rows = []
    for entry in PANEL_KEYS:
        if entry.area == area:
            keys = ", ".join(key_text(QKeySequence(k)) for k in entry.keys)
            rows.append((keys, f"{entry.text} ({entry.when})" if entry.when else entry.text))
    return rows


def shortcut_sections(menus: Iterable[QMenu], panels: Mapping[str, QWidget]) -> list[Section]:
    """The Help > Shortcuts table: one section per menu (its actions' keys), then one per
    panel (the keys of its own actions and its declared `PANEL_KEYS`), then the areas of
    `PANEL_KEYS` that are windows of their own. Empty sections are left out."""
    sections: list[Section] = [
        (menu.title().replace("&", ""), action_rows(menu.actions())) for menu in menus
    ]
    for area, widget in panels.items():
        sections.append((area, action_rows(widget_actions(widget)) + panel_key_rows(area)))
    for area in dict.fromkeys(entry.area for entry in PANEL_KEYS):
        if area not in panels:
            sections.append((area, panel_key_rows(area)))
    return [(title, rows) for title, rows in sections if rows]
