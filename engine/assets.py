"""Where the bundled data lives: example projects and tiny test models under `assets/`."""

from __future__ import annotations

import os
from pathlib import Path


def assets_dir() -> Path:
    """`GALLOP_ASSETS` when set, else the `assets/` folder beside the packages."""
    override = os.environ.get("GALLOP_ASSETS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "assets"


def example_project() -> Path:
    return assets_dir() / "examples" / "Lighthouse.gallop"
