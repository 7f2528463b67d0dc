"""`gallop info`: a project's shots, camera moves and status as text, or the project, its
shots, takes and timeline as one JSON document (`--json`, version INFO_JSON_VERSION)."""

from __future__ import annotations

import argparse
import json
import unicodedata
from fractions import Fraction
from pathlib import Path
from typing import Any

from engine.cli.parser import Exit
from studio.camera.rig import describe
from studio.project.io import load_project
from studio.project.loras import effective_loras

INFO_JSON_VERSION = 1


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
        "loras": [lora.to_dict() for lora in request.loras],
    }


def info_document(project, folder: Path) -> dict[str, Any]:
    """What `gallop info --json` prints: the project, its shots with their takes, and the
    timeline. Every key is always present (null when it has no value)."""
    from engine.render.planning import StatusCache
    from studio.timeline.items import Clip, audio_track_to_dict, item_to_dict

    folder = Path(folder)
    statuses = StatusCache()  # one for all shots: a chained shot's upstream is planned once
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
                # Measured by the engine on the take's frames (null for takes from before):
                # the camera against the rig (`expected` holds the rig's values), and for
                # a chained take the CIEDE2000 colour jump from the take it continues.
                "adherence": take.adherence.to_dict() if take.adherence is not None else None,
                "colour_jump": take.colour_jump,
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
                # Its style's, its characters' and its own, as the shot renders with them.
                "loras": [lora.to_dict() for lora in effective_loras(project, shot)],
                "status": statuses.status(project, folder, shot),
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


def cmd_info(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    if args.json:
        document = info_document(project, args.project)
        print(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))
        return Exit.OK
    fps = float(project.fps)
    print(f"{printable(project.title)} - {project.width}x{project.height} @ {fps:g} fps")
    from engine.render.planning import StatusCache

    statuses = StatusCache()  # one for all shots: a chained shot's upstream is planned once
    for i, shot in enumerate(project.shots, 1):
        status = statuses.status(project, args.project, shot)
        move = describe(shot.camera, shot.duration)
        name = printable(shot.title or shot.id)
        print(f"{i:2}. {name}  {shot.duration:g}s  {move}  [{status}]")
    seconds = float(project.timeline.duration_seconds)
    print(f"timeline: {len(project.timeline.clips())} clips, {seconds:.2f}s")
    return Exit.OK
