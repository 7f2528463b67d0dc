"""The `gallop` command line: one argparse tree for the studio window and the headless
subcommands. Never imports Qt: the subcommands run on servers and in scripts.

`gallop [PROJECT] [--new] [--screenshot PNG]` opens the window (the `open` subcommand, which
the first argument selects unless it names another subcommand; see `parse_command_line`);
every other subcommand runs headless. The ui layer runs the window and provides the
handlers of the subcommands that belong to it (`install-desktop`).

Exit codes: 0 success, 1 the work failed (a message says why), 2 bad usage,
3 an invalid or unreadable project, 4 the project is in use (open in another Gallop
Studio or being rendered), 130 interrupted by Ctrl+C.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import os
import sys
import unicodedata
from collections.abc import Callable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from studio.camera.rig import describe
from studio.errors import ProjectError, StudioError
from studio.jobs import ExportPreset, Failed, Finished, Profile
from studio.project.io import ProjectLockedError, load_project

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PROJECT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_IN_USE = 4  # the project is open in another Gallop Studio or `gallop render`

WINDOW = "open"  # the subcommand of the studio window
SUBCOMMANDS = ("validate", "info", "render", "models", "plan", "export", "install-desktop")
UI_SUBCOMMANDS = ("install-desktop",)  # handled by the ui layer (see `run_subcommand`)
INFO_JSON_VERSION = 1

Handler = Callable[[argparse.Namespace], int]

log = logging.getLogger("engine.cli")  # one logger for the whole command line

DESCRIPTION = """\
Gallop Studio: a local desktop studio for AI video.

the studio window:
  gallop [PROJECT]                  open a Name.gallop project folder (default: the
                                    bundled example, copied to your data folder)
  gallop --new [PROJECT]            create an empty project there and open it
  gallop --screenshot PNG PROJECT   open it, let the window settle, save a picture of
                                    the window to PNG and exit

Every other command runs headless and never opens a window; `gallop COMMAND --help`
tells more."""

EPILOG = """\
exit codes: 0 success, 1 the work failed, 2 bad usage, 3 an invalid or unreadable
project, 4 the project is in use elsewhere, 130 interrupted (Ctrl+C)."""


def version() -> str:
    """The installed package's version, or the source tree's."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version("gallop-studio")
    except PackageNotFoundError:
        import studio

        return studio.__version__


class _Version(argparse.Action):
    """`--version`, reading the version only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, **kwargs) -> None:
        kwargs.setdefault("help", "print the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"gallop-studio {version()}")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose "invalid choice" names the closest choice."""

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as exc:
            close = difflib.get_close_matches(str(value), [str(c) for c in action.choices], 1)
            if not close:
                raise
            message = f"{exc.message}; did you mean {close[0]!r}?"
            raise argparse.ArgumentError(action, message) from None


def _verbosity_options(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """-v/-q; a subcommand's own go to other names, so that `gallop -v render` and
    `gallop render -v` both count (a subcommand's defaults would overwrite the top's)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        dest=f"{prefix}verbose",
        help="log more on standard error (-v: info, -vv: debug)",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="count",
        default=0,
        dest=f"{prefix}quiet",
        help="errors only: no progress and no warnings",
    )


def _project_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, help="a Name.gallop project folder")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps a long subcommand name (install-desktop) on the line of its help."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action.choices, dict) and action.help is not argparse.SUPPRESS:
            indent = self._current_indent + self._indent_increment  # subcommands sit deeper
            longest = max(len(name) for name in action.choices) + indent
            self._action_max_length = max(self._action_max_length, longest)


def _formatter(prog: str) -> argparse.HelpFormatter:
    return _Formatter(prog, max_help_position=32)


def _child(sub, prog: str, name: str, help: str, **kwargs) -> argparse.ArgumentParser:
    """A subcommand with a one-line help, which is also its description, and -v/-q."""
    child = sub.add_parser(
        name,
        prog=prog,
        help=help,
        description=f"{help[:1].upper()}{help[1:]}.",
        formatter_class=_formatter,
        **kwargs,
    )
    _verbosity_options(child, prefix="sub_")
    return child


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, the window's options included."""
    parser = _Parser(
        prog="gallop",
        usage="gallop [-h] [--version] [-v | -q] [PROJECT] [--new] [--screenshot PNG]\n"
        "       gallop [-v | -q] COMMAND [ARGS]",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=_formatter,
    )
    parser.add_argument("--version", action=_Version)
    _verbosity_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def command(name: str, help: str, **kwargs) -> argparse.ArgumentParser:
        return _child(sub, f"gallop {name}", name, help, **kwargs)

    window = command(
        WINDOW,
        "open a project in the studio window (the same as `gallop PROJECT`)",
        usage="gallop [open] [-h] [-v | -q] [--new] [--screenshot PNG] [PROJECT]",
    )
    window.add_argument(
        "project",
        nargs="?",
        type=Path,
        help="a Name.gallop project folder (default: the bundled example, copied to your "
        "data folder; with --new: Untitled.gallop here)",
    )
    window.add_argument("--new", action="store_true", help="create an empty project at PROJECT")
    window.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="open the project, let the window settle, save a picture of it to PNG and exit",
    )

    validate = command("validate", "check that a project folder loads and is valid")
    _project_argument(validate)
    info = command("info", "list a project's shots, their camera moves and takes")
    _project_argument(info)
    info.add_argument(
        "--json",
        action="store_true",
        help="print the project, its shots, takes and timeline as one JSON document",
    )
    render = command("render", "render the shots that have no take for their current request")
    _project_argument(render)
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
    plan = command("plan", "turn a Fountain screenplay or prose into a storyboard")
    plan.add_argument("script", type=Path, help="a .fountain screenplay or a plain text file")
    plan.add_argument("-o", "--output", type=Path, required=True, help="the Name.gallop to create")
    plan.add_argument("--model", help="model id for the new shots (default: previz)")
    export = command("export", "write the edited film to a video file")
    _project_argument(export)
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
    export.add_argument(
        "--fps", help="frame rate from 1 to 1000, e.g. 24, 25 or 24000/1001 (default: the edit's)"
    )
    export.add_argument("--crf", type=int, help="quality of encoded pictures (lower is better)")
    export.add_argument(
        "--no-smart-render",
        action="store_true",
        help="encode every frame, even where a take could be copied as it is",
    )
    export.add_argument(
        "--otio", type=Path, metavar="FILE", help="also write the edit (.otio, .xml or .edl)"
    )
    models = sub.add_parser(
        "models",
        prog="gallop models",
        help="list, inspect, verify and download models",
        description="List, inspect, verify and download models.",
        formatter_class=_formatter,
    )
    models_sub = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")

    def models_command(name: str, help: str) -> argparse.ArgumentParser:
        return _child(models_sub, f"gallop models {name}", name, help)

    models_command("list", "every catalog model and whether it is here")
    info_model = models_command("info", "everything about one model")
    info_model.add_argument("model", help="a model id of `gallop models list`")
    verify = models_command("verify", "check downloaded weights are whole")
    verify.add_argument("model", nargs="?", help="one model (default: every model here)")
    download = models_command("download", "fetch a model from the Hugging Face hub")
    download.add_argument("model", help="a model id of `gallop models list`")
    download.add_argument(
        "--accept-licence", action="store_true", help="you accepted the model's licence"
    )
    command("install-desktop", "add Gallop Studio to the desktop's application menu (user scope)")
    return parser


_GLOBAL = {"-v", "-q", "--verbose", "--quiet"}
_TOP_OPTIONS = {"-h", "--help", "--version"}


def _is_global(arg: str) -> bool:
    return arg in _GLOBAL or (
        len(arg) > 1 and arg[0] == "-" and arg[1] != "-" and set(arg[1:]) <= {"v", "q"}
    )


def window_wanted(argv: list[str]) -> bool:
    """Whether a command line means the studio window: the first argument after -v/-q is
    none, an option of the window's, or a path (one that exists, or ends in .gallop). A
    bare word that is neither a path nor a subcommand is taken for a path unless it is
    close to a subcommand's name: then it is a mistyped subcommand (a usage error)."""
    rest = list(argv)
    while rest and _is_global(rest[0]):
        rest.pop(0)
    if not rest:
        return True
    first = rest[0]
    if first in _TOP_OPTIONS or first == WINDOW or first in SUBCOMMANDS:
        return False
    if len(first) > 2 and any(o.startswith(first) for o in _TOP_OPTIONS if o[1] == "-"):
        return False  # --vers, --he: argparse takes an option's prefix
    if first.startswith("-"):
        return True  # --new, --screenshot, -- and the window's mistakes
    if first.endswith(".gallop") or Path(first).exists():
        return True
    return not difflib.get_close_matches(first, (WINDOW, *SUBCOMMANDS), 1)


def parse_command_line(argv: list[str]) -> argparse.Namespace:
    """Parse `argv` with the one tree; `command` is WINDOW for the window. argparse exits
    (SystemExit) after --help and --version (0) and on bad usage (2)."""
    argv = list(argv)
    if window_wanted(argv):
        index = next((i for i, a in enumerate(argv) if not _is_global(a)), len(argv))
        argv.insert(index, WINDOW)
    args = build_parser().parse_args(argv)
    verbose = args.verbose + getattr(args, "sub_verbose", 0)
    quiet = args.quiet + getattr(args, "sub_quiet", 0)
    for name in ("sub_verbose", "sub_quiet"):
        if hasattr(args, name):
            delattr(args, name)
    args.verbosity = -1 if quiet else verbose
    return args


def _cmd_render(args: argparse.Namespace) -> int:
    from engine.render.batch import BatchRenderer
    from engine.render.reporter import ProgressPrinter

    printer = ProgressPrinter(sys.stderr, quiet=args.verbosity < 0)
    engine_factory = None
    if args.ray:
        from engine.render.farm import farm_engine_factory

        engine_factory = farm_engine_factory(args.ray, shared_takes=args.shared_takes)

    def on_plan(index: int, count: int, plan) -> None:
        _log_plan(plan)
        printer.plan(index, count, plan)

    def on_event(plan, event) -> None:
        _log_event(plan, event)
        printer.event(plan, event)

    renderer = BatchRenderer(
        args.project,
        backend=args.backend,
        model_id=args.model,
        profile=Profile(args.profile) if args.profile else None,
        variations=args.variations,
        engine_factory=engine_factory,
        on_event=on_event,
        on_plan=on_plan,
    )
    log.info(
        "rendering %s on %s", args.project, f"Ray ({args.ray})" if args.ray else "this machine"
    )
    shots = [s.strip() for s in args.shots.split(",") if s.strip()] if args.shots else None
    try:
        result = renderer.run(shots)
    finally:
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


def _log_plan(plan) -> None:
    r = plan.request
    log.info(
        "shot %s: %s through %s, %dx%d, %d frames at %s fps, seed %d, take %s",
        plan.shot.id,
        r.model_id,
        r.backend,
        r.width,
        r.height,
        r.frames,
        r.fps,
        r.seed,
        r.hash[:12],
    )


def _log_event(plan, event) -> None:
    if isinstance(event, Finished):
        log.info(
            "shot %s: take %s saved as %s", plan.shot.id, event.result.id[:12], event.result.media
        )
    elif isinstance(event, Failed) and event.detail:
        log.debug("shot %s failed:\n%s", plan.shot.id, event.detail)


class _UsageError(Exception):
    """A command line that parsed but means nothing (a size of "big", a .mov for GIF)."""


def _parse_size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) < 2 or int(h) < 2:
        raise _UsageError(f"--size must look like 1280x720, not {text!r}")
    return int(w), int(h)


def _parse_fps(text: str) -> Fraction:
    from engine.export.presets import MAX_EXPORT_FPS, MIN_EXPORT_FPS

    try:
        fps = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise _UsageError(
            f"--fps must be a number such as 24 or 24000/1001, not {text!r}"
        ) from None
    # Checked as typed, before any rounding: 0.0001 must not read as 0.
    if not MIN_EXPORT_FPS <= fps <= MAX_EXPORT_FPS:
        raise _UsageError(
            f"--fps must be between {MIN_EXPORT_FPS} and {MAX_EXPORT_FPS} frames a second, "
            f"not {text}"
        )
    # 23.976 and 29.97 mean the NTSC rates, exactly.
    return fps if "/" in text else fps.limit_denominator(1001)


def _check_destinations(args: argparse.Namespace, preset: ExportPreset, output: Path) -> None:
    """Everything about where the film and the edit go that can be known before any work:
    a bad `-o` or `--otio` is reported at once, not after the film is written."""
    from engine.export.interchange import edit_format
    from engine.export.presets import destination_problem, output_problem

    png = preset is ExportPreset.PNG
    problem = destination_problem(output, args.project, folder_output=png)
    if problem:
        raise _UsageError(problem)
    problem = output_problem(preset, output)
    if problem:
        raise _UsageError(problem)
    if args.otio is not None:
        try:
            edit_format(args.otio)
        except StudioError as exc:
            raise _UsageError(f"--otio: {exc}") from None
        problem = destination_problem(args.otio, args.project)
        if problem:
            raise _UsageError(f"--otio: {problem}")


def _cmd_export(args: argparse.Namespace) -> int:
    from types import SimpleNamespace

    from engine.export.job import ExportJob, export_request
    from engine.export.presets import with_default_suffix
    from engine.render.reporter import ProgressPrinter

    preset = ExportPreset(args.preset)
    output = with_default_suffix(preset, args.output)
    _check_destinations(args, preset, output)
    size = _parse_size(args.size) if args.size else (None, None)
    fps = _parse_fps(args.fps) if args.fps else None
    if args.crf is not None:
        top = {ExportPreset.WEB: 51, ExportPreset.HEVC: 51, ExportPreset.WEBM: 63}.get(preset)
        if top is None:
            raise _UsageError(f"--crf does not apply to the {preset.value} preset")
        if not 0 <= args.crf <= top:
            raise _UsageError(f"--crf must be between 0 and {top} for {preset.value}")
    project = load_project(args.project)
    if args.otio is not None:
        from engine.export.interchange import check_edit

        check_edit(project, args.otio)  # the edit's own limits, known before the film
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
    log.info("exporting %s to %s (%s)", args.project, output, preset.value)
    printer = ProgressPrinter(sys.stderr, quiet=args.verbosity < 0)
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
        from engine.export.interchange import write_edit

        edit = write_edit(project, args.project, args.otio)
        print(f"{edit}: the edit")
    return EXIT_OK


def _cmd_plan(args: argparse.Namespace) -> int:
    from engine.script_import import plan_project

    project = plan_project(args.script, args.output, model_id=args.model)
    chars = ", ".join(printable(c.name) for c in project.characters) or "none"
    seconds = float(project.timeline.duration_seconds)
    print(f"{args.output}: {len(project.shots)} shots, {seconds:.1f}s, characters: {chars}")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    print(f"{args.project}: valid ({len(project.shots)} shots, title {project.title!r})")
    return EXIT_OK


def _fps_json(fps: Fraction) -> int | float:
    """24 stays 24; 24000/1001 reads as 23.976..."""
    return fps.numerator if fps.denominator == 1 else float(fps)


def _request_summary(request) -> dict[str, Any]:
    return {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "model": request.model_id,
        "backend": request.backend,
        "profile": request.profile.value,
        "width": request.width,
        "height": request.height,
        "frames": request.frames,
        "fps": _fps_json(request.fps),
        "seed": request.seed,
        "camera_mode": request.camera_mode.value,
        "camera": describe(request.camera, float(request.duration_seconds)),
        "steps": request.steps,
        "guidance": request.guidance,
        "strength": request.strength,
        "keyframe": request.keyframe_hash,
        "continues_from_take": request.continuity_source,
        "colour_match": request.colour_match,
    }


def info_document(project, folder: Path) -> dict[str, Any]:
    """What `gallop info --json` prints: the project, its shots with their takes, and the
    timeline. Every key is always present (null when it has no value)."""
    from engine.render.planning import shot_status
    from studio.timeline.items import Clip, audio_track_to_dict, item_to_dict

    folder = Path(folder)
    shots = []
    for shot in project.shots:
        takes = [
            {
                "id": take.id,
                "seed": take.request.seed,
                "media": take.media,
                "path": str((folder / take.media).absolute()),
                "created": take.created,
                "selected": take.id == shot.selected_take,
                "request": _request_summary(take.request),
            }
            for take in shot.takes
        ]
        shots.append(
            {
                "id": shot.id,
                "title": shot.title,
                "prompt": shot.prompt,
                "duration": shot.duration,
                "frames": shot.frames,
                "fps": _fps_json(shot.fps),
                "width": shot.width,
                "height": shot.height,
                "model": shot.model_id,
                "seed": shot.seed,
                "camera": describe(shot.camera, shot.duration),
                "camera_mode": shot.camera_mode.value,
                "continue_from_previous": shot.continue_from_previous,
                "status": shot_status(project, folder, shot),
                "selected_take": shot.selected_take,
                "takes": takes,
            }
        )
    timeline = project.timeline
    items = []
    for item, start in zip(timeline.items, timeline.starts(), strict=True):
        entry = {**item_to_dict(item), "start": start}
        if isinstance(item, Clip):
            entry.setdefault("match_colour", False)
        items.append(entry)
    return {
        "version": INFO_JSON_VERSION,
        "project": {
            "title": project.title,
            "path": str(folder.absolute()),
            "width": project.width,
            "height": project.height,
            "fps": _fps_json(project.fps),
            "default_model": project.default_model,
            "characters": [c.name for c in project.characters],
        },
        "shots": shots,
        "timeline": {
            "fps": _fps_json(timeline.fps),
            "frames": timeline.duration,
            "seconds": float(timeline.duration_seconds),
            "clips": len(timeline.clips()),
            "items": items,
            "audio_tracks": [audio_track_to_dict(track) for track in timeline.audio_tracks],
        },
    }


def printable(text: str) -> str:
    """`text` with its control characters (escape sequences, carriage returns, line
    breaks) written as Python writes them in a string, `\\x1b` say, so that a title or
    a prompt from a project cannot move the cursor, recolour or retitle the terminal."""
    return "".join(
        repr(char)[1:-1] if unicodedata.category(char) in _CONTROL else char for char in text
    )


# Controls, and the line and paragraph separators some terminals break lines at.
_CONTROL = {"Cc", "Zl", "Zp"}


def _cmd_info(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    if args.json:
        document = info_document(project, args.project)
        print(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))
        return EXIT_OK
    fps = float(project.fps)
    print(f"{printable(project.title)} - {project.width}x{project.height} @ {fps:g} fps")
    from engine.render.planning import shot_status

    for i, shot in enumerate(project.shots, 1):
        status = shot_status(project, args.project, shot)
        move = describe(shot.camera, shot.duration)
        name = printable(shot.title or shot.id)
        print(f"{i:2}. {name}  {shot.duration:g}s  {move}  [{status}]")
    seconds = float(project.timeline.duration_seconds)
    print(f"timeline: {len(project.timeline.clips())} clips, {seconds:.2f}s")
    return EXIT_OK


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
            return EXIT_OK if exc.code in (0, None) else EXIT_USAGE
    if args.command == WINDOW:
        print("gallop: the studio window opens from the `gallop` command", file=sys.stderr)
        return EXIT_USAGE
    from engine.logs import configure_logging

    configure_logging("cli", verbosity=args.verbosity, stream=_Stderr())
    log.debug("gallop-studio %s: %s", version(), args)
    from engine.models.commands import cmd_models

    commands: dict[str, Handler] = {
        "validate": _cmd_validate,
        "info": _cmd_info,
        "render": _cmd_render,
        "models": cmd_models,
        "plan": _cmd_plan,
        "export": _cmd_export,
    }
    commands.update(handlers or {})
    handler = commands.get(args.command)
    if handler is None:  # a subcommand of the ui layer, run without it
        where = "the `gallop` command" if args.command in UI_SUBCOMMANDS else "no handler"
        print(f"gallop {args.command}: runs through {where}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return handler(args)
    except _UsageError as exc:
        print(f"gallop {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ProjectLockedError as exc:  # a valid project, open elsewhere: not "invalid"
        print(f"gallop: in use: {exc}", file=sys.stderr)
        return EXIT_IN_USE
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
    except OSError as exc:
        print(f"gallop {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    return run_subcommand(list(sys.argv[1:] if argv is None else argv))
