"""Typed errors a user can cause, with messages a director understands."""

from __future__ import annotations


class StudioError(Exception):
    """Base of every error the studio shows to the user."""


class ProjectError(StudioError):
    """A project folder or `project.json` is unreadable or invalid.

    `path` names where in the JSON the problem is (for example
    ``$.shots[2].camera.pan[0].value``) or the file that is at fault.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class EditError(StudioError):
    """An edit cannot be applied (for example a trim past the end of a take)."""
