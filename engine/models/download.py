"""Downloading a catalog model from the Hugging Face Hub: the only network access of the
studio, and only when the user asks for it (Models… in the window, `gallop models
download`).

`download(entry)`:

1. asks for the licence's acceptance once per model (`accept_licence=True` records it);
2. asks the Hub for the pinned revision's commit and the pipeline's files
   (`engine.models.hub`: the components `model_index.json` names, safetensors only, one
   variant) with their sizes and checksums;
3. refuses when the disk cannot hold what is left to fetch;
4. fetches each file over huggingface_hub's HTTP session into `NAME.incomplete`, which a
   later download continues with a range request (after a pause, a cancel, a lost
   connection or a killed process), checks its checksum and moves it into place;
   `model_index.json` comes last, so a folder is never taken for a whole model early.

A model whose own weights are one single-file checkpoint (`ModelEntry.checkpoint`) gathers
three repositories into its folder: the base pipeline's other components, the configs of
the components the file holds, and the file itself; one record lists them all, and the
folder is complete only when every one is there.

Progress arrives as `DownloadProgress` (bytes, speed, time left); `DownloadControl.stop()`
ends the download between two chunks, keeping what was fetched.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from engine.backends.base import RenderError
from engine.models.catalog import ModelEntry, assets_dir
from engine.models.hub import (
    TIMEOUT_S,
    HubError,
    RemoteFile,
    RemotePlan,
    fetch_files_plan,
    fetch_part_plan,
    fetch_plan,
    file_url,
    headers,
    hub_error,
    session,
)
from engine.models.installed import (
    Record,
    Stop,
    model_folder,
    on_disk,
    partial_path,
    read_record,
    repo_folder,
    write_record,
)
from engine.models.settings import accept_licence as remember_acceptance
from engine.models.settings import licence_accepted
from engine.render.reporter import eta_text, size_text

SPEED_WINDOW_S = 5.0


class LicenceError(RenderError):
    """The model's licence must be accepted first."""


class DiskSpaceError(RenderError):
    """The disk cannot hold the model."""


class DownloadStopped(Stop):
    """The download was stopped on request; what it fetched is kept for a resume."""


@dataclass(frozen=True)
class DownloadProgress:
    model_id: str
    file: str  # the file being fetched
    file_done: int
    file_total: int
    done: int  # bytes of the whole model on disk
    total: int
    speed: float | None  # bytes a second over the last seconds; None until measured
    files_done: int
    files_total: int

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def eta_seconds(self) -> float | None:
        if not self.speed or self.done >= self.total:
            return None
        return (self.total - self.done) / self.speed

    @property
    def eta(self) -> str:
        return eta_text(self.eta_seconds)

    @property
    def speed_text(self) -> str:
        return f"{size_text(self.speed)}/s" if self.speed else ""

    @property
    def text(self) -> str:
        """ "1.2 GB of 28.1 GB · 35.0 MB/s · ~13 min left" """
        parts = [f"{size_text(self.done)} of {size_text(self.total)}"]
        parts += [p for p in (self.speed_text, self.eta) if p]
        return " · ".join(parts)


class DownloadControl:
    """Stops a download (or a check) from another thread; what was fetched stays. A
    transfer waiting for data ends at once: its connection is closed."""

    def __init__(self) -> None:
        import threading

        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._response = None

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            response = self._response
        if response is not None:
            with contextlib.suppress(Exception):  # closing a stream mid-read may complain
                response.close()

    def watch(self, response) -> None:
        """The response being read (None when done), for `stop` to close."""
        with self._lock:
            self._response = response
        if response is not None and self.stopped:
            self.stop()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()


def free_space(folder: Path) -> int:
    """Free bytes on the disk that holds (or will hold) `folder`."""
    path = folder
    while not path.exists() and path.parent != path:
        path = path.parent
    return shutil.disk_usage(path).free


def check_licence(entry: ModelEntry, accept: bool) -> None:
    if not entry.accept_licence:
        return
    if accept:
        remember_acceptance(entry.id, entry.licence)
    elif not licence_accepted(entry.id, entry.licence):
        raise LicenceError(
            f"{entry.name} is under the {entry.licence}, which you must read and accept "
            f"(https://huggingface.co/{entry.card_repo}) before it downloads"
        )


class _Meter:
    """Bytes and the speed over the last seconds; reports after every piece written."""

    def __init__(self, total: int, files: int, entry: ModelEntry, on_progress, clock) -> None:
        self.entry, self.on_progress, self.clock = entry, on_progress, clock
        self.total = total
        self.files_total = files
        self.done = 0
        self.files_done = 0
        self.samples: deque[tuple[float, int]] = deque()
        self.fetched = 0

    def report(self, file: RemoteFile, file_done: int) -> None:
        now = self.clock()
        self.samples.append((now, self.fetched))
        while len(self.samples) > 2 and now - self.samples[0][0] > SPEED_WINDOW_S:
            self.samples.popleft()
        if self.on_progress is None:
            return
        first_t, first_n = self.samples[0]
        speed = (self.fetched - first_n) / (now - first_t) if now > first_t else None
        self.on_progress(
            DownloadProgress(
                self.entry.id,
                file.path,
                file_done,
                file.size,
                self.done,
                self.total,
                speed or None,
                self.files_done,
                self.files_total,
            )
        )


def _discard_stale(folder: Path, plan: RemotePlan, record: Record | None) -> None:
    """Drop what an earlier download left that this one cannot use: files of another
    commit whose content changed, and the files `verify` found damaged."""
    if record is None:
        return
    before = {f.path: f for f in record.files}
    for file in plan.files:
        old = before.get(file.path)
        if (old is not None and old != file) or file.path in record.damaged:
            (folder / file.path).unlink(missing_ok=True)
            partial_path(folder / file.path).unlink(missing_ok=True)


def _fetch(
    plan: RemotePlan,
    file: RemoteFile,
    dest: Path,
    meter: _Meter,
    control: DownloadControl | None,
) -> None:
    """One file into `dest`, continuing its partial file; checked before it is moved in."""
    from huggingface_hub.utils import hf_raise_for_status

    part = partial_path(dest)
    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    if have > file.size:
        part.unlink()
        have = 0
    digest = hashlib.sha256() if file.sha256 else _blob_digest(file.size)
    if have:
        with part.open("rb") as handle:
            while data := handle.read(8 << 20):
                digest.update(data)
    if have < file.size:
        request = headers()
        if have:
            request["Range"] = f"bytes={have}-"
        url = file_url(plan.repo, file.path, plan.commit)
        try:
            with session().stream("GET", url, headers=request, timeout=TIMEOUT_S) as response:
                if control is not None:
                    control.watch(response)
                hf_raise_for_status(response)
                if have and response.status_code != 206:  # the server sent it all again
                    have, meter.done = 0, meter.done - have
                    digest = hashlib.sha256() if file.sha256 else _blob_digest(file.size)
                with part.open("ab" if have else "wb", buffering=0) as out:
                    for data in response.iter_bytes():
                        if control is not None and control.stopped:
                            raise DownloadStopped
                        out.write(data)
                        digest.update(data)
                        have += len(data)
                        meter.done += len(data)
                        meter.fetched += len(data)
                        meter.report(file, have)
                if control is not None and control.stopped:  # its connection was closed
                    raise DownloadStopped
        except DownloadStopped:
            raise
        except Exception as exc:  # noqa: BLE001 - network and HTTP errors
            if control is not None and control.stopped:  # stopped while waiting for data
                raise DownloadStopped from exc
            if isinstance(exc, OSError):  # the disk, not the network
                raise
            error = hub_error(plan.repo, plan.revision, exc)
            raise HubError(f"{error}; what was fetched is kept, download again to resume") from exc
        finally:
            if control is not None:
                control.watch(None)
    expected = file.sha256 or file.blob_id
    if have != file.size or (expected is not None and digest.hexdigest() != expected):
        part.unlink(missing_ok=True)
        raise HubError(
            f"{file.path} arrived damaged ({have} bytes of {file.size}, or its checksum is "
            "not the Hub's); download again"
        )
    part.replace(dest)


def _blob_digest(size: int):
    return hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)


@dataclass(frozen=True)
class _Stage:
    """One repository (or a subfolder of one) into one folder."""

    model: str
    plan: RemotePlan
    folder: Path


def _stages(entry: ModelEntry) -> list[_Stage]:
    """The pipeline (with its single-file checkpoint and the configs of the components it
    holds, into the same folder), then its optional latent upsampler (another repository's
    subfolder)."""
    folder = model_folder(entry)
    assert folder is not None  # fetch_plan refuses an entry without a repository
    stages = [_Stage(entry.id, fetch_plan(entry), folder)]
    single = entry.single_file
    if single is not None and single.repo is not None:
        if single.configs is not None:
            configs = fetch_files_plan(single.configs, single.config_files())
            stages.append(_Stage(entry.id, configs, folder))
        plan = fetch_files_plan(single.repo, [single.file], single.revision)
        stages.append(_Stage(entry.id, plan, folder))
    second = getattr(entry, "upsampler", None) or {}
    if second.get("repo"):
        revision = second.get("revision", "main")
        plan = fetch_part_plan(second["repo"], second["subfolder"], revision)
        stages.append(_Stage(f"{entry.id} upsampler", plan, repo_folder(second["repo"])))
    return stages


def download(
    entry: ModelEntry,
    *,
    accept_licence: bool = False,
    on_progress: Callable[[DownloadProgress], None] | None = None,
    control: DownloadControl | None = None,
    space: Callable[[Path], int] = free_space,
    reserved: int = 0,
    clock: Callable[[], float] = time.monotonic,
) -> Path:
    """Download the model into the models folder (or finish an earlier download of it);
    the folder. `reserved`: bytes other downloads still need from the same disk.

    Raises `LicenceError`, `DiskSpaceError`, `HubError` (the Hub or the network) and
    `DownloadStopped` (on `control.stop()`)."""
    if entry.backend == "previz":
        raise RenderError("the previz is built in; nothing to download")
    if entry.path is not None:
        return assets_dir() / entry.path
    check_licence(entry, accept_licence)
    stages = _stages(entry)
    for stage in stages:
        _discard_stale(stage.folder, stage.plan, read_record(stage.folder))
    have = sum(on_disk(st.folder, f) for st in stages for f in st.plan.files)
    total = sum(st.plan.total_bytes for st in stages)
    needed = total - have + reserved
    folder = stages[0].folder
    free = space(folder)
    if needed > free:
        raise DiskSpaceError(
            f"{entry.name} needs {size_text(needed)} more on the disk of {folder.parent}, "
            f"which has {size_text(free)} free: free some space, or choose another models "
            "folder in Preferences"
        )
    meter = _Meter(total, sum(len(st.plan.files) for st in stages), entry, on_progress, clock)
    meter.done = have
    for target, group in _by_folder(stages).items():
        record = _record(group)
        write_record(target, record)
        # model_index.json last: a folder with it is taken for a whole pipeline.
        files = [(st.plan, f) for st in group for f in st.plan.files]
        files.sort(key=lambda item: item[1].path == "model_index.json")
        for plan, file in files:
            if control is not None and control.stopped:
                raise DownloadStopped
            if on_disk(target, file) == file.size and (target / file.path).exists():
                meter.files_done += 1
                continue
            meter.report(file, on_disk(target, file))
            _fetch(plan, file, target / file.path, meter, control)
            meter.files_done += 1
            meter.report(file, file.size)
        write_record(target, replace(record, complete=True))
    return folder


def _by_folder(stages: list[_Stage]) -> dict[Path, list[_Stage]]:
    groups: dict[Path, list[_Stage]] = {}
    for stage in stages:
        groups.setdefault(stage.folder, []).append(stage)
    return groups


def _record(group: list[_Stage]) -> Record:
    """What a folder will hold: one repository's files, or a pipeline's with the single-file
    checkpoint and configs of other repositories (`sources`: each with its commit)."""
    first = group[0].plan
    files = tuple(f for stage in group for f in stage.plan.files)
    paths = [f.path for f in files]
    if len(set(paths)) != len(paths):
        raise HubError(f"{group[0].model}: two repositories give the same file")
    extra = {}
    if len(group) > 1:
        extra["sources"] = [
            {
                "repo": st.plan.repo,
                "revision": st.plan.revision,
                "commit": st.plan.commit,
                "files": [f.path for f in st.plan.files],
            }
            for st in group[1:]
        ]
    return Record(group[0].model, first.repo, first.revision, first.commit, files, extra=extra)
