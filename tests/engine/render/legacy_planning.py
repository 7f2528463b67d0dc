"""From a shot to a render: the frozen request and the input files it refers to by hash.

The request snapshots everything that decides the pixels (prompt, seed, size snapped to the
model's grid, frames snapped to its frame rule, camera rig, the hashes of the keyframe and
references, the upstream take of a chained shot), so its hash is the cache key and a take
is reproducible from its manifest. A shot longer than one clip of its model keeps its exact
frame count: it renders as overlapping segments (engine.render.extend).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from engine.backends.base import RenderError, RenderInputs
from engine.models.catalog import Catalog, ModelEntry
from engine.render.extend import can_extend, plan_segments
from studio.errors import StudioError
from studio.jobs import GenerationRequest, Profile
from studio.project.io import check_inside
from studio.project.model import Project, Shot


def regular_file(path: Path) -> Path:
    """`path` if it is (or a symlink leads to) a regular file, else RenderError.

    A project names its keyframes, references and takes, and the project may be damaged
    or hostile: reading a FIFO blocks forever and a device such as /dev/zero never ends,
    so only regular files are ever read.
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError) as exc:
        raise RenderError(f"cannot read {Path(path).name}: {_reason(exc)}") from None
    if not stat.S_ISREG(mode):
        raise RenderError(f"cannot read {Path(path).name}: not a regular file")
    return path


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    regular_file(path)
    try:
        # O_NONBLOCK: a FIFO put in the file's place after the check cannot block the open.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise RenderError(f"cannot read {path.name}: not a regular file")
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise RenderError(f"cannot read {path.name}: {_reason(exc)}") from None
    return digest.hexdigest()


@dataclass(frozen=True)
class PlannedRender:
    shot: Shot
    request: GenerationRequest
    inputs: RenderInputs
    entry: ModelEntry
    notes: tuple[str, ...] = ()  # adjustments the user should know about (snapped frames...)


def bible_prompt(project: Project, shot: Shot) -> str:
    """The shot's prompt with its style and characters from the bible, said in words."""
    parts = [shot.prompt.strip().rstrip(".")] if shot.prompt.strip() else []
    for char_id in shot.characters:
        character = project.character(char_id)
        if character is not None and character.description:
            parts.append(f"{character.name}: {character.description}")
    style = project.style(shot.style)
    if style is not None and style.description:
        parts.append(f"style: {style.description}")
    return ". ".join(parts)


def character_keyframe(project: Project, shot: Shot) -> str | None:
    """A character's reference image starts a shot that has no keyframe and no upstream."""
    if shot.continue_from_previous and project.shot_index(shot.id) > 0:
        return None
    for char_id in shot.characters:
        character = project.character(char_id)
        if character is not None and character.references:
            return character.references[0]
    return None


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
    limit = entry.max_frames
    if limit is not None and wanted > limit and can_extend(entry, shot.camera_mode):
        # Exactly the shot's length: the overlaps between segments absorb the frame rule.
        frames = wanted
        count = len(plan_segments(wanted, limit, entry.frame_multiple))
        notes.append(
            f"{wanted} frames: longer than one {entry.name} clip ({limit} frames), "
            f"rendered as {count} overlapping segments"
        )
    else:
        frames = entry.snap_frames(wanted)
        if frames != wanted:
            notes.append(f"{wanted} frames -> {frames} ({entry.frame_rule} rule of {entry.name})")
        if limit is not None and wanted > limit:
            notes.append(f"{entry.name} cannot continue a clip, so the shot stops at {frames}")

    inputs = RenderInputs()
    keyframe_hash = None
    keyframe = shot.keyframe or character_keyframe(project, shot)
    if keyframe:
        path = check_inside(folder, keyframe)
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
            from engine.media.video import last_frame

            continuity_source = take.id
            inputs.continuity = last_frame(regular_file(check_inside(folder, take.media)))

    request = GenerationRequest(
        prompt=bible_prompt(project, shot),
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
        colour_match=continuity_source is not None and shot.match_colour,
    )
    return PlannedRender(shot, request, inputs, entry, tuple(notes))


def shot_status(project: Project, folder: Path, shot: Shot) -> str:
    """'rendered', 'not rendered', or 'stale' when the shot (or its upstream) changed since
    its selected take was made."""
    if shot.current_take is None:
        return "not rendered"
    # A chained shot is out of date as soon as any shot it continues from is. The chain is
    # walked in a loop, not by recursion: a project may chain more shots than Python nests
    # calls. Checking from its first shot stops at the first one out of date.
    chain = [project.shot_index(shot.id)]
    while chain[-1] > 0 and project.shots[chain[-1]].continue_from_previous:
        if project.shots[chain[-1] - 1].current_take is None:
            return "stale"
        chain.append(chain[-1] - 1)
    for index in reversed(chain):
        if not _take_is_current(project, folder, project.shots[index]):
            return "stale"
    return "rendered"


def _take_is_current(project: Project, folder: Path, shot: Shot) -> bool:
    """Whether the shot's selected take is what rendering the shot now would give."""
    take = shot.current_take
    if take is None:
        return False
    try:
        plan = plan_render(
            project, folder, shot, backend=take.request.backend, model_id=take.request.model_id
        )
    except StudioError:
        return False
    return plan.request.hash == take.id
