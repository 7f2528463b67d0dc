"""The models on this machine: where each is, its state, checking it and deleting it.

A model downloaded by the studio lives in its own folder of the models folder
(`engine.models.settings`) with a record, `.gallop-download.json`: the repository, the
revision asked for and the commit it named, and every file with its size and checksum
from the Hub. The record says whether the download finished; a file being fetched sits
beside its final name as `NAME.incomplete` until it is whole.

A model's state:

- installed: every file of the record is there at its size (or, without a record, the
  folder has its `model_index.json`: bundled, copied by hand, in the Hugging Face cache);
- partial: a download started and did not finish (paused, cancelled, interrupted);
- damaged: a file is missing or has the wrong size, or `verify` found its checksum wrong;
- not installed.

`verify` reads every file against the record's checksums (SHA-256 for weights, the git
blob id for the small files) and opens every safetensors header; what it finds damaged
stays damaged (in the record) until downloaded again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from engine.backends.base import RenderError
from engine.models.catalog import (
    Availability,
    ModelEntry,
    _cached_snapshot,
    assets_dir,
    folder_size,
)
from engine.models.hub import RemoteFile
from engine.models.settings import models_folder

RECORD = ".gallop-download.json"
PARTIAL = ".incomplete"
RECORD_FORMAT = 1
READ_CHUNK = 8 << 20


class State(Enum):
    INSTALLED = "installed"
    PARTIAL = "partial"
    DAMAGED = "damaged"
    MISSING = "not installed"


@dataclass(frozen=True)
class Record:
    """What a download fetched or is fetching into a folder."""

    model: str
    repo: str
    revision: str
    commit: str
    files: tuple[RemoteFile, ...]
    complete: bool = False
    damaged: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def as_json(self) -> dict[str, Any]:
        return {
            "format": RECORD_FORMAT,
            "model": self.model,
            "repo": self.repo,
            "revision": self.revision,
            "commit": self.commit,
            "complete": self.complete,
            "damaged": list(self.damaged),
            "files": [f.as_json() for f in self.files],
            **self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        known = {"format", "model", "repo", "revision", "commit", "complete", "damaged", "files"}
        return cls(
            model=str(data["model"]),
            repo=str(data["repo"]),
            revision=str(data["revision"]),
            commit=str(data["commit"]),
            files=tuple(RemoteFile.from_json(f) for f in data["files"]),
            complete=bool(data.get("complete")),
            damaged=tuple(str(p) for p in data.get("damaged") or ()),
            extra={k: v for k, v in data.items() if k not in known},
        )


def repo_folder(repo: str) -> Path:
    """The folder a repository downloads into."""
    return models_folder() / repo.split("/")[-1]


def model_folder(entry: ModelEntry) -> Path | None:
    """The folder the model downloads into: its repository's, or for a model whose own
    weights are a single-file checkpoint, one named after the file (its base repository
    is another model's, whose folder it must not share)."""
    if entry.repo is None:
        return None
    single = entry.single_file
    if single is not None:
        return models_folder() / Path(single.name).stem
    return repo_folder(entry.repo)


def read_record(folder: Path) -> Record | None:
    try:
        return Record.from_json(json.loads((folder / RECORD).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_record(folder: Path, record: Record) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".record.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record.as_json(), handle, indent=1)
            handle.write("\n")
        os.replace(tmp, folder / RECORD)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def partial_path(path: Path) -> Path:
    return path.with_name(path.name + PARTIAL)


def on_disk(folder: Path, file: RemoteFile) -> int:
    """Bytes of `file` already in `folder`: its size when whole, else what its partial
    file holds (0 when neither is there or the whole one has the wrong size)."""
    whole = folder / file.path
    try:
        size = whole.stat().st_size
        return size if size == file.size else 0
    except OSError:
        pass
    try:
        return min(partial_path(whole).stat().st_size, file.size)
    except OSError:
        return 0


def quick_problems(folder: Path, record: Record) -> list[str]:
    """Missing files and files of the wrong size (no reading), then what `verify` found."""
    problems = [f"{p}: damaged (its checksum is wrong)" for p in record.damaged]
    for file in record.files:
        try:
            size = (folder / file.path).stat().st_size
        except OSError:
            problems.append(f"{file.path}: missing")
            continue
        if size != file.size:
            problems.append(f"{file.path}: {size} bytes where the Hub has {file.size}")
    return problems


@dataclass(frozen=True)
class ModelStatus:
    state: State
    where: str  # "bundled", "models folder", "Hugging Face cache", "built in", ""
    folder: Path | None
    size_on_disk: int
    download_size: int | None  # what the Hub said, once asked; None before
    detail: str  # why it is not installed, or what is wrong
    commit: str | None = None

    @property
    def available(self) -> bool:
        return self.state is State.INSTALLED

    @property
    def deletable(self) -> bool:
        return self.where in ("models folder", "Hugging Face cache") and self.folder is not None


def _folder_status(folder: Path, marker: str = "model_index.json") -> ModelStatus | None:
    """The state of a folder of the models folder, or None when it holds nothing."""
    if not folder.is_dir():
        return None
    record = read_record(folder)
    size = folder_size(folder)
    if record is not None:
        total, commit = record.total_bytes, record.commit
        if not record.complete:
            done = sum(on_disk(folder, f) for f in record.files)
            detail = f"partly downloaded ({_percent(done, total)}): resume it in Models…"
            return ModelStatus(State.PARTIAL, "models folder", folder, size, total, detail, commit)
        problems = quick_problems(folder, record)
        if problems:
            detail = "damaged: " + "; ".join(problems[:3])
            return ModelStatus(State.DAMAGED, "models folder", folder, size, total, detail, commit)
        return ModelStatus(State.INSTALLED, "models folder", folder, size, total, "", commit)
    if (folder / marker).exists():
        return ModelStatus(State.INSTALLED, "models folder", folder, size, None, "")
    if size:  # files without a record: a download that stopped before it wrote one
        detail = "partly downloaded: resume it in Models…"
        return ModelStatus(State.PARTIAL, "models folder", folder, size, None, detail)
    return None


def _percent(done: int, total: int) -> str:
    return f"{done * 100 // total if total else 0}%"


def in_models_folder(repo: str, marker: str = "model_index.json") -> Availability | None:
    """`locate`'s answer for a repository's folder in the models folder, or None when
    it has none."""
    status = _folder_status(repo_folder(repo), marker)
    if status is None:
        return None
    if status.available:
        return Availability(True, "models folder", status.folder, status.size_on_disk)
    return Availability(False, status.detail, status.folder, status.size_on_disk)


def _missing_parts(entry: ModelEntry, folder: Path) -> list[str]:
    """The single-file checkpoint and the configs of its components, when not in `folder`."""
    single = entry.single_file
    if single is None:
        return []
    wanted = [single.file, *single.config_files()]
    return [f"{name}: missing" for name in wanted if not (folder / name).is_file()]


def _assembled(entry: ModelEntry, status: ModelStatus) -> ModelStatus:
    """A folder found whole without a record is damaged when it lacks the checkpoint's
    parts (a record lists them, so `quick_problems` finds those)."""
    if status.state is not State.INSTALLED or status.folder is None:
        return status
    missing = _missing_parts(entry, status.folder)
    if not missing:
        return status
    detail = "damaged: " + "; ".join(missing[:3])
    return replace(status, state=State.DAMAGED, detail=detail)


def model_status(entry: ModelEntry) -> ModelStatus:
    """Where the model is and in what state, offline and without reading the weights."""
    if entry.backend == "previz":
        return ModelStatus(State.INSTALLED, "built in", None, 0, 0, "")
    if entry.path is not None:
        folder = assets_dir() / entry.path
        if (folder / "model_index.json").exists():
            found = ModelStatus(State.INSTALLED, "bundled", folder, folder_size(folder), None, "")
            return _assembled(entry, found)
        detail = f"bundled folder {entry.path} is missing"
        return ModelStatus(State.MISSING, "", None, 0, None, detail)
    folder = model_folder(entry)
    if folder is None:
        return ModelStatus(State.MISSING, "", None, 0, None, "no repository or folder given")
    local = _folder_status(folder)
    if local is not None:
        return _assembled(entry, local)
    if entry.single_file is not None:  # assembled from three repositories: downloads only
        return ModelStatus(State.MISSING, "", None, 0, None, "not downloaded")
    snapshot = _cached_snapshot(entry.repo, entry.revision)
    if snapshot is not None and (snapshot / "model_index.json").exists():
        size = folder_size(snapshot)
        return ModelStatus(
            State.INSTALLED, "Hugging Face cache", snapshot, size, None, "", snapshot.name
        )
    return ModelStatus(State.MISSING, "", None, 0, None, "not downloaded")


def locate_assembled(entry: ModelEntry) -> Availability:
    """`locate`'s answer for a model whose own weights are a single-file checkpoint."""
    status = model_status(entry)
    if status.available:
        return Availability(True, status.where, status.folder, status.size_on_disk)
    detail = status.detail
    single = entry.single_file
    if status.state is State.MISSING and single is not None and entry.repo is not None:
        sources = f"{entry.repo} and {single.repo}/{single.file}"
        detail = f"not downloaded: run `gallop models download {entry.id}` ({sources})"
    elif status.state is State.DAMAGED and single is not None and status.folder is not None:
        if not (status.folder / single.file).is_file():
            detail = single.missing_text(entry, status.folder)
        else:
            detail += f"; download it again to repair it (`gallop models download {entry.id}`)"
    return Availability(False, detail, status.folder, status.size_on_disk)


def provenance(entry: ModelEntry) -> dict[str, Any]:
    """What a take's manifest says of the weights that rendered it: the repository, the
    revision asked for and the commit it named, or the bundled folder; for a single-file
    checkpoint also its file, repository and commit."""
    if entry.backend == "previz":
        return {"id": entry.id, "source": "built in"}
    single = entry.single_file
    if entry.path is not None:
        found = {"id": entry.id, "source": "bundled", "path": entry.path}
        return {**found, "checkpoint": {"file": single.file}} if single else found
    status = model_status(entry)
    found = {
        "id": entry.id,
        "source": status.where or "not installed",
        "repo": entry.repo,
        "revision": entry.revision,
        "commit": status.commit,
    }
    if single is not None:
        record = read_record(status.folder) if status.folder is not None else None
        sources = (record.extra.get("sources") if record else None) or []
        commit = next((s.get("commit") for s in sources if s.get("repo") == single.repo), None)
        found["checkpoint"] = {
            "repo": single.repo,
            "file": single.file,
            "revision": single.revision,
            "commit": commit,
        }
    return found


def weights_of(backend: str, model_id: str) -> dict[str, Any] | None:
    """`provenance` of the model a take renders with (and of the companions that serve
    its other modes); None when the catalog does not know it. Never raises: a take is
    saved whatever this finds."""
    from engine.models.catalog import Catalog

    try:
        catalog = Catalog()
        if backend == "previz":
            return provenance(catalog.get("previz")) if "previz" in catalog else None
        if model_id not in catalog:
            return None
        entry = catalog.get(model_id)
        found = provenance(entry)
        companions = {
            mode: provenance(catalog.get(other))
            for mode, other in entry.companions.items()
            if other in catalog
        }
        return {**found, "companions": companions} if companions else found
    except Exception:  # noqa: BLE001 - a damaged models folder must not lose the take
        return None


# -- verify ---------------------------------------------------------------------------

Progress = Callable[[int, int, str], None]  # bytes read, bytes to read, file


class Stop(Exception):  # noqa: N818 - a request, not an error
    """A check or a download was asked to stop."""


def _digest(path: Path, file: RemoteFile, read: list[int], total: int, progress, stop) -> str:
    """The checksum of `path` of the kind the Hub gives for `file`."""
    if file.sha256 is not None:
        digest = hashlib.sha256()
    else:
        digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode(), usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            if stop is not None and stop():
                raise Stop
            digest.update(chunk)
            read[0] += len(chunk)
            if progress is not None:
                progress(read[0], total, file.path)
    return digest.hexdigest()


def verify(
    entry: ModelEntry,
    *,
    progress: Progress | None = None,
    stop: Callable[[], bool] | None = None,
) -> list[str]:
    """Problems with the model's files: missing, wrong size, wrong checksum, unreadable
    safetensors, pickles. Empty when it is whole. The files found damaged are kept in
    the record (its state is then damaged) until a download fetches them again."""
    status = model_status(entry)
    if status.folder is None or status.state is State.MISSING:
        raise RenderError(f"{entry.id} is not here ({status.detail or 'not downloaded'})")
    folder = status.folder
    if status.state is State.PARTIAL:
        return [status.detail]
    from engine.cli.models import verify_folder  # the safetensors and pickle checks

    record = read_record(folder) if status.where == "models folder" else None
    if record is None:
        return verify_folder(folder, entry.single_file)
    problems: list[str] = []
    damaged: list[str] = []
    total = sum(f.size for f in record.files)
    read = [0]
    for file in record.files:
        path = folder / file.path
        try:
            size = path.stat().st_size
        except OSError:
            problems.append(f"{file.path}: missing")
            damaged.append(file.path)
            continue
        if size != file.size:
            problems.append(f"{file.path}: {size} bytes where the Hub has {file.size}")
            damaged.append(file.path)
            read[0] += file.size
            continue
        expected = file.sha256 or file.blob_id
        if expected is None:
            read[0] += file.size
            continue
        if _digest(path, file, read, total, progress, stop) != expected:
            problems.append(f"{file.path}: damaged (its checksum is not the Hub's)")
            damaged.append(file.path)
    found = verify_folder(folder, entry.single_file)
    problems += [p for p in found if not any(d in p for d in damaged)]
    write_record(folder, replace(record, damaged=tuple(damaged)))
    return problems


# -- delete ---------------------------------------------------------------------------


def delete(entry: ModelEntry) -> int:
    """Remove the model's files from the models folder (or its revision from the
    Hugging Face cache); the bytes freed. Bundled models cannot be deleted."""
    status = model_status(entry)
    if status.folder is None or not status.deletable:
        if status.state is State.MISSING:
            return 0
        raise RenderError(f"{entry.name} is {status.where}: it cannot be deleted")
    if status.where == "Hugging Face cache":
        from huggingface_hub import scan_cache_dir

        from engine.models.catalog import hub_cache

        cache = scan_cache_dir(hub_cache())
        commits = [
            rev.commit_hash
            for repo in cache.repos
            if repo.repo_id == entry.repo
            for rev in repo.revisions
            if rev.snapshot_path == status.folder
        ]
        strategy = cache.delete_revisions(*commits)
        strategy.execute()
        return strategy.expected_freed_size
    freed = folder_size(status.folder)
    shutil.rmtree(status.folder)
    return freed


def remove_partials(entry: ModelEntry) -> None:
    """Drop the partial files of an unfinished download, keeping the whole ones."""
    folder = model_folder(entry)
    if folder is not None and folder.is_dir():
        for path in folder.rglob("*" + PARTIAL):
            path.unlink(missing_ok=True)
