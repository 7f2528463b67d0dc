"""LoRAs: small weight files that adapt a diffusion model to a look, a character or a move.

A shot, a style and a character of the bible each list LoRAs, each a file and a scale
(1.0 applies it as trained, 0 not at all; negative scales push away from it). A file is
either in the project (a project-relative path, by default under `media/loras/`, where the
window copies the files it is given) or in the models folder (`models:` and a path
relative to that folder, for LoRAs shared by every project). Only safetensors files are
used: the name must end in `.safetensors` and the file must begin with a safetensors
header, since any other format (a pickle checkpoint) can run code when loaded.

A shot's effective LoRAs are its style's, then its characters' (in the shot's order),
then its own; a file listed twice keeps its first place and takes the scale of its last,
most specific entry, so a shot can turn its style's LoRA down or off (scale 0).
"""

from __future__ import annotations

import json
import math
import os
import stat
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.errors import ProjectError, StudioError
from studio.project import validate as v

SUFFIX = ".safetensors"
LORA_FOLDER = "media/loras"  # where the window copies the LoRA files it is given
MODELS_PREFIX = "models:"  # a file in the models folder, shared by every project
MIN_SCALE, MAX_SCALE = -10.0, 10.0
# safetensors refuses headers over 100 MB; a LoRA's is a few kilobytes.
MAX_HEADER_BYTES = 100_000_000


@dataclass(frozen=True)
class Lora:
    """A LoRA as the project lists it: its `file` (project-relative, or `models:` and a
    path in the models folder) and the `scale` it is applied at."""

    file: str
    scale: float = 1.0

    def __post_init__(self) -> None:
        scale = float(self.scale)
        if not math.isfinite(scale):
            raise ValueError(f"a LoRA's scale must be a finite number, not {self.scale!r}")
        object.__setattr__(self, "scale", 0.0 if scale == 0 else scale)

    @property
    def name(self) -> str:
        """The file's name, without its folder: what a list shows."""
        return self.file.removeprefix(MODELS_PREFIX).rsplit("/", 1)[-1].rsplit(os.sep, 1)[-1]

    @property
    def in_models_folder(self) -> bool:
        return self.file.startswith(MODELS_PREFIX)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "scale": self.scale}

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Lora:
        d = v.expect_dict(data, path, ("file", "scale"))
        file = v.get_str(d, "file", path)
        problem = lora_file_problem(file)
        if problem is not None:
            raise ProjectError(f"{path}.file", problem)
        scale = v.get_float(d, "scale", path, 1.0, min_value=MIN_SCALE, max_value=MAX_SCALE)
        return cls(file, scale)


def lora_file_problem(file: object) -> str | None:
    """Why `file` cannot name a LoRA of a project, or None: a project-relative path or
    `models:` and a path in the models folder, of a `.safetensors` file."""
    if not isinstance(file, str):
        return f"expected a path string, found {v.type_name(file)}"
    relative = file.removeprefix(MODELS_PREFIX)
    problem = v.relative_path_problem(relative)
    if problem is not None and file != relative:
        return problem.replace("the project folder", "the models folder")
    if problem is not None:
        return problem
    if not relative.lower().endswith(SUFFIX):
        return f"a LoRA must be a safetensors file ({SUFFIX}), not {v.quote(relative)}"
    return None


def loras_to_json(loras: Iterable[Lora]) -> list[dict[str, Any]]:
    return [lora.to_dict() for lora in loras]


def read_loras(data: dict[str, Any], key: str, path: str) -> tuple[Lora, ...]:
    """The LoRAs at `key` of an object read from JSON; none when the key is absent."""
    return tuple(v.get_list_of(data, key, path, Lora.from_dict, default=()))


def combine(*lists: Iterable[Lora]) -> tuple[Lora, ...]:
    """The LoRAs of several lists in order, a file listed again keeping its first place
    and taking its last scale."""
    scales: dict[str, float] = {}
    for lora in (lora for group in lists for lora in group):
        scales[lora.file] = lora.scale
    return tuple(Lora(file, scale) for file, scale in scales.items())


def effective_loras(project: Any, shot: Any) -> tuple[Lora, ...]:
    """What a shot renders with: its style's LoRAs, its characters', then its own."""
    style = project.style(shot.style)
    lists = [style.loras] if style is not None else []
    for char_id in shot.characters:
        character = project.character(char_id)
        if character is not None:
            lists.append(character.loras)
    lists.append(shot.loras)
    return combine(*lists)


def check_lora_file(path: str | os.PathLike[str]) -> None:
    """Refuse a file that is not a safetensors file: a name that does not end in
    `.safetensors`, or content that does not begin with a safetensors header (8 bytes of
    header length, then a JSON object of the tensors). Raises StudioError naming the file."""
    path = Path(path)
    name = path.name
    if not name.lower().endswith(SUFFIX):
        raise StudioError(
            f"{name} is not a LoRA this studio loads: only safetensors files ({SUFFIX}) are "
            "used, since other formats can run code when loaded"
        )
    try:
        # O_NONBLOCK: a FIFO in the file's place cannot block the open.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise StudioError(f"{name} cannot be used as a LoRA: it is not a regular file")
            size = os.fstat(handle.fileno()).st_size
            head = handle.read(8)
            length = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
            if not 2 <= length <= min(MAX_HEADER_BYTES, size - 8):
                raise _not_safetensors(name)
            header = json.loads(handle.read(length).decode("utf-8"))
    except StudioError:
        raise
    except FileNotFoundError:
        raise StudioError(f"the LoRA {name} is missing") from None
    except OSError as exc:
        raise StudioError(f"cannot read the LoRA {name}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError):
        raise _not_safetensors(name) from None
    if not isinstance(header, dict) or not any(k != "__metadata__" for k in header):
        raise _not_safetensors(name)


def _not_safetensors(name: str) -> StudioError:
    return StudioError(
        f"{name} is not a safetensors file (its header is not one); only safetensors "
        "LoRAs are loaded"
    )
