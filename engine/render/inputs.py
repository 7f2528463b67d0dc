"""The files a render plan refers to: read only if they are regular files, hashed once.

`ProjectFiles` is the engine's `studio.render_plan.InputResolver` over a project folder:
it hashes keyframes, references and LoRAs (through a `FileHashes` cache keyed by path, size
and modification time, so an unchanged file is read once however often shots are planned),
refuses a LoRA that is not a safetensors file, and checks that the upstream take of a
chained shot can be read. `model_rules` turns a catalog entry into the values the pure
planner needs.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from pathlib import Path

from engine.backends.base import RenderError
from engine.backends.pipeline_calls import FRAME_CONDITIONED, VACE
from engine.models.catalog import ModelEntry
from engine.models.recipes import draft_rules
from engine.models.settings import models_folder
from engine.render.extend import can_extend
from studio.errors import StudioError
from studio.jobs import CameraMode
from studio.project.io import check_inside
from studio.project.loras import MODELS_PREFIX, check_lora_file
from studio.project.model import Take
from studio.render_plan import ModelRules


def regular_file(path: Path) -> Path:
    """`path` if it is (or a symlink leads to) a regular file, else RenderError.

    A project names its keyframes, references and takes, and the project may be damaged
    or hostile: reading a FIFO blocks forever and a device such as /dev/zero never ends,
    so only regular files are ever read.
    """
    regular_stat(path)
    return path


def regular_stat(path: Path) -> os.stat_result:
    """The stat of `path` (following symlinks) if it is a regular file, else RenderError."""
    try:
        info = os.stat(path)
    except (OSError, ValueError) as exc:
        raise RenderError(f"cannot read {Path(path).name}: {_reason(exc)}") from None
    if not stat.S_ISREG(info.st_mode):
        raise RenderError(f"cannot read {Path(path).name}: not a regular file")
    return info


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


class FileHashes:
    """SHA-256 of files, remembered while a file keeps its size and modification time.

    Safe to share between threads. A file that changes between the stat and the read is
    hashed again on the next look, since its new stat no longer matches the key."""

    def __init__(self) -> None:
        self._known: dict[tuple[Path, int, int], str] = {}
        self._lock = threading.Lock()
        self.reads = 0  # files actually read, for the curious and the tests

    def hash(self, path: Path) -> str:
        info = regular_stat(path)
        key = (Path(path), info.st_size, info.st_mtime_ns)
        with self._lock:
            known = self._known.get(key)
        if known is not None:
            return known
        digest = file_hash(path)
        with self._lock:
            self.reads += 1
            # One entry a path: an older version of the file is never asked for again.
            for stale in [k for k in self._known if k[0] == key[0]]:
                del self._known[stale]
            self._known[key] = digest
        return digest

    def clear(self) -> None:
        with self._lock:
            self._known.clear()


class ProjectFiles:
    """The input files of a project folder as a planner sees them; also remembers where
    they are, for the render."""

    def __init__(self, folder: Path, hashes: FileHashes | None = None) -> None:
        self.folder = Path(folder)
        self.hashes = hashes if hashes is not None else FileHashes()
        self._safetensors: set[str] = set()  # hashes of LoRA files whose header was checked

    def path(self, relative: str) -> Path:
        return check_inside(self.folder, relative)

    def file_hash(self, relative_path: str) -> str:
        return self.hashes.hash(self.path(relative_path))

    def lora_path(self, file: str) -> Path:
        """Where a LoRA is: `models:NAME` in the models folder, an absolute path (a file
        named on the command line) as it is, any other in the project."""
        if file.startswith(MODELS_PREFIX):
            folder = models_folder()
            try:
                return check_inside(folder, file.removeprefix(MODELS_PREFIX))
            except StudioError:
                raise RenderError(f"the LoRA {file} points outside the models folder") from None
        if Path(file).is_absolute():
            return Path(file)
        return self.path(file)

    def lora_hash(self, file: str) -> str:
        path = self.lora_path(file)
        if not path.exists():
            if file.startswith(MODELS_PREFIX):
                raise RenderError(f"the LoRA {file} is not in the models folder {models_folder()}")
            raise RenderError(f"the LoRA {file} is missing")
        digest = self.hashes.hash(path)
        if digest not in self._safetensors:
            check_lora_file(path)
            self._safetensors.add(digest)
        return digest

    def continuity_source(self, take: Take) -> str:
        regular_file(self.path(take.media))
        return take.id


def model_rules(entry: ModelEntry) -> ModelRules:
    """What the planner needs of a catalog entry, as values. The previz shows every picture
    of a shot (dissolving from one to the next); a diffusion model takes pictures inside
    the clip when each of its pipelines does (VACE, LTX-Video's condition pipeline), and
    reference images when it is VACE."""
    previz = entry.backend == "previz"
    classes = set(entry.pipelines.values())
    return ModelRules(
        id=entry.id,
        name=entry.name,
        backend=entry.backend,
        fps=entry.fps,
        frame_multiple=entry.frame_multiple,
        size_multiple=entry.size_multiple,
        max_frames=entry.max_frames,
        steps=entry.steps,
        guidance=entry.guidance,
        extends=frozenset(mode for mode in CameraMode if can_extend(entry, mode)),
        last_frame=entry.last_frame or previz,
        family=entry.family,
        draft=draft_rules(entry),
        middle_frames=previz or bool(classes) and classes <= set(FRAME_CONDITIONED),
        reference_images=VACE in classes,
    )
