"""What the window changes in the interpreter and the Qt binding: `prepare_interpreter`
and `freeze_settled_objects`.

The engine renders in a process of its own, but the window's process still has threads
of its own (thumbnails, the player's read-ahead, the reader of the engine's events).
PySide6 lets go of Python's lock (the GIL) around calls into Qt, and each time the
window's thread takes it back while another thread is running Python, it waits for the
switch interval, 5 ms by default. A shot card, painted in 1.2 ms alone, took 34 ms beside
a busy thread; with the window's interval of 0.5 ms (`SWITCH_INTERVAL`) it takes about
2 ms.

PySide6 replaces `__import__` to support its opt-in `__feature__` switches (snake_case,
true_property). After every import, in every thread, it decides whether the new module
"uses PySide" by reading the module's whole source file (`inspect.getsource`) and looking
for the word PySide6. Modules the window imports on demand (export, interchange, sound)
paid that read with the GIL held. The studio switches no features on, so
`quiet_feature_checks` puts a check in its place that looks at what the module imported
instead of at its file.

Python's collector walks every live object on each full collection, with the GIL held:
the Qt bindings, numpy and the window's own objects made one take 38 ms here, and a
project of 10,000 shots adds about 90 ms. A project just read is moved out of the
collector's sight before its window is built (`hold_loaded_objects`, `gc.freeze`), and
once the window is up `freeze_settled_objects` does the same with what the window made,
so later collections walk only what was made since. A window that closes gives them back
(`release_held_objects`), so that what the closed project leaves is collected.
"""

from __future__ import annotations

import gc
import sys
import types

SWITCH_INTERVAL = 0.0005  # seconds
_PREFIXES = ("PySide6", "shiboken6")
_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType)


def uses_pyside(module: types.ModuleType) -> bool:
    """Whether `module` holds a module, class or function of PySide6.

    Only the types of the values are looked at, never other objects' attributes: some
    modules hold proxies that warn or compute when touched.
    """
    try:
        values = list(vars(module).values())
    except TypeError:
        return False
    for value in values:
        kind = type(value)
        try:
            if issubclass(kind, types.ModuleType):
                name = value.__name__
            elif issubclass(kind, type) or kind in _FUNCTIONS:
                name = value.__module__
            else:
                continue
        except Exception:  # noqa: BLE001 - a broken attribute is not PySide
            continue
        if isinstance(name, str) and name.startswith(_PREFIXES):
            return True
    return False


def quiet_feature_checks() -> bool:
    """Replace PySide6's per-import source read; False where this binding has none."""
    try:
        from shibokensupport import feature  # present once PySide6 is imported
    except ImportError:
        return False
    if not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    feature._mod_uses_pyside = uses_pyside
    return True


def prepare_interpreter() -> None:
    """What a window beside busy threads needs (see above); safe to call again."""
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
    quiet_feature_checks()


def hold_loaded_objects() -> None:
    """A project was just read: its objects, and all alive now, leave the collector's
    sight (see above)."""
    gc.freeze()


def freeze_settled_objects() -> None:
    """The window is up: freeze the objects alive now (see above)."""
    gc.freeze()


def release_held_objects() -> None:
    """A window closed: every frozen object is the collector's again (see above)."""
    gc.unfreeze()
