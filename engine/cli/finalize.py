"""`gallop finalize`: the final of every draft, at the quality profile, linked to its draft."""

from __future__ import annotations

import argparse
import sys

from engine.cli.parser import Exit


def cmd_finalize(args: argparse.Namespace) -> int:
    from engine.cli.render import _log_event, _log_plan, run_shots
    from engine.render.batch import FinalizeRenderer
    from engine.render.reporter import ProgressPrinter

    printer = ProgressPrinter(sys.stderr, quiet=args.verbosity < 0)

    def on_plan(index: int, count: int, plan) -> None:
        _log_plan(plan)
        printer.plan(index, count, plan)

    def on_event(plan, event) -> None:
        _log_event(plan, event)
        printer.event(plan, event)

    renderer = FinalizeRenderer(args.project, on_event=on_event, on_plan=on_plan)
    result = run_shots(renderer, args.shots, printer, "not finalized")
    finals = len(result.rendered) + len(result.up_to_date)
    if not finals and not result.failed and not result.cancelled:
        print("nothing to finalize: no shot's take is a draft")
    else:
        print(
            f"{finals} finalized ({len(result.up_to_date)} already rendered), "
            f"{len(result.failed)} failed, {len(result.cancelled)} cancelled"
        )
    if result.interrupted:
        return Exit.INTERRUPTED
    return Exit.OK if result.ok else Exit.FAILED
