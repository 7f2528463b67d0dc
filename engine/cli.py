"""Headless `gallop` subcommands. Never imports Qt: they run on servers and in scripts.

Exit codes: 0 success, 1 the work failed (a message says why), 2 bad usage,
3 an invalid or unreadable project, 130 interrupted by Ctrl+C.
"""

from __future__ import annotations

import argparse
import os
import sys
from fractions import Fraction
from pathlib import Path

from studio.camera import describe
from studio.errors import ProjectError, StudioError
from studio.jobs import ExportPreset, Profile
from studio.project_io import load_project

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PROJECT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

SUBCOMMANDS = ("validate", "info", "render", "models", "plan", "export")


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
    export = sub.add_parser("export", help="write the edited film to a video file")
    export.add_argument("project", type=Path)
    export.add_argument(
        "-o", "--output", type=Path, required=True, help="the file to write (png: a folder)"
    )
    export.add_argument(
        "--preset",
        choices=[p.value for p in ExportPreset],
        default=ExportPreset.WEB.value,
        help="web: H.264 MP4; hevc: 10-bit H.265 MP4; prores: ProRes 422 HQ MOV; "
        "webm: VP9 WebM; gif; png: a folder of frames (default: web)",
    )
    export.add_argument("--size", metavar="WxH", help="frame size (default: the project's)")
    export.add_argument("--fps", help="frame rate, e.g. 24, 25 or 24000/1001 (default: the edit's)")
    export.add_argument("--crf", type=int, help="quality of encoded pictures (lower is better)")
    export.add_argument(
        "--no-smart-render",
        action="store_true",
        help="encode every frame, even where a take could be copied as it is",
    )
    export.add_argument(
        "--otio", type=Path, metavar="FILE", help="also write the edit (.otio, .xml or .edl)"
    )
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


class _UsageError(Exception):
    """A command line that parsed but means nothing (a size of "big", a .mov for GIF)."""


def _parse_size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) < 2 or int(h) < 2:
        raise _UsageError(f"--size must look like 1280x720, not {text!r}")
    return int(w), int(h)


def _parse_fps(text: str) -> Fraction:
    try:
        fps = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise _UsageError(
            f"--fps must be a number such as 24 or 24000/1001, not {text!r}"
        ) from None
    if fps <= 0 or fps > 1000:
        raise _UsageError(f"--fps must be between 0 and 1000, not {text}")
    # 23.976 and 29.97 mean the NTSC rates, exactly.
    return fps if "/" in text else fps.limit_denominator(1001)


def _cmd_export(args: argparse.Namespace) -> int:
    from types import SimpleNamespace

    from engine.export import ExportJob, export_request
    from engine.export_presets import output_problem, with_default_suffix
    from engine.progress import ProgressPrinter

    preset = ExportPreset(args.preset)
    output = with_default_suffix(preset, args.output)
    problem = output_problem(preset, output)
    size = _parse_size(args.size) if args.size else (None, None)
    fps = _parse_fps(args.fps) if args.fps else None
    if problem:
        raise _UsageError(problem)
    if args.crf is not None:
        top = {ExportPreset.WEB: 51, ExportPreset.HEVC: 51, ExportPreset.WEBM: 63}.get(preset)
        if top is None:
            raise _UsageError(f"--crf does not apply to the {preset.value} preset")
        if not 0 <= args.crf <= top:
            raise _UsageError(f"--crf must be between 0 and {top} for {preset.value}")
    project = load_project(args.project)
    request = export_request(
        project,
        args.project,
        output,
        preset,
        width=size[0],
        height=size[1],
        fps=fps,
        crf=args.crf,
        smart_render=not args.no_smart_render,
    )
    printer = ProgressPrinter(sys.stderr)
    label = SimpleNamespace(shot=SimpleNamespace(title=f"export {output.name}", id="export"))
    job = ExportJob(project, args.project, request, lambda event: printer.event(label, event))
    job.start()
    try:
        while not job.done:
            job.wait(0.25)  # short waits, so that Ctrl+C is seen at once
    except KeyboardInterrupt:
        job.cancel()
        job.wait()
        printer.close()
        print("gallop: export interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    job.wait()
    printer.close()
    result = job.result
    if result is None:
        print(f"gallop: export failed: {job.error or 'cancelled'}", file=sys.stderr)
        return EXIT_FAILED
    copied = f", {result.copied_frames} copied from the takes" if result.copied_frames else ""
    print(f"{result.path}: {result.frames} frames, {result.seconds:.2f}s{copied}")
    if args.otio:
        from engine.interchange import write_edit

        edit = write_edit(project, args.project, args.otio)
        print(f"{edit}: the edit")
    return EXIT_OK


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
        "export": _cmd_export,
    }
    handler = handlers[args.command]
    try:
        return handler(args)
    except _UsageError as exc:
        print(f"gallop {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
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
