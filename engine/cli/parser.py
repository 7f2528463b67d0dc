"""The `gallop` command line: one argparse tree for the studio window and the headless
subcommands. Never imports Qt: the subcommands run on servers and in scripts.

`gallop [PROJECT] [--new] [--screenshot PNG]` opens the window (the `open` subcommand, which
the first argument selects unless it names another subcommand; see `parse_command_line`);
every other subcommand runs headless (`engine.cli.run.run_subcommand`), each in its own
module of this package. The ui layer runs the window and provides the handlers of the
subcommands that belong to it (`install-desktop`).

Exit codes: 0 success, 1 the work failed (a message says why), 2 bad usage,
3 an invalid or unreadable project, 4 the project is in use (open in another Gallop
Studio or being rendered), 130 interrupted by Ctrl+C.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Callable
from enum import IntEnum
from pathlib import Path
from typing import Any

from studio.errors import StudioError
from studio.jobs import ExportPreset, Profile, Quantization
from studio.project.loras import MAX_SCALE, MIN_SCALE, Lora, check_lora_file


class Exit(IntEnum):
    """What `gallop` exits with."""

    OK = 0
    FAILED = 1
    USAGE = 2
    PROJECT = 3
    IN_USE = 4  # the project is open in another Gallop Studio or `gallop render`
    INTERRUPTED = 130


WINDOW = "open"  # the subcommand of the studio window
SUBCOMMANDS = (
    "validate",
    "info",
    "render",
    "finalize",
    "models",
    "plan",
    "export",
    "install-desktop",
)
UI_SUBCOMMANDS = ("install-desktop",)  # handled by the ui layer (see `run_subcommand`)

Handler = Callable[[argparse.Namespace], int]

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


def lora_argument(text: str) -> Lora:
    """`--lora FILE[:SCALE]`: a safetensors file anywhere on disk, at SCALE (default 1)."""
    file, scale = text, 1.0
    head, colon, tail = text.rpartition(":")
    if colon and head:
        try:
            file, scale = head, float(tail)
        except ValueError:
            file, scale = text, 1.0  # a colon of the name itself
    if not MIN_SCALE <= scale <= MAX_SCALE:  # NaN too
        raise argparse.ArgumentTypeError(
            f"{text!r}: the scale must be between {MIN_SCALE:g} and {MAX_SCALE:g}"
        )
    path = Path(file).expanduser()
    try:
        check_lora_file(path)
    except StudioError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return Lora(str(path.resolve()), scale)


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
    render.add_argument(
        "--profile",
        choices=[p.value for p in Profile],
        help="quality, fast, lowvram, or draft: a quick look at a reduced size with the "
        "model's draft recipe, to finalize later (default: each shot's own)",
    )
    render.add_argument(
        "--quantization",
        choices=[q.value for q in Quantization],
        help="store the weights as int8 (torchao), nf4 (bitsandbytes, CUDA only) or load the "
        "catalog's GGUF transformer, to fit a smaller GPU (default: each shot's own)",
    )
    render.add_argument(
        "--variations", type=int, default=1, metavar="N", help="N takes per shot, seeds in a row"
    )
    render.add_argument(
        "--pick",
        choices=["camera"],
        help="camera: each shot keeps the take (of those this render made or found) whose "
        "camera followed its rig best, and adopts its seed",
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
    render.add_argument(
        "--lora",
        action="append",
        type=lora_argument,
        default=[],
        metavar="FILE[:SCALE]",
        help="render every shot with this LoRA (a .safetensors file) as well, at SCALE "
        "(default 1); repeat for several",
    )
    finalize = command(
        "finalize", "render the final of each draft: quality profile, the draft's seed"
    )
    _project_argument(finalize)
    finalize.add_argument(
        "--shots",
        help="comma-separated shot ids (default: every shot whose picked take is a draft)",
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


class UsageError(Exception):
    """A command line that parsed but means nothing (a size of "big", a .mov for GIF)."""
