"""Shared fixtures of the window tests: a document on a copy of the example project, and
an engine bridge over it that is shut down after the test.

The window tests time out with pytest-timeout's thread method: a test stuck inside a Qt
event loop (a modal dialog, `QEventLoop.exec`) never returns to Python, so the signal
method's exception never comes and the run would hang without a word. The thread method
prints the stacks of every thread and ends the run instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.project.io import copy_project, load_project
from ui.bridge import EngineBridge
from ui.document import Document

EXAMPLE = Path(__file__).resolve().parents[2] / "assets" / "examples" / "Lighthouse.gallop"


HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items) -> None:
    for item in items:  # every test of the run comes here: mark only this folder's
        if item.path.is_relative_to(HERE) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(method="thread"))


@pytest.fixture
def document(tmp_path):
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    return Document(load_project(folder), folder)


@pytest.fixture
def bridge(document):
    bridge = EngineBridge(document)
    yield bridge
    bridge.shutdown()
