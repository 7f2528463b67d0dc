"""Where the bundled data lives: example projects and tiny test models.

In the source tree they are under `assets/`; an installed wheel carries the same folder as
the data package `gallop_assets` (see pyproject.toml), which an editable install maps back
onto `assets/`.
"""

from __future__ import annotations

import importlib.util
import os
from functools import cache
from pathlib import Path

PACKAGE = "gallop_assets"
TREE = Path(__file__).resolve().parent.parent / "assets"


def assets_dir() -> Path:
    """`GALLOP_ASSETS` when set, else the installed `gallop_assets` data package, else the
    `assets/` folder beside the packages (a source checkout)."""
    override = os.environ.get("GALLOP_ASSETS")
    if override:
        return Path(override)
    return _bundled()


@cache
def _bundled() -> Path:
    # Found without importing it: a folder of data is a namespace package, whose path an
    # editable install extends with a placeholder that is not a folder.
    spec = importlib.util.find_spec(PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        folder = Path(location)
        if (folder / "examples").is_dir():
            return folder
    return TREE


def example_project() -> Path:
    return assets_dir() / "examples" / "Lighthouse.gallop"
