"""Headless `gallop` subcommands. Never imports Qt: they run on servers and in scripts.

Exit codes: 0 success, 1 the work failed (a message says why), 2 bad usage,
3 an invalid or unreadable project, 130 interrupted by Ctrl+C.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from studio.camera import describe
from studio.errors import ProjectError, StudioError
from studio.jobs import Profile
from studio.project_io import load_project

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PROJECT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

SUBCOMMANDS = ("validate", "info", "render", "models", "plan")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gallop", description="Gallop Studio, headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    validate = sub.add_parser("validate", help="check that a project folder loads and is valid")
    validate.add_argument("project", type=Path)
    info = sub.add_parser("info", help="list a project's shots, their camera moves and takes")
    info.add_argument("project", type=Path)
    render = sub.add_parser(
        "render", help="render the shots that have no take for their current request"
    )
    render.add_argument("project", type=Path)
    render.add_argument("--shots", help="comma-separated shot ids (default: all)")
    render.add_argument("--backend", choices=["previz", "diffusers"])
    render.add_argument("--model", help="a model id of `gallop models list`")
    render.add_argument("--profile", choices=[p.value for p in Profile])
    render.add_argument(
        "--variations", type=int, default=1, metavar="N", help="N takes per shot, seeds in a row"
    )
    render.add_argument(
        "--ray",
        metavar="auto|ADDRESS|local",
        help="render on a Ray cluster: 'local' starts one here, 'auto' joins the running one",
    )
    render.add_argument(
        "--shared-takes",
        action="store_true",
        help="with --ray: the nodes write takes straight into the project (a shared folder)",
    )
    plan = sub.add_parser("plan", help="turn a Fountain screenplay or prose into a storyboard")
    plan.add_argument("script", type=Path, help="a .fountain screenplay or a plain text file")
    plan.add_argument("-o", "--output", type=Path, required=True, help="the Name.gallop to create")
    plan.add_argument("--model", help="model id for the new shots (default: previz)")
    models = sub.add_parser("models", help="list, inspect, verify and download models")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    models_sub.add_parser("list", help="every catalog model and whether it is here")
    info_model = models_sub.add_parser("info", help="everything about one model")
    info_model.add_argument("model")
    verify = models_sub.add_parser("verify", help="check downloaded weights are whole")
    verify.add_argument("model", nargs="?", help="one model (default: every model here)")
    download = models_sub.add_parser("download", help="fetch a model from the Hugging Face hub")
    download.add_argument("model")
    download.add_argument(
        "--accept-licence", action="store_true", help="you accepted the model's licence"
    )
    return parser


def _cmd_render(args: argparse.Namespace) -> int:
    from engine.batch import BatchRenderer
    from engine.progress import ProgressPrinter

    printer = ProgressPrinter(sys.stderr)
    engine_factory = None
    if args.ray:
        from engine.farm import farm_engine_factory

        engine_factory = farm_engine_factory(args.ray, shared_takes=args.shared_takes)
    renderer = BatchRenderer(
        args.project,
        backend=args.backend,
        model_id=args.model,
        profile=Profile(args.profile) if args.profile else None,
        variations=args.variations,
        engine_factory=engine_factory,
        on_event=printer.event,
        on_plan=printer.plan,
    )
    shots = [s.strip() for s in args.shots.split(",") if s.strip()] if args.shots else None
    result = renderer.run(shots)
    printer.close()
    for shot_id, message in result.failed.items():
        print(f"gallop: shot {shot_id} failed: {message}", file=sys.stderr)
    summary = (
        f"{len(result.rendered)} rendered, {len(result.up_to_date)} up to date, "
        f"{len(result.failed)} failed, {len(result.cancelled)} cancelled"
    )
    print(summary)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if result.ok else EXIT_FAILED


def _cmd_plan(args: argparse.Namespace) -> int:
    from engine.script_import import plan_project

    project = plan_project(args.script, args.output, model_id=args.model)
    chars = ", ".join(c.name for c in project.characters) or "none"
    seconds = float(project.timeline.duration_seconds)
    print(f"{args.output}: {len(project.shots)} shots, {seconds:.1f}s, characters: {chars}")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    print(f"{args.project}: valid ({len(project.shots)} shots, title {project.title!r})")
    return EXIT_OK


def _cmd_info(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    fps = float(project.fps)
    print(f"{project.title} - {project.width}x{project.height} @ {fps:g} fps")
    from engine.planning import shot_status

    for i, shot in enumerate(project.shots, 1):
        status = shot_status(project, args.project, shot)
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
    from engine.models.commands import cmd_models

    handlers = {
        "validate": _cmd_validate,
        "info": _cmd_info,
        "render": _cmd_render,
        "models": cmd_models,
        "plan": _cmd_plan,
    }
    handler = handlers[args.command]
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
    except BrokenPipeError:
        # The reader went away (`gallop info ... | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    return run_subcommand(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
