"""Running a headless subcommand: logging set up, its handler called, and what went wrong
turned into a message and an exit code (see `engine.cli.parser`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping

from engine.cli.export import cmd_export
from engine.cli.finalize import cmd_finalize
from engine.cli.info import cmd_info
from engine.cli.parser import (
    UI_SUBCOMMANDS,
    WINDOW,
    Exit,
    Handler,
    UsageError,
    parse_command_line,
    version,
)
from engine.cli.project import cmd_plan, cmd_validate
from engine.cli.render import cmd_render
from studio.errors import ProjectError, StudioError
from studio.project.io import ProjectLockedError

log = logging.getLogger("engine.cli")


class _Stderr:
    """Whatever `sys.stderr` is at the moment of writing (a test's capture, rich's proxy)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def run_subcommand(
    argv: list[str] | argparse.Namespace, handlers: Mapping[str, Handler] | None = None
) -> int:
    """Run a headless subcommand: `argv` as typed after `gallop`, or as parsed by
    `parse_command_line`. `handlers` run the subcommands of the ui layer (UI_SUBCOMMANDS)."""
    if isinstance(argv, argparse.Namespace):
        args = argv
    else:
        try:
            args = parse_command_line(argv)
        except SystemExit as exc:
            return Exit.OK if exc.code in (0, None) else Exit.USAGE
    if args.command == WINDOW:
        print("gallop: the studio window opens from the `gallop` command", file=sys.stderr)
        return Exit.USAGE
    from engine.logs import configure_logging

    configure_logging("cli", verbosity=args.verbosity, stream=_Stderr())
    log.debug("gallop-studio %s: %s", version(), args)
    from engine.cli.models import cmd_models

    commands: dict[str, Handler] = {
        "validate": cmd_validate,
        "info": cmd_info,
        "render": cmd_render,
        "finalize": cmd_finalize,
        "models": cmd_models,
        "plan": cmd_plan,
        "export": cmd_export,
    }
    commands.update(handlers or {})
    handler = commands.get(args.command)
    if handler is None:  # a subcommand of the ui layer, run without it
        where = "the `gallop` command" if args.command in UI_SUBCOMMANDS else "no handler"
        print(f"gallop {args.command}: runs through {where}", file=sys.stderr)
        return Exit.USAGE
    try:
        return handler(args)
    except UsageError as exc:
        print(f"gallop {args.command}: {exc}", file=sys.stderr)
        return Exit.USAGE
    except ProjectLockedError as exc:  # a valid project, open elsewhere: not "invalid"
        print(f"gallop: in use: {exc}", file=sys.stderr)
        return Exit.IN_USE
    except ProjectError as exc:
        print(f"gallop: invalid project: {exc}", file=sys.stderr)
        return Exit.PROJECT
    except StudioError as exc:
        print(f"gallop: {exc}", file=sys.stderr)
        return Exit.FAILED
    except KeyboardInterrupt:
        print("gallop: interrupted", file=sys.stderr)
        return Exit.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`gallop info ... | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return Exit.OK
    except OSError as exc:
        print(f"gallop {args.command}: {exc}", file=sys.stderr)
        return Exit.FAILED


def main(argv: list[str] | None = None) -> int:
    return run_subcommand(list(sys.argv[1:] if argv is None else argv))
