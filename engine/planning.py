"""From a shot to a render: the frozen request and the input files it refers to by hash.

The request snapshots everything that decides the pixels (prompt, seed, size snapped to the
model's grid, frames snapped to its frame rule, camera rig, the hashes of the keyframe and
references, the upstream take of a chained shot), so its hash is the cache key and a take
is reproducible from its manifest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from engine.backends.base import RenderError, RenderInputs
from engine.models.catalog import Catalog, ModelEntry
from studio.jobs import GenerationRequest, Profile
from studio.model import Project, Shot
from studio.project_io import check_inside


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise RenderError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    return digest.hexdigest()


@dataclass(frozen=True)
class PlannedRender:
    shot: Shot
    request: GenerationRequest
    inputs: RenderInputs
    entry: ModelEntry
    notes: tuple[str, ...] = ()  # adjustments the user should know about (snapped frames...)


def choose_model(shot: Shot, backend: str | None, model_id: str | None, catalog: Catalog) -> str:
    if model_id:
        return model_id
    if backend == "previz":
        return "previz"
    chosen = shot.model_id
    if backend == "diffusers" and catalog.get(chosen).backend != "diffusers":
        raise RenderError(
            f"shot {shot.title or shot.id!r} uses {chosen!r}; name a diffusion model with --model"
        )
    return chosen


def plan_render(
    project: Project,
    folder: Path,
    shot: Shot,
    *,
    catalog: Catalog | None = None,
    backend: str | None = None,
    model_id: str | None = None,
    profile: Profile | None = None,
) -> PlannedRender:
    catalog = catalog or Catalog()
    entry = catalog.get(choose_model(shot, backend, model_id, catalog))
    notes: list[str] = []
    width, height = entry.snap_size(shot.width, shot.height)
    if (width, height) != (shot.width, shot.height):
        notes.append(f"size {shot.width}x{shot.height} -> {width}x{height} for {entry.name}")
    # Diffusion models render at their native rate; the timeline conforms it later.
    fps = shot.fps if entry.backend == "previz" else entry.fps
    wanted = max(1, round(shot.duration * fps))
    frames = entry.snap_frames(wanted)
    if frames != wanted:
        notes.append(f"{wanted} frames -> {frames} ({entry.frame_rule} rule of {entry.name})")

    inputs = RenderInputs()
    keyframe_hash = None
    if shot.keyframe:
        path = check_inside(folder, shot.keyframe)
        keyframe_hash = file_hash(path)
        inputs.keyframe = path
    references = tuple(check_inside(folder, r) for r in shot.references)
    inputs.references = references

    continuity_source = None
    if shot.continue_from_previous:
        index = project.shot_index(shot.id)
        if index == 0:
            notes.append("first shot: nothing to continue from")
        else:
            upstream = project.shots[index - 1]
            take = upstream.current_take
            if take is None:
                raise RenderError(
                    f"shot {shot.title or shot.id!r} continues from "
                    f"{upstream.title or upstream.id!r}, which has no take yet"
                )
            from engine.media import last_frame

            continuity_source = take.id
            inputs.continuity = last_frame(check_inside(folder, take.media))

    request = GenerationRequest(
        prompt=shot.prompt,
        negative_prompt=shot.negative_prompt,
        model_id=entry.id,
        backend=entry.backend,
        profile=profile or shot.profile,
        width=width,
        height=height,
        frames=frames,
        fps=fps,
        seed=shot.seed,
        camera=shot.camera,
        camera_mode=shot.camera_mode,
        keyframe_hash=keyframe_hash,
        reference_hashes=tuple(file_hash(p) for p in references),
        continuity_source=continuity_source,
        steps=None if entry.backend == "previz" else entry.steps,
        guidance=entry.guidance,
    )
    return PlannedRender(shot, request, inputs, entry, tuple(notes))
