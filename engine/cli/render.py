"""`gallop render`: a project's shots rendered headlessly, here or on a Ray cluster, with
the progress on standard error and a summary on standard output."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from engine.cli.parser import Exit
from studio.jobs import Failed, Finished, Profile, Quantization
from studio.project.model import Take

log = logging.getLogger("engine.cli")


def cmd_render(args: argparse.Namespace) -> int:
    from engine.render.batch import BatchRenderer
    from engine.render.reporter import ProgressPrinter

    printer = ProgressPrinter(sys.stderr, quiet=args.verbosity < 0)
    engine_factory = None
    if args.ray:
        from engine.render.farm import farm_engine_factory

        engine_factory = farm_engine_factory(args.ray, shared_takes=args.shared_takes)

    candidates: dict[str, list[str]] = {}  # shot id -> the takes this render made or found

    def on_plan(index: int, count: int, plan) -> None:
        _log_plan(plan)
        printer.plan(index, count, plan)
        candidates.setdefault(plan.shot.id, []).append(plan.request.hash)

    def on_event(plan, event) -> None:
        _log_event(plan, event)
        printer.event(plan, event)

    renderer = BatchRenderer(
        args.project,
        backend=args.backend,
        model_id=args.model,
        profile=Profile(args.profile) if args.profile else None,
        quantization=Quantization(args.quantization) if args.quantization else None,
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
    result = run_shots(renderer, args.shots, printer, "failed")
    summary = (
        f"{len(result.rendered)} rendered, {len(result.up_to_date)} up to date, "
        f"{len(result.failed)} failed, {len(result.cancelled)} cancelled"
    )
    print(summary)
    if result.interrupted:
        return Exit.INTERRUPTED
    if args.pick == "camera":
        for shot_id, take in pick_best_cameras(args.project, candidates):
            adherence = take.adherence
            assert adherence is not None
            print(f"shot {shot_id}: picked seed {take.request.seed}, {adherence.summary()}")
    return Exit.OK if result.ok else Exit.FAILED


def run_shots(renderer, shots: str | None, printer, failed: str):
    """Run `renderer` over the shots `--shots` names (every shot when None), close the
    progress printer however it ends, and say on stderr why each failed shot `failed`."""
    names = [s.strip() for s in shots.split(",") if s.strip()] if shots else None
    try:
        result = renderer.run(names)
    finally:
        printer.close()
    for shot_id, message in result.failed.items():
        print(f"gallop: shot {shot_id} {failed}: {message}", file=sys.stderr)
    return result


def pick_best_cameras(folder: Path, candidates: dict[str, list[str]]) -> list[tuple[str, Take]]:
    """Each shot of `candidates` (shot id -> take ids) picks, of those of its takes, the one
    whose camera scored best (`studio.camera.adherence.best_scoring`) and adopts its seed
    (`studio.commands.pick_take`), saved as one change of the project on disk. Returns the
    shots and the takes they picked; a shot none of whose takes was measured is left
    alone."""
    from studio.camera.adherence import best_scoring
    from studio.commands import apply, pick_take
    from studio.project.io import update_project

    picked: list[tuple[str, Take]] = []

    def pick(project) -> bool:
        picked.clear()
        changed = False
        for shot_id, take_ids in candidates.items():
            shot = project.shot(shot_id)
            if shot is None:
                continue
            best = best_scoring(t for t in map(shot.take, dict.fromkeys(take_ids)) if t)
            if best is None:
                log.info("shot %s: no take of this render has a camera score", shot_id)
                continue
            command = pick_take(shot, best.id)
            if command is not None:
                apply(command)
                changed = True
            picked.append((shot_id, best))
        return changed

    if candidates:
        update_project(folder, pick)
    return picked


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
