"""Typed errors a user can cause, with messages a director understands."""

from __future__ import annotations

# Long enough for any JSON path or file path a person reads, short enough for one line.
MAX_PATH_CHARS = 300
MAX_MESSAGE_CHARS = 400


def one_line(text: object, limit: int) -> str:
    """`text` with control characters and unpaired surrogates escaped, cut to at most
    `limit` characters, the last an ellipsis when it was cut."""
    text = str(text)
    if text.isprintable() and len(text) <= limit:
        return text
    out: list[str] = []
    size = 0
    for char in text[:limit]:
        if char.isprintable():
            piece = char
        elif "\ud800" <= char <= "\udfff":
            piece = f"\\u{ord(char):04x}"
        else:
            piece = repr(char)[1:-1]
        if size + len(piece) > limit - 1:
            return "".join(out) + "\u2026"
        out.append(piece)
        size += len(piece)
    return "".join(out) + ("\u2026" if len(text) > limit else "")


class StudioError(Exception):
    """Base of every error the studio shows to the user."""


class ProjectError(StudioError):
    """A project folder or `project.json` is unreadable or invalid.

    `path` names where in the JSON the problem is (for example
    ``$.shots[2].camera.pan[0].value``) or the file that is at fault.
    """

    def __init__(self, path: str, message: str) -> None:
        # Whatever a damaged file puts into a path or a message, the error stays one
        # printable line of bounded length: a terminal, a log line or a dialog shows it
        # whole, and printing it never fails on an unpaired surrogate.
        path = one_line(path, MAX_PATH_CHARS)
        message = one_line(message, MAX_MESSAGE_CHARS)
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class EditError(StudioError):
    """An edit cannot be applied (for example a trim past the end of a take)."""
