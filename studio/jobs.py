"""The job protocol: frozen requests with a content hash, and the events the engine emits.

A request holds everything needed to reproduce a take or an export. Its canonical JSON
(sorted keys, no whitespace, no NaN) is hashed with SHA-256; that hash is the take's id
and the take store's cache key, so the same request never renders twice.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from fractions import Fraction
from typing import Any

from studio.camera.rig import CameraRig, rig_from_dict, rig_to_dict
from studio.ids import new_id
from studio.project import validate as v
from studio.timeline.timeline import Timeline, timeline_from_dict, timeline_to_dict

# Bumped when the meaning of a request changes, so old cache keys stop matching.
REQUEST_VERSION = 1


class CameraMode(StrEnum):
    """How the camera rig reaches the model."""

    PROMPT = "prompt"  # camera language appended to the prompt
    GUIDED = "guided"  # the previz is the structure video of a video-to-video render
    KEYFRAME = "keyframe"  # image-to-video from the keyframe, with camera language


class Profile(StrEnum):
    QUALITY = "quality"
    FAST = "fast"
    LOWVRAM = "lowvram"
    # A quick look before the final: the model's draft recipe from the catalog (a
    # step-distillation LoRA or the distilled model's first stage), a few steps without
    # guidance, at a reduced size. `finalize` renders the same shot at quality.
    DRAFT = "draft"


class Quantization(StrEnum):
    """How a diffusion model's weights are stored while it renders, to fit a smaller GPU."""

    NONE = "none"
    INT8 = "int8"  # int8 weight-only (torchao): transformer and text encoder
    NF4 = "nf4"  # 4-bit NormalFloat (bitsandbytes, CUDA only): transformer and text encoder
    GGUF = "gguf"  # the transformer from the catalog's GGUF file (block-wise quantized)


class Priority(IntEnum):
    """Lower runs first: drafts and previz jump ahead of final renders."""

    DRAFT = 0
    FINAL = 1


class Stage(StrEnum):
    QUEUED = "queued"
    LOADING = "loading"
    ENCODING_PROMPT = "encoding prompt"
    DENOISING = "denoising"
    RENDERING = "rendering"
    DECODING = "decoding"
    WRITING = "writing"
    EXPORTING = "exporting"


def canonical_json(data: Any) -> str:
    """One spelling for one value: sorted keys, no spaces, UTF-8, finite numbers only."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def content_hash(data: Any) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def _norm_float(value: float) -> float:
    # -0.0 and 0.0 are the same request.
    return 0.0 if value == 0 else float(value)


class _Request:
    """A request named by what it asks for: its hash is that of its JSON form."""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def hash(self) -> str:
        return content_hash(self.to_dict())


def _expect_kind(d: dict[str, Any], path: str, kind: str) -> None:
    if v.get_str(d, "kind", path) != kind:
        raise v.ProjectError(f"{path}.kind", f"expected {kind!r}")


@dataclass(frozen=True)
class LoraWeight:
    """A LoRA in a request: the SHA-256 of its file and the scale it is applied at."""

    sha256: str
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.scale):
            raise ValueError(f"a LoRA's scale must be a finite number, not {self.scale!r}")
        object.__setattr__(self, "scale", _norm_float(self.scale))

    def to_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "scale": self.scale}

    @classmethod
    def from_dict(cls, data: Any, path: str) -> LoraWeight:
        d = v.expect_dict(data, path, ("sha256", "scale"))
        digest = v.get_str(d, "sha256", path)
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise v.ProjectError(f"{path}.sha256", "expected a 64-digit hexadecimal SHA-256")
        return cls(digest, v.get_float(d, "scale", path))


@dataclass(frozen=True)
class GenerationRequest(_Request):
    """Everything that determines a take's pixels."""

    prompt: str
    model_id: str
    width: int
    height: int
    frames: int
    fps: Fraction = Fraction(24)
    seed: int = 0
    negative_prompt: str = ""
    backend: str = "diffusers"
    profile: Profile = Profile.QUALITY
    camera: CameraRig = field(default_factory=CameraRig)
    camera_mode: CameraMode = CameraMode.PROMPT
    keyframe_hash: str | None = None
    # The shot's end keyframe, for a model that ends on a given frame.
    end_keyframe_hash: str | None = None
    reference_hashes: tuple[str, ...] = ()
    continuity_source: str | None = None
    steps: int | None = None
    guidance: float | None = None
    strength: float | None = None
    # Colour-match the frames to the continuity frame (a chained shot's join).
    colour_match: bool = False
    # The LoRAs the model renders with, in the order they are applied.
    loras: tuple[LoraWeight, ...] = ()
    # How the weights are stored while rendering (a smaller GPU); NONE: as published.
    quantization: Quantization = Quantization.NONE
    # Keyframes inside the clip, for a model that takes pictures at any frame: (frame, the
    # SHA-256 of the picture), in frame order.
    middle_keyframes: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"size must be positive, got {self.width}x{self.height}")
        if self.frames <= 0:
            raise ValueError(f"frames must be positive, got {self.frames}")
        if self.fps <= 0:
            raise ValueError(f"fps must be positive, got {self.fps}")

    @property
    def duration_seconds(self) -> Fraction:
        return Fraction(self.frames) / self.fps

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": REQUEST_VERSION,
            "kind": "generation",
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "model_id": self.model_id,
            "backend": self.backend,
            "profile": self.profile.value,
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "fps": v.fraction_to_json(self.fps),
            "seed": self.seed,
            "camera": rig_to_dict(self.camera),
            "camera_mode": self.camera_mode.value,
            "keyframe_hash": self.keyframe_hash,
            "reference_hashes": list(self.reference_hashes),
            "continuity_source": self.continuity_source,
            "steps": self.steps,
            "guidance": None if self.guidance is None else _norm_float(self.guidance),
            "strength": None if self.strength is None else _norm_float(self.strength),
            # Written only when on, so requests made before the option keep their hashes.
            **({"colour_match": True} if self.colour_match else {}),
            **({"end_keyframe_hash": self.end_keyframe_hash} if self.end_keyframe_hash else {}),
            **({"loras": [lora.to_dict() for lora in self.loras]} if self.loras else {}),
            **(
                {"middle_keyframes": [{"frame": f, "hash": h} for f, h in self.middle_keyframes]}
                if self.middle_keyframes
                else {}
            ),
            **(
                {"quantization": self.quantization.value}
                if self.quantization != Quantization.NONE
                else {}
            ),
        }

    def canonical_json(self) -> str:
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any, path: str = "$.request") -> GenerationRequest:
        keys = (
            "version kind prompt negative_prompt model_id backend profile width height frames "
            "fps seed camera camera_mode keyframe_hash end_keyframe_hash reference_hashes "
            "continuity_source "
            "steps guidance strength colour_match loras middle_keyframes quantization"
        ).split()
        d = v.expect_dict(data, path, keys)
        version = v.get_int(d, "version", path)
        if version != REQUEST_VERSION:
            raise v.ProjectError(f"{path}.version", f"unsupported request version {version}")
        _expect_kind(d, path, "generation")
        steps = d.get("steps")
        guidance = d.get("guidance")
        strength = d.get("strength")
        return cls(
            prompt=v.get_str(d, "prompt", path),
            negative_prompt=v.get_str(d, "negative_prompt", path, ""),
            model_id=v.get_str(d, "model_id", path, nonempty=True),
            backend=v.get_str(d, "backend", path, nonempty=True),
            profile=v.get_enum(d, "profile", path, Profile),
            width=v.get_int(d, "width", path, min_value=1, max_value=16384),
            height=v.get_int(d, "height", path, min_value=1, max_value=16384),
            frames=v.get_int(d, "frames", path, min_value=1, max_value=100_000),
            fps=v.get_fraction(d, "fps", path),
            seed=v.get_int(d, "seed", path, min_value=0, max_value=2**63 - 1),
            camera=rig_from_dict(d.get("camera", {}), f"{path}.camera"),
            camera_mode=v.get_enum(d, "camera_mode", path, CameraMode),
            keyframe_hash=v.get_optional_str(d, "keyframe_hash", path),
            end_keyframe_hash=v.get_optional_str(d, "end_keyframe_hash", path),
            reference_hashes=tuple(
                v.get_list_of(d, "reference_hashes", path, _read_str, default=())
            ),
            continuity_source=v.get_optional_str(d, "continuity_source", path),
            steps=None if steps is None else v.check_int(steps, f"{path}.steps", min_value=1),
            guidance=None if guidance is None else v.check_float(guidance, f"{path}.guidance"),
            strength=None
            if strength is None
            else v.check_float(strength, f"{path}.strength", min_value=0.0, max_value=1.0),
            colour_match=v.get_bool(d, "colour_match", path, False),
            loras=tuple(v.get_list_of(d, "loras", path, LoraWeight.from_dict, default=())),
            quantization=v.get_enum(d, "quantization", path, Quantization, Quantization.NONE),
            middle_keyframes=tuple(
                v.get_list_of(d, "middle_keyframes", path, _read_frame_hash, default=())
            ),
        )


def _read_frame_hash(value: Any, path: str) -> tuple[int, str]:
    d = v.expect_dict(value, path, ("frame", "hash"))
    return v.get_int(d, "frame", path, min_value=0, max_value=100_000), v.get_str(d, "hash", path)


def _read_str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise v.ProjectError(path, f"expected a string, found {v.type_name(value)}")
    return value


class ExportPreset(StrEnum):
    WEB = "web"
    HEVC = "hevc"
    PRORES = "prores"
    WEBM = "webm"
    GIF = "gif"
    PNG = "png"


@dataclass(frozen=True)
class ExportRequest(_Request):
    """A finished film from a timeline: the edit, the media it points at, the format."""

    timeline: Timeline
    output: str
    preset: ExportPreset = ExportPreset.WEB
    width: int = 1280
    height: int = 720
    fps: Fraction = Fraction(24)
    # take id -> media path of every take the timeline uses, so the request is complete.
    take_media: tuple[tuple[str, str], ...] = ()
    sample_rate: int = 48_000
    # Quality of the encoded pictures; None is the preset's default. Naming one also stops
    # smart render from adopting the takes' own encoder settings.
    crf: int | None = None
    # Copy the untouched pictures of takes that already match the export instead of
    # re-encoding them.
    smart_render: bool = True
    # The timeline frames to export, start..stop (exclusive): the in to out range. None
    # exports the whole edit.
    range: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.crf is not None and not 0 <= self.crf <= 63:
            raise ValueError(f"crf must be between 0 and 63, got {self.crf}")
        if self.range is not None:
            start, stop = self.range
            if not 0 <= start < stop:
                raise ValueError(
                    f"an export range runs forwards from frame 0 up, not {start}..{stop}"
                )
            object.__setattr__(self, "range", (int(start), int(stop)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": REQUEST_VERSION,
            "kind": "export",
            "timeline": timeline_to_dict(self.timeline),
            "output": self.output,
            "preset": self.preset.value,
            "width": self.width,
            "height": self.height,
            "fps": v.fraction_to_json(self.fps),
            "take_media": [list(pair) for pair in sorted(self.take_media)],
            "sample_rate": self.sample_rate,
            # Written only when set, so requests made before the options keep their hashes.
            **({"crf": self.crf} if self.crf is not None else {}),
            **({} if self.smart_render else {"smart_render": False}),
            **({"range": list(self.range)} if self.range is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: Any, path: str = "$.export") -> ExportRequest:
        keys = (
            "version kind timeline output preset width height fps take_media sample_rate "
            "crf smart_render range"
        )
        d = v.expect_dict(data, path, keys.split())
        _expect_kind(d, path, "export")

        def read_pair(item: Any, p: str) -> tuple[str, str]:
            pair = v.expect_list(item, p)
            if len(pair) != 2:
                raise v.ProjectError(p, "expected [take id, media path]")
            return _read_str(pair[0], f"{p}[0]"), _read_str(pair[1], f"{p}[1]")

        crf = d.get("crf")
        span = None
        if d.get("range") is not None:
            pair = v.expect_list(d["range"], f"{path}.range")
            if len(pair) != 2:
                raise v.ProjectError(
                    f"{path}.range", "expected [first frame, frame after the last]"
                )
            start = v.check_int(pair[0], f"{path}.range[0]", min_value=0)
            stop = v.check_int(pair[1], f"{path}.range[1]", min_value=start + 1)
            span = (start, stop)
        return cls(
            timeline=timeline_from_dict(d.get("timeline"), f"{path}.timeline"),
            output=v.get_str(d, "output", path, nonempty=True),
            preset=v.get_enum(d, "preset", path, ExportPreset),
            width=v.get_int(d, "width", path, min_value=2, max_value=16384),
            height=v.get_int(d, "height", path, min_value=2, max_value=16384),
            fps=v.get_fraction(d, "fps", path),
            take_media=tuple(v.get_list_of(d, "take_media", path, read_pair, default=())),
            sample_rate=v.get_int(d, "sample_rate", path, min_value=8000, max_value=192_000),
            crf=None if crf is None else v.check_int(crf, f"{path}.crf", min_value=0, max_value=63),
            smart_render=v.get_bool(d, "smart_render", path, True),
            range=span,
        )


def new_job_id() -> str:
    return new_id(length=12)


# --- Events -------------------------------------------------------------------------
# The engine emits these from its thread; the UI and the CLI each handle them in one place.


@dataclass(frozen=True)
class Event:
    job_id: str


@dataclass(frozen=True)
class Queued(Event):
    position: int = 0


@dataclass(frozen=True)
class Started(Event):
    description: str = ""


@dataclass(frozen=True)
class Progress(Event):
    step: int
    total: int
    stage: Stage
    eta_seconds: float | None = None
    message: str = ""

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, max(0.0, self.step / self.total))


@dataclass(frozen=True, eq=False)
class Preview(Event):
    """A cheap look at the work in progress: an RGB uint8 array of shape (h, w, 3)."""

    step: int
    image: Any


@dataclass(frozen=True)
class Partial(Event):
    """A finished part of a long job (an extension segment), playable on its own."""

    index: int
    count: int
    media: str


@dataclass(frozen=True)
class Finished(Event):
    """`result` is the take for a render and an `engine.export.job.ExportResult` for an export."""

    result: Any


@dataclass(frozen=True)
class Failed(Event):
    message: str
    detail: str = ""


@dataclass(frozen=True)
class Cancelled(Event):
    pass


TERMINAL_EVENTS = (Finished, Failed, Cancelled)
