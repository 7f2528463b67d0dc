"""The `gallop` command line: the parser, and one module for each headless subcommand."""

from engine.cli.info import INFO_JSON_VERSION, info_document, printable
from engine.cli.parser import (
    DESCRIPTION,
    EPILOG,
    SUBCOMMANDS,
    UI_SUBCOMMANDS,
    WINDOW,
    Exit,
    Handler,
    UsageError,
    build_parser,
    parse_command_line,
    version,
    window_wanted,
)
from engine.cli.run import main, run_subcommand

__all__ = [
    "DESCRIPTION",
    "EPILOG",
    "INFO_JSON_VERSION",
    "SUBCOMMANDS",
    "UI_SUBCOMMANDS",
    "WINDOW",
    "Exit",
    "Handler",
    "UsageError",
    "build_parser",
    "info_document",
    "main",
    "parse_command_line",
    "printable",
    "run_subcommand",
    "version",
    "window_wanted",
]
