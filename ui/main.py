"""The `gallop` command: the studio window by default, headless subcommands otherwise.

`engine.cli` parses the whole command line and runs the headless subcommands without
importing Qt; only the window (`gallop [PROJECT] [--new] [--screenshot PNG]`) imports it.
"""

from __future__ import annotations

import argparse
import sys


def install_desktop_command(args: argparse.Namespace) -> int:
    """`gallop install-desktop`: the launcher, icon and file type in the user's data folder."""
    from ui.system.desktop import install_desktop

    for path in install_desktop():
        print(path)
    return 0


UI_HANDLERS = {"install-desktop": install_desktop_command}


def main(argv: list[str] | None = None) -> int:
    from engine.cli import WINDOW, Exit, parse_command_line, run_subcommand

    try:
        args = parse_command_line(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # --help, --version, bad usage: argparse has said why
        return Exit.OK if exc.code in (0, None) else Exit.USAGE
    if args.command != WINDOW:
        return run_subcommand(args, UI_HANDLERS)
    from ui.app import run_studio

    return run_studio(args)


if __name__ == "__main__":
    sys.exit(main())
