"""Load torch's shared libraries without holding Python's lock.

Python's import machinery calls dlopen with the GIL held; libtorch_cpu is hundreds of
megabytes of relocations, so a first `import torch` on the engine thread froze the window
for about half a second. dlopen called through ctypes releases the GIL; once the
libraries are mapped, the import's own dlopen of them is instant.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from pathlib import Path

# Dependencies first, so each dlopen finds what it links against already loaded.
TORCH_LIBRARIES = ("libgomp.so.1", "libc10.so", "libtorch_cpu.so", "libtorch.so")


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
    try:
        libc = ctypes.CDLL(None)  # a CDLL call drops the GIL while it runs
        dlopen = libc.dlopen
    except (OSError, AttributeError):
        return []
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    loaded = []
    for name in TORCH_LIBRARIES:
        path = folder / name
        if path.exists() and dlopen(os.fsencode(path), os.RTLD_NOW | os.RTLD_GLOBAL):
            loaded.append(name)
    return loaded
