"""`gallop render`: a project's shots rendered headlessly, here or on a Ray cluster, with
the progress on standard error and a summary on standard output."""

from __future__ import annotations

import argparse
import logging
import sys

from engine.cli.parser import Exit
from studio.jobs import Failed, Finished, Profile

log = logging.getLogger("engine.cli")


def cmd_render(args: argparse.Namespace) -> int:
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
        loras=tuple(args.lora),
        engine_factory=engine_factory,
        on_event=on_event,
        on_plan=on_plan,
    )
    log.info(
        "rendering %s on %s", args.project, f"Ray ({args.ray})" if args.ray else "this machine"
    )
    for lora in args.lora:
        log.info("every shot with the LoRA %s at %g", lora.file, lora.scale)
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
        return Exit.INTERRUPTED
    return Exit.OK if result.ok else Exit.FAILED


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
