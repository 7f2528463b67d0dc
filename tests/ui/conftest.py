"""Shared fixtures of the window tests: a document on a copy of the example project, and
an engine bridge over it that is shut down after the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.project_io import copy_project, load_project
from ui.bridge import EngineBridge
from ui.document import Document

EXAMPLE = Path(__file__).resolve().parents[2] / "assets" / "examples" / "Lighthouse.gallop"


@pytest.fixture
def document(tmp_path):
    folder = copy_project(EXAMPLE, tmp_path / "Lighthouse.gallop")
    return Document(load_project(folder), folder)


@pytest.fixture
def bridge(document):
    bridge = EngineBridge(document)
    yield bridge
    bridge.shutdown()
