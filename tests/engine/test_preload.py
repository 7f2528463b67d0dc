"""Torch's libraries can be mapped before the import, with the interpreter lock free."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r"""
import sys, threading, time
from engine.preload import preload_torch_libraries
done = []
worker = threading.Thread(target=lambda: done.append(preload_torch_libraries()))
ticks = 0
worker.start()
while worker.is_alive():
    ticks += 1  # this thread keeps running Python while the libraries load
    time.sleep(0.001)
maps = open("/proc/self/maps").read()
print(done[0], "libtorch_cpu.so" in maps, "torch" in sys.modules, ticks > 5)
import torch
print(torch.ones(2).sum().item())
"""


def test_torch_libraries_load_before_torch_and_torch_still_imports():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=300
    ).stdout.splitlines()
    loaded, mapped, imported, ran = out[0].rsplit(" ", 3)
    assert "libtorch_cpu.so" in loaded
    assert (mapped, imported, ran) == ("True", "False", "True")
    assert out[1] == "2.0"


QUIET = r"""
import gc
from engine.preload import quiet_collector
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
