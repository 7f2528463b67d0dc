"""Headless `gallop` subcommands. Never imports Qt: they run on servers and in scripts.

Exit codes: 0 success, 1 the work failed (a message says why), 2 bad usage,
3 an invalid or unreadable project, 130 interrupted by Ctrl+C.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.camera import describe
from studio.errors import ProjectError, StudioError
from studio.project_io import load_project

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PROJECT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

SUBCOMMANDS = ("validate", "info")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gallop", description="Gallop Studio, headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    validate = sub.add_parser("validate", help="check that a project folder loads and is valid")
    validate.add_argument("project", type=Path)
    info = sub.add_parser("info", help="list a project's shots, their camera moves and takes")
    info.add_argument("project", type=Path)
    return parser


def _cmd_validate(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    print(f"{args.project}: valid ({len(project.shots)} shots, title {project.title!r})")
    return EXIT_OK


def _cmd_info(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    fps = float(project.fps)
    print(f"{project.title} - {project.width}x{project.height} @ {fps:g} fps")
    for i, shot in enumerate(project.shots, 1):
        status = "rendered" if shot.current_take else "not rendered"
        move = describe(shot.camera, shot.duration)
        print(f"{i:2}. {shot.title or shot.id}  {shot.duration:g}s  {move}  [{status}]")
    seconds = float(project.timeline.duration_seconds)
    print(f"timeline: {len(project.timeline.clips())} clips, {seconds:.2f}s")
    return EXIT_OK


def run_subcommand(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    handler = {"validate": _cmd_validate, "info": _cmd_info}[args.command]
    try:
        return handler(args)
    except ProjectError as exc:
        print(f"gallop: invalid project: {exc}", file=sys.stderr)
        return EXIT_PROJECT
    except StudioError as exc:
        print(f"gallop: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("gallop: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def main(argv: list[str] | None = None) -> int:
    return run_subcommand(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
