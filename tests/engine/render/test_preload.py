"""Torch's libraries can be mapped before the import, with the interpreter lock free."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from engine.render.preload import gil_free_dlopen

SCRIPT = r"""
import sys
from engine.render.preload import preload_torch_libraries
loaded = preload_torch_libraries()
maps = open("/proc/self/maps").read()
print(loaded, "libtorch_cpu.so" in maps, "torch" in sys.modules)
import torch
print(torch.ones(2).sum().item())
"""


def test_torch_libraries_load_before_torch_and_torch_still_imports():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=300
    ).stdout.splitlines()
    loaded, mapped, imported = out[0].rsplit(" ", 2)
    assert "libtorch_cpu.so" in loaded
    assert (mapped, imported) == ("True", "False")
    assert out[1] == "2.0"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the preload is Linux only")
def test_the_preloads_dlopen_lets_other_threads_run_python(tmp_path):
    # dlopen of a FIFO blocks in open() until a writer comes. The writer is this thread,
    # running Python: it can only get there if the loading thread let go of the GIL. With
    # the GIL held the two would deadlock (and the join below would time out).
    fifo = tmp_path / "library.so"
    os.mkfifo(fifo)
    dlopen = gil_free_dlopen()
    assert dlopen is not None
    result = []
    loader = threading.Thread(
        target=lambda: result.append(dlopen(os.fsencode(fifo), os.RTLD_NOW)), daemon=True
    )
    loader.start()
    with open(fifo, "wb") as writer:  # blocks until the loader has opened the FIFO
        writer.write(b"not a library")
    loader.join(timeout=60)
    assert not loader.is_alive()
    assert result == [None]  # not an ELF file: dlopen fails, after the open went through


QUIET = r"""
import gc
from engine.render.preload import quiet_collector
assert gc.isenabled() and gc.get_freeze_count() == 0
with quiet_collector():
    during = gc.isenabled()
    import json, decimal  # something to import
frozen = gc.get_freeze_count()
with quiet_collector():
    again = gc.isenabled()
print(during, gc.isenabled(), frozen > 1000, again, gc.get_freeze_count() == frozen)
"""


def test_the_collector_waits_while_libraries_import_then_freezes_them_once():
    out = subprocess.run(
        [sys.executable, "-c", QUIET], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    # Off during the first import, on after it with what existed frozen; a second use
    # neither stops collection nor freezes what the studio has made since.
    assert out == ["False", "True", "True", "True", "True"]
