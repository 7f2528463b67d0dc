"""Import torch, diffusers and transformers on the engine thread without freezing the
process's other threads (the engine process's command reader, which must take a cancel at
once; the command line's progress).

Two things held Python's lock (the GIL) for long stretches while they import:

- dlopen: the import machinery calls it with the GIL held, and libtorch_cpu is hundreds of
  megabytes of relocations. dlopen called through ctypes releases the GIL; once the
  libraries are mapped, the import's own dlopen of them is instant
  (`preload_torch_libraries`).
- the garbage collector: the imports create millions of objects, and each full collection
  walks all of them with the GIL held, 100 to 200 ms apiece here. `quiet_collector` holds
  collection off while the libraries import, then freezes what exists (`gc.freeze`): later
  collections no longer walk the libraries' objects.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

# Dependencies first, so each dlopen finds what it links against already loaded.
TORCH_LIBRARIES = (
    "libgomp.so.1",
    "libc10.so",
    "libtorch_cpu.so",
    "libtorch.so",
    "libshm.so",
    "libtorch_python.so",
)

_frozen = threading.Event()  # the libraries' objects have been frozen once


def preload_torch_libraries() -> list[str]:
    """Map torch's big libraries (Linux only; elsewhere nothing happens). Returns the names
    loaded; failures are silent, as the normal import reports any real problem."""
    if not sys.platform.startswith("linux") or "torch" in sys.modules:
        return []
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return []
    if spec is None or spec.origin is None:
        return []
    folder = Path(spec.origin).parent / "lib"
    dlopen = gil_free_dlopen()
    if dlopen is None:
        return []
    loaded = []
    for name in TORCH_LIBRARIES:
        path = folder / name
        if path.exists() and dlopen(os.fsencode(path), os.RTLD_NOW | os.RTLD_GLOBAL):
            loaded.append(name)
    return loaded


def gil_free_dlopen() -> Callable[[bytes, int], int | None] | None:
    """libc's dlopen called through ctypes, which lets go of the GIL for the call; None
    where there is none."""
    try:
        dlopen = ctypes.CDLL(None).dlopen
    except (OSError, AttributeError):
        return None
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return dlopen


@contextlib.contextmanager
def quiet_collector() -> Iterator[None]:
    """Around the first import of the big libraries: no collection while they import, then
    everything alive is frozen out of later collections. Later uses only import."""
    if _frozen.is_set():
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # Only once: what is frozen is never collected, so nothing that may later become
        # garbage (a loaded model) must be alive at that moment.
        gc.freeze()
        _frozen.set()
        if enabled:
            gc.enable()
