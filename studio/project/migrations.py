"""Schema migrations of `project.json`: registered N -> N+1 functions run in a loop.

Each migration takes the whole document (a dict) of schema N and returns the document of
schema N+1. They are keyed on the integer schema version, never on the app version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.errors import ProjectError

Migration = Callable[[dict[str, Any]], dict[str, Any]]

# The schema this version of the studio writes.
SCHEMA_VERSION = 1


class MigrationRegistry:
    def __init__(self) -> None:
        self._steps: dict[int, Migration] = {}

    def register(self, from_version: int) -> Callable[[Migration], Migration]:
        """Decorator: `@registry.register(1)` marks a function upgrading schema 1 to 2."""

        def decorate(func: Migration) -> Migration:
            if from_version in self._steps:
                raise ValueError(f"a migration from schema {from_version} already exists")
            self._steps[from_version] = func
            return func

        return decorate

    def migrate(self, document: dict[str, Any], target: int) -> dict[str, Any]:
        version = document.get("schema_version")
        if isinstance(version, bool) or not isinstance(version, int):
            raise ProjectError("$.schema_version", "expected an integer")
        while version < target:
            step = self._steps.get(version)
            if step is None:
                raise ProjectError(
                    "$.schema_version",
                    f"no upgrade from schema {version}; this project is too old to open",
                )
            try:
                document = step(dict(document))
            except ProjectError:
                raise
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise ProjectError(
                    "$", f"cannot upgrade from schema {version}: {exc.__class__.__name__} {exc}"
                ) from None
            if not isinstance(document, dict):
                raise ProjectError("$", f"upgrade from schema {version} gave no document")
            version += 1
            document["schema_version"] = version
        return document


MIGRATIONS = MigrationRegistry()
