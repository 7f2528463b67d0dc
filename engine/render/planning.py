"""From a shot to a render: the engine's side of `studio.render_plan`.

The pure planner (`studio.render_plan.plan_shot`) makes the frozen request; this module
gives it the model's rules from the catalog and the project's files through `ProjectFiles`
(image hashes, cached while a file is unchanged), and for a render also reads the inputs
themselves (the upstream take's last frame). The estimate and the shot's status plan with
`plan_shot`, the render with `plan_render`: one function decides the request for all three,
so a take made by the render is the one the status calls rendered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypedDict, Unpack

from engine.backends.base import RenderError, RenderInputs
from engine.models.catalog import Catalog, ModelEntry
from engine.models.recipes import check_draft_files
from engine.render.inputs import FileHashes, ProjectFiles, file_hash, model_rules, regular_file
from studio import render_plan
from studio.drafts import check_draft, draft_matches, final_request
from studio.errors import StudioError
from studio.jobs import GenerationRequest, Profile, Quantization
from studio.project.loras import Lora
from studio.project.model import Project, Shot, Take
from studio.render_plan import bible_prompt, character_keyframe

__all__ = [
    "PlannedRender",
    "PlannedShot",
    "StatusCache",
    "bible_prompt",
    "character_keyframe",
    "choose_model",
    "file_hash",
    "plan_finalize",
    "plan_render",
    "plan_shot",
    "regular_file",
    "shot_status",
]


@dataclass(frozen=True)
class PlannedShot:
    """A shot's request and where its inputs are, read no further than their hashes."""

    shot: Shot
    request: GenerationRequest
    entry: ModelEntry
    notes: tuple[str, ...] = ()  # adjustments the user should know about (snapped frames...)
    keyframe: Path | None = None
    references: tuple[Path, ...] = ()
    continuity: Take | None = None  # the upstream take whose last frame starts the shot
    end_keyframe: Path | None = None  # the picture the shot ends on
    loras: tuple[Path, ...] = ()  # the files of `request.loras`, in the same order
    middle: tuple[tuple[int, Path], ...] = ()  # keyframes inside the clip: (frame, picture)


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


class PlanOptions(TypedDict, total=False):
    """How a shot is planned: the catalog, a backend or model named by the user (else the
    shot's own), the profile and the quantization (else the shot's own), the project's
    files read once for a whole batch, and LoRAs added to the shot's own (`gallop render
    --lora`)."""

    catalog: Catalog | None
    backend: str | None
    model_id: str | None
    profile: Profile | None
    files: ProjectFiles | None
    loras: Sequence[Lora]
    quantization: Quantization | None


def plan_shot(
    project: Project,
    folder: Path,
    shot: Shot,
    *,
    catalog: Catalog | None = None,
    backend: str | None = None,
    model_id: str | None = None,
    profile: Profile | None = None,
    files: ProjectFiles | None = None,
    loras: Sequence[Lora] = (),
    quantization: Quantization | None = None,
) -> PlannedShot:
    """The request rendering `shot` makes now, for the estimate and the status. Raises
    StudioError (RenderError, ProjectError) with a message when it cannot be planned."""
    catalog = catalog or Catalog()
    entry = catalog.get(choose_model(shot, backend, model_id, catalog))
    files = files if files is not None else ProjectFiles(folder)
    if (profile or shot.profile) == Profile.DRAFT:
        check_draft_files(entry)  # the draft recipe's LoRA must be here
    try:
        plan = render_plan.plan_shot(
            project,
            shot,
            model_rules(entry),
            files,
            profile,
            extra_loras=loras,
            quantization=quantization,
        )
    except render_plan.PlanError as exc:
        raise RenderError(str(exc)) from None
    return PlannedShot(
        shot,
        plan.request,
        entry,
        plan.notes,
        keyframe=files.path(plan.keyframe) if plan.keyframe else None,
        references=tuple(files.path(r) for r in plan.references),
        continuity=plan.continuity,
        loras=tuple(files.lora_path(lora.file) for lora in plan.loras),
        end_keyframe=files.path(plan.end_keyframe) if plan.end_keyframe else None,
        middle=tuple((frame, files.path(image)) for frame, image in plan.middle),
    )


def plan_render(
    project: Project, folder: Path, shot: Shot, **options: Unpack[PlanOptions]
) -> PlannedRender:
    """The request and its inputs, read for the render (the upstream take's last frame)."""
    files = options.get("files") or ProjectFiles(folder)
    planned = plan_shot(project, folder, shot, **{**options, "files": files})
    inputs = RenderInputs()
    inputs.keyframe = planned.keyframe
    inputs.references = planned.references
    inputs.last_frame = planned.end_keyframe
    inputs.loras = planned.loras
    inputs.middle = tuple(path for _, path in planned.middle)
    inputs.middle_frames = tuple(frame for frame, _ in planned.middle)
    if planned.continuity is not None:
        from engine.media.video import last_frame

        inputs.continuity = last_frame(regular_file(files.path(planned.continuity.media)))
    return PlannedRender(shot, planned.request, inputs, planned.entry, planned.notes)


def plan_finalize(
    project: Project, folder: Path, shot: Shot, draft_id: str, **options: Unpack[PlanOptions]
) -> PlannedRender:
    """The final of the shot's draft take `draft_id`: the shot planned with the quality
    profile and the draft's seed, model and quantization, so it shows what the draft did
    (the same prompt, camera and keyframes). Refused (`studio.drafts.FinalizeError`) when
    the take is not a draft or the shot changed since it was drafted."""
    draft = check_draft(shot, draft_id)
    made = draft.request
    same = {
        **options,
        "backend": made.backend,
        "model_id": made.model_id,
        "quantization": made.quantization,
    }
    as_drafted = replace(shot, seed=made.seed)
    again = plan_shot(project, folder, as_drafted, **{**same, "profile": Profile.DRAFT})
    draft_matches(draft, again.request, render_plan.request_changes(made, again.request))
    final = plan_render(project, folder, as_drafted, **{**same, "profile": Profile.QUALITY})
    final_request(made, final.request)
    return final


# --- the status of shots ------------------------------------------------------------------


class StatusCache:
    """Shots' render status, each planned once until `invalidate` names it.

    A shot is 'rendered' when planning it now gives its selected take's request (the same
    hash), 'stale' when not, or when a shot it continues from is not 'rendered', and 'not
    rendered' without a take. What each shot's own check found is kept by shot id, along
    with the takes it saw (its own and its upstream's), so a shot whose upstream picks
    another take is checked again by itself; the status of a chained shot follows from its
    upstream's. Whoever edits the project calls `invalidate` with the shots an edit touched
    (the shots chained after them follow), or with None after a change of the order, the
    bible or the project's settings.
    """

    def __init__(self, catalog: Catalog | None = None, hashes: FileHashes | None = None) -> None:
        self.catalog = catalog or Catalog()
        self.hashes = hashes if hashes is not None else FileHashes()
        self._project: Project | None = None
        self._files: ProjectFiles | None = None
        self._rows: dict[str, int] = {}
        # shot id -> (its take is current, (its take, its upstream's take) when checked)
        self._current: dict[str, tuple[bool, tuple]] = {}
        self._status: dict[str, str] = {}

    def files(self, folder: Path) -> ProjectFiles:
        """The project's files as this cache sees them (its hashes shared)."""
        if self._files is None or self._files.folder != Path(folder):
            self.invalidate()
            self._files = ProjectFiles(folder, self.hashes)
        return self._files

    def invalidate(self, shot_ids=None) -> None:
        """Forget the status of these shots, of the shots chained after them and of a shot
        that ends on one's start picture (of every shot with None)."""
        if shot_ids is None:
            self._current.clear()
            self._status.clear()
            return
        project = self._project
        for shot_id in shot_ids:
            self._current.pop(shot_id, None)
            self._status.pop(shot_id, None)
            if project is None:
                continue
            row = self._row(project, shot_id)
            if row and project.shots[row - 1].end_on_next:  # it ends on this one's picture
                self._current.pop(project.shots[row - 1].id, None)
                self._status.pop(project.shots[row - 1].id, None)
            while row is not None and row + 1 < len(project.shots):
                row += 1
                if not project.shots[row].continue_from_previous:
                    break
                self._status.pop(project.shots[row].id, None)

    def status(self, project: Project, folder: Path, shot: Shot) -> str:
        files = self.files(folder)
        if project is not self._project:
            self.invalidate()
            self._project = project
        known = self._status.get(shot.id)
        if known is not None:
            return known
        row = self._row(project, shot.id)
        if row is None:
            raise KeyError(shot.id)
        # The chain is walked in a loop, not by recursion: a project may chain more shots
        # than Python nests calls. Upstream first, down to the first status already known.
        pending = []
        while True:
            current = project.shots[row]
            if current.id in self._status:
                break
            pending.append(row)
            if row == 0 or not current.continue_from_previous or current.current_take is None:
                break
            row -= 1
        for row in reversed(pending):
            current = project.shots[row]
            self._status[current.id] = self._own_status(project, files, row, current)
        return self._status[shot.id]

    def reasons(self, project: Project, folder: Path, shot: Shot) -> tuple[str, ...]:
        """Why the shot is 'stale', in words ("seed differs (take 1001, shot 1000)",
        "upstream shot 'The ship' changed"); empty when it is not stale. Each call plans
        the shot afresh: for a tooltip, not for every card painted."""
        if self.status(project, folder, shot) != "stale":
            return ()
        take = shot.current_take
        said: list[str] = []
        upstream_changed = "upstream shot changed"
        row = self._row(project, shot.id)
        if shot.continue_from_previous and row:
            upstream = project.shots[row - 1]
            name = upstream.title or upstream.id
            upstream_changed = f"upstream shot {name!r} changed"
            if upstream.current_take is None:
                return (f"upstream shot {name!r} has no take",)
            elif self.status(project, folder, upstream) != "rendered":
                said.append(upstream_changed)
        try:
            plan = plan_shot(
                project,
                folder,
                shot,
                catalog=self.catalog,
                backend=take.request.backend,
                model_id=take.request.model_id,
                files=self.files(folder),
            )
        except StudioError as exc:
            return (*said, str(exc))
        for words in render_plan.request_changes(take.request, plan.request):
            said.append(upstream_changed if words == "upstream shot changed" else words)
        return tuple(dict.fromkeys(said))

    def _own_status(self, project: Project, files: ProjectFiles, row: int, shot: Shot) -> str:
        take = shot.current_take
        if take is None:
            return "not rendered"
        upstream = None
        if shot.continue_from_previous and row > 0:
            upstream = project.shots[row - 1]
            if upstream.current_take is None or self._status[upstream.id] != "rendered":
                return "stale"
        seen = (take.id, None if upstream is None else (upstream.id, upstream.selected_take))
        known = self._current.get(shot.id)
        if known is None or known[1] != seen:
            known = (self._take_is_current(project, files, shot, take), seen)
            self._current[shot.id] = known
        return "rendered" if known[0] else "stale"

    def _take_is_current(self, project: Project, files: ProjectFiles, shot: Shot, take) -> bool:
        """Whether the shot's selected take is what rendering the shot now would give."""
        try:
            plan = plan_shot(
                project,
                files.folder,
                shot,
                catalog=self.catalog,
                backend=take.request.backend,
                model_id=take.request.model_id,
                files=files,
            )
        except StudioError:
            return False
        return plan.request.hash == take.id

    def _row(self, project: Project, shot_id: str) -> int | None:
        row = self._rows.get(shot_id)
        shots = project.shots
        if row is None or row >= len(shots) or shots[row].id != shot_id:
            self._rows = {s.id: i for i, s in enumerate(shots)}
            row = self._rows.get(shot_id)
        return row


def shot_status(project: Project, folder: Path, shot: Shot) -> str:
    """'rendered', 'not rendered', or 'stale' when the shot (or its upstream) changed since
    its selected take was made."""
    return StatusCache().status(project, folder, shot)
