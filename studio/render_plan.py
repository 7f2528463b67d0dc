"""From a shot to its render request, with no file read: pure.

The request snapshots everything that decides the pixels (prompt, seed, size snapped to the
model's grid, frames snapped to its frame rule, camera rig, the hashes of the keyframe and
references, the hashes and scales of the LoRAs, the upstream take of a chained shot), so
its hash is the cache key and a take is reproducible from its manifest. A shot longer than
one clip of its model keeps its exact frame count: it renders as overlapping segments
(`studio.segments`).

What the plan needs from the model catalog comes in as `ModelRules` (values), and what it
needs from files (image hashes, whether the upstream take can be read) comes from an
`InputResolver`, which the engine implements over the project folder. The same function
serves the render, the estimate and the shot's status, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from studio.camera.rig import with_camera_words
from studio.drafts import DraftRules, as_draft
from studio.errors import StudioError
from studio.jobs import CameraMode, GenerationRequest, LoraWeight, Profile, Quantization
from studio.project.loras import Lora, combine, effective_loras
from studio.project.model import Project, Shot, Take
from studio.segments import plan_segments


class PlanError(StudioError):
    """A shot that cannot be planned as it stands (a chained shot with no upstream take)."""


@dataclass(frozen=True)
class ModelRules:
    """What planning needs to know about a model: its grid, frame rule and defaults."""

    id: str
    name: str
    backend: str
    fps: Fraction  # native rate; the previz renders at the shot's own rate instead
    frame_multiple: int = 1  # frames obey multiple*n + 1 (1: any count)
    size_multiple: int = 8
    max_frames: int | None = None  # the longest clip; None: no limit
    steps: int | None = None
    guidance: float | None = None
    # The camera modes in which the model can continue a clip, so a long shot extends.
    extends: frozenset[CameraMode] = frozenset()
    # Whether the model can end on a given frame (a shot's end keyframe).
    last_frame: bool = False
    # Whose prompt guide's camera words the prompt ends with (`studio.camera.words`).
    family: str = ""
    # How the model drafts (`studio.drafts`); None: the draft is the quality render.
    draft: DraftRules | None = None
    # Whether the model takes pictures at any frame of the clip (keyframes inside a shot).
    middle_frames: bool = False
    # Whether the model takes reference images (those of the shot's characters too).
    reference_images: bool = False

    @property
    def frame_rule(self) -> str:
        return "any" if self.frame_multiple <= 1 else f"{self.frame_multiple}n+1"

    def snap_size(self, width: int, height: int) -> tuple[int, int]:
        """The nearest size (not below one block) the model's latent grid accepts."""
        m = self.size_multiple

        def snap(value: int) -> int:
            return max(m, int(round(value / m)) * m)

        return snap(width), snap(height)

    def snap_frames(self, frames: int) -> int:
        """The valid frame count nearest `frames` (ties go up), within `max_frames`."""
        return snap_frames(frames, self.frame_multiple, self.max_frames)


def snap_frames(frames: int, frame_multiple: int, max_frames: int | None) -> int:
    """The frame count nearest `frames` (ties go up) that a model whose clips have
    `frame_multiple` * n + 1 frames (1: any count), at most `max_frames`, accepts."""
    m = frame_multiple
    if m <= 1:
        count = max(1, frames)
    else:
        k = max(1, (frames - 1 + m // 2) // m)
        count = k * m + 1
        if max_frames is not None and count > max_frames:
            count = (max_frames - 1) // m * m + 1
    if max_frames is not None:
        count = min(count, max_frames)
    return count


class InputResolver(Protocol):
    """The files a plan refers to, seen as values. Each raises StudioError with a message
    for the user when the file cannot be used."""

    def file_hash(self, relative_path: str) -> str:
        """The SHA-256 of a project file (a keyframe or a reference image)."""
        ...

    def continuity_source(self, take: Take) -> str:
        """The id of the upstream take a chained shot continues from, once its media is
        known to be readable."""
        ...

    def lora_hash(self, file: str) -> str:
        """The SHA-256 of a LoRA file (`Lora.file`: in the project or the models folder),
        once it is known to be a safetensors file."""
        ...


@dataclass(frozen=True)
class RenderPlan:
    request: GenerationRequest
    keyframe: str | None = None  # project-relative: the shot's or a character's image
    continuity: Take | None = None  # the upstream take whose last frame starts the shot
    notes: tuple[str, ...] = ()  # adjustments the user should know about (snapped frames...)
    loras: tuple[Lora, ...] = ()  # the files of `request.loras`, in the same order
    end_keyframe: str | None = None  # project-relative: the picture the shot ends on
    # Keyframes inside the clip: (frame, project-relative picture), in frame order.
    middle: tuple[tuple[int, str], ...] = ()
    # The reference images of the request, project-relative, in its order.
    references: tuple[str, ...] = ()


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


def end_picture(project: Project, shot: Shot) -> str | None:
    """The picture the shot ends on: its end keyframe, or with `end_on_next` the start
    picture of the shot after it (its keyframe or its character's)."""
    if not shot.end_on_next:
        return shot.end_keyframe
    index = project.shot_index(shot.id)
    if index + 1 >= len(project.shots):
        return None
    after = project.shots[index + 1]
    return after.keyframe or character_keyframe(project, after)


def _end_notes(project: Project, shot: Shot, end: str | None) -> list[str]:
    """Why a shot that ends on the next shot's start picture has none to end on."""
    if not shot.end_on_next or end is not None:
        return []
    index = project.shot_index(shot.id)
    if index + 1 >= len(project.shots):
        return ["last shot: no next shot to end on"]
    after = project.shots[index + 1]
    return [f"the next shot {after.title or after.id!r} has no start picture to end on"]


def middle_keyframes(
    shot: Shot, rules: ModelRules, frames: int, fps: Fraction, end: str | None, notes: list[str]
) -> tuple[tuple[int, str], ...]:
    """The shot's keyframes inside the clip as (frame, picture), for a model that takes
    pictures at any frame; what is left out, and why, goes to `notes`."""
    if not shot.keyframes:
        return ()
    if not rules.middle_frames:
        ends = " and an end" if rules.last_frame else ""
        notes.append(
            f"keyframes inside the shot not used: {rules.name} takes only a start{ends} picture"
        )
        return ()
    placed: dict[int, str] = {}
    for key in shot.keyframes:
        frame = round(key.time * fps)
        at = f"keyframe at {key.time:g} s"
        if frame >= frames:
            notes.append(f"{at} not used: the shot ends at {float(frames / fps):g} s")
        elif frame == 0:
            notes.append(f"{at} not used: it is the first frame (make it the start picture)")
        elif frame == frames - 1 and end is not None:
            notes.append(f"{at} not used: the end picture is shown at that frame")
        elif frame in placed:
            notes.append(f"{at} not used: another keyframe is at frame {frame}")
        else:
            placed[frame] = key.image
    return tuple(sorted(placed.items()))


def upstream_take(project: Project, shot: Shot) -> Take | None:
    """The take a chained shot continues from (None for an unchained or first shot).
    Raises PlanError when the shot it continues from has no take yet."""
    if not shot.continue_from_previous:
        return None
    index = project.shot_index(shot.id)
    if index == 0:
        return None
    upstream = project.shots[index - 1]
    take = upstream.current_take
    if take is None:
        raise PlanError(
            f"shot {shot.title or shot.id!r} continues from "
            f"{upstream.title or upstream.id!r}, which has no take yet"
        )
    return take


def _length(shot: Shot, rules: ModelRules, notes: list[str]) -> tuple[int, Fraction]:
    """The frame count and rate the model of `rules` renders `shot` at; what the user
    should know about them goes to `notes`."""
    # Diffusion models render at their native rate; the timeline conforms it later.
    fps = shot.fps if rules.backend == "previz" else rules.fps
    wanted = max(1, round(shot.duration * fps))
    limit = rules.max_frames
    if limit is not None and wanted > limit and shot.camera_mode in rules.extends:
        # Exactly the shot's length: the overlaps between segments absorb the frame rule.
        frames = wanted
        count = len(plan_segments(wanted, limit, rules.frame_multiple))
        notes.append(
            f"{wanted} frames: longer than one {rules.name} clip ({limit} frames), "
            f"rendered as {count} overlapping segments"
        )
    else:
        frames = rules.snap_frames(wanted)
        if frames != wanted:
            notes.append(f"{wanted} frames -> {frames} ({rules.frame_rule} rule of {rules.name})")
        if limit is not None and wanted > limit:
            notes.append(f"{rules.name} cannot continue a clip, so the shot stops at {frames}")
    return frames, fps


def _with_camera(prompt: str, shot: Shot, rules: ModelRules, frames: int, fps: Fraction) -> str:
    if rules.backend == "previz":
        return prompt
    seconds = float(Fraction(frames) / fps)
    return with_camera_words(prompt, shot.camera, seconds, rules.family or None)


def model_prompt(project: Project, shot: Shot, rules: ModelRules) -> str:
    """What the model of `rules` reads for `shot`, the prompt of its request: the bible
    prompt and, for a diffusion model, the camera move in the words of its family's prompt
    guide (`studio.camera.words`). The previz draws the rig and reads no camera words."""
    frames, fps = _length(shot, rules, [])
    return _with_camera(bible_prompt(project, shot), shot, rules, frames, fps)


def plan_shot(
    project: Project,
    shot: Shot,
    rules: ModelRules,
    files: InputResolver,
    profile: Profile | None = None,
    extra_loras: Sequence[Lora] = (),
    quantization: Quantization | None = None,
) -> RenderPlan:
    """The request that rendering `shot` with the model of `rules` makes now;
    `extra_loras` join the shot's own (a render's command line adds them to every shot);
    `profile` and `quantization` replace the shot's own when given. A draft follows the
    model's draft recipe (`studio.drafts.as_draft`)."""
    notes: list[str] = []
    width, height = rules.snap_size(shot.width, shot.height)
    if (width, height) != (shot.width, shot.height):
        notes.append(f"size {shot.width}x{shot.height} -> {width}x{height} for {rules.name}")
    frames, fps = _length(shot, rules, notes)

    keyframe = shot.keyframe or character_keyframe(project, shot)
    keyframe_hash = files.file_hash(keyframe) if keyframe else None
    references = tuple(shot.references)
    if rules.reference_images:  # the shot's characters' pictures from the bible too
        for char_id in shot.characters:
            character = project.character(char_id)
            references += tuple(character.references) if character is not None else ()
        references = tuple(dict.fromkeys(references))
    reference_hashes = tuple(files.file_hash(r) for r in references)
    wanted_end = end_picture(project, shot)
    notes.extend(_end_notes(project, shot, wanted_end))
    end_keyframe = wanted_end if rules.last_frame else None
    if wanted_end and not rules.last_frame:
        notes.append(f"end keyframe not used: {rules.name} cannot end on a given frame")
    end_keyframe_hash = files.file_hash(end_keyframe) if end_keyframe else None
    middle = middle_keyframes(shot, rules, frames, fps, end_keyframe, notes)
    middle_hashes = tuple((frame, files.file_hash(image)) for frame, image in middle)

    if shot.continue_from_previous and project.shot_index(shot.id) == 0:
        notes.append("first shot: nothing to continue from")
    take = upstream_take(project, shot)
    continuity_source = None if take is None else files.continuity_source(take)

    loras = combine(effective_loras(project, shot), extra_loras)
    if rules.backend == "previz" and loras:
        notes.append("LoRAs left out: the previz draws the camera rig, not a diffusion model")
        loras = ()
    lora_weights = tuple(LoraWeight(files.lora_hash(lora.file), lora.scale) for lora in loras)

    request = GenerationRequest(
        prompt=_with_camera(bible_prompt(project, shot), shot, rules, frames, fps),
        negative_prompt=shot.negative_prompt,
        model_id=rules.id,
        backend=rules.backend,
        profile=profile or shot.profile,
        width=width,
        height=height,
        frames=frames,
        fps=fps,
        seed=shot.seed,
        camera=shot.camera,
        camera_mode=shot.camera_mode,
        keyframe_hash=keyframe_hash,
        end_keyframe_hash=end_keyframe_hash,
        reference_hashes=reference_hashes,
        continuity_source=continuity_source,
        steps=None if rules.backend == "previz" else rules.steps,
        guidance=rules.guidance,
        colour_match=continuity_source is not None and shot.match_colour,
        loras=lora_weights,
        quantization=Quantization.NONE
        if rules.backend == "previz"
        else (quantization or shot.quantization),
        middle_keyframes=middle_hashes,
    )
    if request.profile == Profile.DRAFT and rules.draft is not None:
        request, loras, said = as_draft(request, rules.draft, rules.size_multiple, files, loras)
        notes.extend(said)
    return RenderPlan(
        request,
        keyframe,
        take,
        tuple(notes),
        loras,
        end_keyframe=end_keyframe,
        middle=middle,
        references=references,
    )


# What a difference in each field of a request means to the user, in the order said.
_CHANGE_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("continuity_source",), "upstream shot changed"),
    (("prompt",), "prompt changed since the take"),
    (("negative_prompt",), "negative prompt changed since the take"),
    (("seed",), "seed differs"),
    (("model_id", "backend"), "model differs"),
    (("profile",), "profile differs"),
    (("width", "height"), "size differs"),
    (("frames", "fps"), "length differs"),
    (("camera",), "camera move changed"),
    (("camera_mode",), "camera mode changed"),
    (("keyframe_hash",), "keyframe changed"),
    (("end_keyframe_hash",), "end keyframe changed"),
    (("middle_keyframes",), "keyframes inside the shot changed"),
    (("reference_hashes",), "reference images changed"),
    (("loras",), "LoRAs changed"),
    (("colour_match",), "colour matching changed"),
    (("loras",), "LoRAs changed"),
    (("steps", "guidance", "strength"), "model settings changed"),
)


def request_changes(take: GenerationRequest, planned: GenerationRequest) -> tuple[str, ...]:
    """Why a take is not what rendering its shot now gives, in words: one phrase for each
    kind of difference between the take's request and the planned one ("seed differs
    (take 1001, shot 1000)"); empty when they are the same request."""
    old, new = take.to_dict(), planned.to_dict()
    differing = {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
    said: list[str] = []
    for keys, words in _CHANGE_WORDS:
        if differing.isdisjoint(keys):
            continue
        differing.difference_update(keys)
        if keys == ("seed",):
            words += f" (take {take.seed}, shot {planned.seed})"
        elif keys == ("width", "height"):
            words += f" (take {take.width}x{take.height}, now {planned.width}x{planned.height})"
        elif keys == ("model_id", "backend") and take.model_id != planned.model_id:
            words += f" (take {take.model_id}, now {planned.model_id})"
        elif keys == ("frames", "fps") and take.frames != planned.frames:
            words += f" (take {take.frames} frames, now {planned.frames})"
        said.append(words)
    if differing:  # a field named nowhere above: a newer request format
        said.append("render settings changed")
    return tuple(said)
