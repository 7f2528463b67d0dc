"""The `gallop` command: the studio window by default, headless subcommands otherwise.

Headless subcommands go to `engine.cli` and never import Qt; only the window path does.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from engine.cli import SUBCOMMANDS, run_subcommand

    if args and args[0] in SUBCOMMANDS:
        return run_subcommand(args)
    from ui.app import run_studio

    return run_studio(args)


if __name__ == "__main__":
    sys.exit(main())
