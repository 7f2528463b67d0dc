"""Logging for every `gallop` process: standard `logging`, a rotating file per program.

The window, the engine child and the command line each write their own rotating file in
the platform's user log folder (`GALLOP_LOG_DIR` overrides it), so a director who hits a
problem has one folder to send. The command line also prints to standard error at the
level `-v`/`-q` choose.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path
from typing import TextIO

LOG_BYTES = 2_000_000  # one file before it rotates
LOG_BACKUPS = 3  # rotated files kept beside it
FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"

# The handlers this module installed, so that configuring again replaces them.
_installed: list[logging.Handler] = []


def log_dir() -> Path:
    """The folder of the log files: `GALLOP_LOG_DIR`, else the platform's user log folder."""
    override = os.environ.get("GALLOP_LOG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_log_dir

    return Path(user_log_dir("gallop-studio", appauthor=False))


def log_file(program: str) -> Path:
    """The log file of one program: 'window', 'engine' or 'cli'."""
    return log_dir() / f"{program}.log"


def level_for(verbosity: int) -> int:
    """-q -> ERROR, none -> WARNING, -v -> INFO, -vv -> DEBUG."""
    if verbosity < 0:
        return logging.ERROR
    return {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)


def configure_logging(
    program: str | None,
    *,
    verbosity: int = 0,
    stream: TextIO | None = None,
    file_level: int = logging.INFO,
) -> Path | None:
    """Send the `gallop` loggers to `program`'s rotating file (INFO and up) and, when
    `stream` is given, to it at the level of `verbosity`. Returns the file's path, or None
    when no file could be opened (a read-only home must not stop the studio)."""
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()
    levels = []
    path: Path | None = None
    if program is not None:
        candidate = log_file(program)
        try:
            candidate.parent.mkdir(parents=True, exist_ok=True)
            handler: logging.Handler = logging.handlers.RotatingFileHandler(
                candidate, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
            )
        except OSError:
            pass
        else:
            handler.setLevel(file_level)
            handler.setFormatter(logging.Formatter(FORMAT))
            _installed.append(handler)
            levels.append(file_level)
            path = candidate
    if stream is not None:
        handler = logging.StreamHandler(stream)
        level = level_for(verbosity)
        handler.setLevel(level)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        _installed.append(handler)
        levels.append(level)
    for handler in _installed:
        root.addHandler(handler)
    root.setLevel(min(levels) if levels else logging.WARNING)
    return path
