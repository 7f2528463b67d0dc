"""The model catalog: every model the studio knows, where it lives and what it can do.

Entries come from `catalog.json` beside this file (data, not code): family, Hugging Face
repository or bundled folder, default size/fps/frames, the frame-count rule (4n+1, 8n+1),
a VRAM estimate and the licence. `locate` finds a model on disk (a bundled folder or the
Hugging Face cache) without touching the network unless a download was asked for.

A model published only as one single-file checkpoint in its original key layout (LTX-Video
0.9.8 2B; `checkpoint`: the file, its repository and the components it holds) takes its
other components (text encoder, tokenizer, scheduler) from the entry's diffusers `repo`;
it lives in a folder of its own, named after the file (`engine.models.installed`).

The tiny random-weight test models are in the catalog too, but a model list offers them only
when asked (`Catalog.offered`): the studio's "Show test models" preference, or
`GALLOP_SHOW_TEST_MODELS=1` (`=0` hides them) whatever the preference says.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

from engine.assets import assets_dir
from engine.backends.base import Capabilities, RenderError

CATALOG_FILE = Path(__file__).with_name("catalog.json")
SHOW_TEST_MODELS = "GALLOP_SHOW_TEST_MODELS"  # 1 or 0: overrides the preference (CI, scripts)
# A JSON file in catalog.json's form whose models join the catalog (or replace those of
# the same id): models of your own, or the test server's models.
EXTRA_CATALOG = "GALLOP_CATALOG"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


@dataclass(frozen=True)
class ModelEntry:
    id: str
    name: str
    family: str
    backend: str
    repo: str | None
    path: str | None  # relative to assets/ for bundled models
    pipelines: dict[str, str] = field(hash=False)
    width: int
    height: int
    fps: Fraction
    frames: int
    frame_multiple: int
    size_multiple: int
    max_frames: int | None
    steps: int
    guidance: float | None
    vram_gb: float | None  # None: its authors published no figure
    licence: str
    accept_licence: bool
    test: bool
    # Another catalog model serving a mode this one lacks (its image-to-video sibling).
    companions: dict[str, str] = field(default_factory=dict, hash=False)
    # Whether its image-to-video (or condition) pipeline can also end on a given frame.
    last_frame: bool = False
    # Pipeline settings from the model card that every render passes (when the pipeline takes
    # them): the second expert's guidance of Wan 2.2 A14B and the timestep where it takes
    # over, the distilled timesteps and decode noise of LTX-Video, the window and overlap of
    # diffusion forcing...
    call: dict[str, Any] = field(default_factory=dict, hash=False)
    # An optional second stage: a latent upsampler (its repository or bundled folder and the
    # subfolder of its weights) and the settings of the refining pass after it.
    upsampler: dict[str, Any] | None = field(default=None, hash=False)
    # The repository's revision a download fetches: a commit where one is pinned.
    revision: str = "main"
    # How it drafts (`engine.models.recipes`): a step-distillation LoRA or its own distilled
    # first stage, the steps, guidance and share of the area; None: fewer steps.
    draft: dict[str, Any] | None = field(default=None, hash=False)
    # A GGUF file of its transformer (repository, file, quantization type, size) for the
    # `gguf` quantization; None where none was found published.
    gguf: dict[str, Any] | None = field(default=None, hash=False)
    # A single-file checkpoint holding some of its components (`Checkpoint`); None: every
    # component is in the diffusers layout of `repo` or `path`.
    checkpoint: dict[str, Any] | None = field(default=None, hash=False)

    @property
    def single_file(self) -> Checkpoint | None:
        return Checkpoint.of(self.checkpoint) if self.checkpoint else None

    @property
    def card_repo(self) -> str | None:
        """The repository whose model card (and licence) describe the model: its
        single-file checkpoint's, else its own."""
        single = self.single_file
        return single.repo if single is not None and single.repo else self.repo

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            text_to_video="t2v" in self.pipelines,
            image_to_video="i2v" in self.pipelines,
            video_to_video="v2v" in self.pipelines,
            frame_multiple=self.frame_multiple,
            max_frames=self.max_frames,
        )

    @property
    def vram_text(self) -> str:
        """The GPU memory its authors publish, in words."""
        if self.vram_gb is None:
            return "GPU memory not published"
        return "no GPU needed" if self.vram_gb == 0 else f"about {self.vram_gb:g} GB VRAM"

    @property
    def frame_rule(self) -> str:
        return "any" if self.frame_multiple <= 1 else f"{self.frame_multiple}n+1"

    def snap_frames(self, frames: int) -> int:
        return self.capabilities.snap_frames(frames)

    def snap_size(self, width: int, height: int) -> tuple[int, int]:
        """The nearest size (not below one block) the model's latent grid accepts."""
        m = self.size_multiple

        def snap(value: int) -> int:
            return max(m, int(round(value / m)) * m)

        return snap(width), snap(height)


@dataclass(frozen=True)
class Checkpoint:
    """One safetensors file in the original (not diffusers) key layout that holds some of
    a model's components (LTX-Video's transformer and VAE), loaded with diffusers'
    `from_single_file`. Its components' `config.json` come from `configs`, a diffusers
    repository whose `<component>/config.json` describe the file's architecture (diffusers'
    own choice for such a file), or, when None, from the entry's own repository or folder."""

    repo: str | None  # the Hub repository of the file; None: in the entry's bundled folder
    file: str
    components: tuple[str, ...]
    configs: str | None = None
    revision: str = "main"

    @classmethod
    def of(cls, data: dict[str, Any]) -> Checkpoint:
        return cls(
            data.get("repo"),
            str(data["file"]),
            tuple(data["components"]),
            data.get("configs"),
            data.get("revision", "main"),
        )

    @property
    def name(self) -> str:
        return self.file.rsplit("/", 1)[-1]

    @property
    def url(self) -> str:
        return f"https://huggingface.co/{self.repo}/blob/{self.revision}/{self.file}"

    def config_files(self) -> list[str]:
        return [f"{component}/config.json" for component in self.components]

    def missing_text(self, entry: ModelEntry, folder: Path) -> str:
        """What is missing and how to fetch it, for an error message."""
        parts = " and ".join(self.components)
        text = f"the checkpoint {self.name} ({parts} of {entry.name}) is not in {folder}"
        if self.repo is None:
            return text + "; the bundled model is incomplete: rebuild it (tools.tiny_models)"
        return (
            f"{text}; fetch it with `gallop models download {entry.id}` (Models… > Download), "
            f"or from {self.url} with `hf download {self.repo} {self.file} --local-dir {folder}`"
        )


def _entry(data: dict[str, Any]) -> ModelEntry:
    data = dict(data)
    data["fps"] = Fraction(data["fps"])
    return ModelEntry(**data)


@cache
def _load(path: Path) -> dict[str, ModelEntry]:
    raw = json.loads(path.read_text())
    entries = [_entry(item) for item in raw["models"]]
    return {e.id: e for e in entries}


class Catalog:
    def __init__(self, path: Path = CATALOG_FILE) -> None:
        self._entries = _load(path)
        extra = os.environ.get(EXTRA_CATALOG)
        if extra and path == CATALOG_FILE:
            raw = json.loads(Path(extra).read_text())
            self._entries = {**self._entries, **{e.id: e for e in map(_entry, raw["models"])}}

    def __iter__(self):
        return iter(self._entries.values())

    def __contains__(self, model_id: str) -> bool:
        return model_id in self._entries

    def get(self, model_id: str) -> ModelEntry:
        try:
            return self._entries[model_id]
        except KeyError:
            known = ", ".join(sorted(self._entries))
            raise RenderError(f"unknown model {model_id!r}; known models: {known}") from None

    def ids(self) -> list[str]:
        return list(self._entries)

    def offered(self, *, test_models: bool = False) -> list[ModelEntry]:
        """The models a user chooses from, in catalog order: the tiny test models only
        when `test_models` is asked for."""
        return [e for e in self._entries.values() if test_models or not e.test]


def forced_test_models() -> bool | None:
    """Whether `GALLOP_SHOW_TEST_MODELS` forces the test models into the lists (1, true,
    yes, on) or out of them (0, false, no, off); None when it is unset or says neither."""
    value = os.environ.get(SHOW_TEST_MODELS, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return None


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str  # why not, or where from
    path: Path | None = None
    size_bytes: int = 0


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def check_safetensors(folder: Path) -> None:
    """Refuse pickle checkpoints: loading them can run arbitrary code."""
    pickles = [p for p in folder.rglob("*") if p.suffix in PICKLE_SUFFIXES and p.is_file()]
    if pickles:
        names = ", ".join(str(p.relative_to(folder)) for p in pickles[:3])
        raise RenderError(
            f"{folder.name} holds pickle checkpoints ({names}); only safetensors are loaded"
        )
    if not any(folder.rglob("*.safetensors")):
        raise RenderError(f"{folder.name} holds no safetensors weights")


def hub_cache() -> Path:
    """The Hugging Face cache folder, found from the environment as huggingface_hub does
    (HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME/huggingface/hub)."""

    def expand(value: str) -> Path:
        return Path(os.path.expandvars(os.path.expanduser(value)))

    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(name):
            return expand(os.environ[name])
    if os.environ.get("HF_HOME"):
        return expand(os.environ["HF_HOME"]) / "hub"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return expand(base) / "huggingface" / "hub"


def _cached_snapshot(repo: str, revision: str = "main") -> Path | None:
    """The repository's snapshot in the Hugging Face cache, found offline, or None.

    Read straight from the cache's layout (models--ORG--NAME/refs/REVISION names the
    commit whose files are in snapshots/COMMIT), the way huggingface_hub's offline
    lookup does, without importing it: the window checks every model at start-up, and
    that import (an HTTP stack) would hold the window's interpreter lock for a while."""
    storage = hub_cache() / ("models--" + repo.replace("/", "--"))
    try:
        commit = (storage / "refs" / revision).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        commit = revision  # a commit hash names its snapshot directly
    if not commit or "/" in commit or commit in (".", ".."):
        return None
    snapshot = storage / "snapshots" / commit
    return snapshot if snapshot.is_dir() else None


def locate(entry: ModelEntry) -> Availability:
    """Where the model is on this machine, offline."""
    if entry.backend == "previz":
        return Availability(True, "built in")
    if entry.single_file is not None:
        from engine.models.installed import locate_assembled

        return locate_assembled(entry)
    return _find(entry.repo, entry.path, entry.id)


def _find(repo: str | None, path: str | None, model_id: str, part: str = "") -> Availability:
    """A bundled folder or a repository's snapshot holding `part/config.json` (the whole
    pipeline's model_index.json when no part is named), offline."""
    marker = f"{part}/config.json" if part else "model_index.json"
    if path is not None:
        folder = assets_dir() / path
        if (folder / marker).exists():
            return Availability(True, "bundled", folder, folder_size(folder))
        return Availability(False, f"bundled folder {path} is missing")
    if repo is None:
        return Availability(False, "no repository or folder given")
    from engine.models.installed import in_models_folder

    local = in_models_folder(repo, marker)
    if local is not None:
        return local
    snapshot = _cached_snapshot(repo)
    if snapshot is not None and (snapshot / marker).exists():
        return Availability(True, "Hugging Face cache", snapshot, folder_size(snapshot))
    return Availability(False, f"not downloaded: run `gallop models download {model_id}` ({repo})")


def resolve(entry: ModelEntry, *, allow_download: bool = False) -> Path:
    """The folder to `from_pretrained`; downloads only when asked to."""
    found = locate(entry)
    if found.available and found.path is not None:
        check_safetensors(found.path)
        return found.path
    if not allow_download or entry.repo is None:
        raise RenderError(f"model {entry.id} is not available: {found.reason}")
    return _download(entry)


def locate_upsampler(entry: ModelEntry) -> Availability:
    """Where the entry's latent upsampler (its optional second stage) is, offline."""
    stage = entry.upsampler
    if stage is None:
        return Availability(False, f"{entry.name} has no second stage")
    return _find(stage.get("repo"), stage.get("path"), entry.id, stage["subfolder"])


def resolve_upsampler(entry: ModelEntry, *, allow_download: bool = False) -> Path | None:
    """The folder whose `subfolder` holds the latent upsampler, or None when it is not here
    (the second stage is optional: a render goes on without it)."""
    found = locate_upsampler(entry)
    if found.available and found.path is not None:
        check_safetensors(found.path / entry.upsampler["subfolder"])
        return found.path
    repo = (entry.upsampler or {}).get("repo")
    if not allow_download or repo is None:
        return None
    _download(entry)  # the pipeline and its upsampler
    found = locate_upsampler(entry)
    return found.path if found.available else None


def _download(entry: ModelEntry) -> Path:
    """Fetch the pipeline's files (and its upsampler's) as the Models window does."""
    from engine.models.download import download

    folder = download(entry)
    check_safetensors(folder)
    return folder
