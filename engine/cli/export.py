"""`gallop export`: the edited film written to a video file (or a folder of frames), and
the edit to an interchange file; every mistake in the destination or the options is
reported before any work."""

from __future__ import annotations

import argparse
import logging
import sys
from fractions import Fraction
from pathlib import Path

from engine.cli.parser import Exit, UsageError
from studio.errors import StudioError
from studio.jobs import ExportPreset
from studio.project.io import load_project

log = logging.getLogger("engine.cli")


def _parse_size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) < 2 or int(h) < 2:
        raise UsageError(f"--size must look like 1280x720, not {text!r}")
    return int(w), int(h)


def _parse_fps(text: str) -> Fraction:
    from engine.export.presets import MAX_EXPORT_FPS, MIN_EXPORT_FPS

    try:
        fps = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"--fps must be a number such as 24 or 24000/1001, not {text!r}") from None
    # Checked as typed, before any rounding: 0.0001 must not read as 0.
    if not MIN_EXPORT_FPS <= fps <= MAX_EXPORT_FPS:
        raise UsageError(
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
        raise UsageError(problem)
    problem = output_problem(preset, output)
    if problem:
        raise UsageError(problem)
    if args.otio is not None:
        try:
            edit_format(args.otio)
        except StudioError as exc:
            raise UsageError(f"--otio: {exc}") from None
        problem = destination_problem(args.otio, args.project)
        if problem:
            raise UsageError(f"--otio: {problem}")


def cmd_export(args: argparse.Namespace) -> int:
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
            raise UsageError(f"--crf does not apply to the {preset.value} preset")
        if not 0 <= args.crf <= top:
            raise UsageError(f"--crf must be between 0 and {top} for {preset.value}")
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
        return Exit.INTERRUPTED
    job.wait()
    printer.close()
    result = job.result
    if result is None:
        print(f"gallop: export failed: {job.error or 'cancelled'}", file=sys.stderr)
        return Exit.FAILED
    copied = f", {result.copied_frames} copied from the takes" if result.copied_frames else ""
    print(f"{result.path}: {result.frames} frames, {result.seconds:.2f}s{copied}")
    if args.otio:
        from engine.export.interchange import write_edit

        edit = write_edit(project, args.project, args.otio)
        print(f"{edit}: the edit")
    return Exit.OK
