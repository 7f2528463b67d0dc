"""What a catalog model is on the Hugging Face Hub: the commit its pinned revision names and
the files its pipeline needs (`engine.models.selection`), each with its size and checksum
(SHA-256 for large files, the git blob id for the others), from the Hub's own metadata.

Everything here goes through huggingface_hub (its HTTP session, its token from
`hf auth login`, `HF_ENDPOINT`), and only when a download or a check against the Hub
was asked for.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from engine.backends.base import RenderError
from engine.models.catalog import ModelEntry
from engine.models.selection import INDEX, SelectionError, pipeline_files

TIMEOUT_S = 30.0


class HubError(RenderError):
    """The Hub cannot give the model: offline, unknown repository or revision, gated."""


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    sha256: str | None = None  # large (LFS) files
    blob_id: str | None = None  # the git blob id of the others

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256, "blob": self.blob_id}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RemoteFile:
        return cls(str(data["path"]), int(data["size"]), data.get("sha256"), data.get("blob"))


@dataclass(frozen=True)
class RemotePlan:
    """The files of one model at one commit."""

    repo: str
    revision: str  # as the catalog pins it
    commit: str  # what it named when asked
    files: tuple[RemoteFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def endpoint() -> str:
    """The Hub's address: `HF_ENDPOINT` when set (read at each call), else the Hub."""
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def online() -> None:
    """Lift huggingface_hub's offline mode for this process: the user asked to go online.
    (The engine keeps it offline while it renders.)"""
    from huggingface_hub import constants

    os.environ["HF_HUB_OFFLINE"] = "0"
    constants.HF_HUB_OFFLINE = False


def session():
    from huggingface_hub.utils import get_session

    return get_session()


def headers() -> dict[str, str]:
    from huggingface_hub.utils import build_hf_headers

    return build_hf_headers(library_name="gallop-studio")


def file_url(repo: str, path: str, commit: str) -> str:
    """The Hub's address of a file at a commit (what `hf_hub_url` builds, from the
    endpoint of this moment)."""
    return f"{endpoint()}/{repo}/resolve/{quote(commit, safe='')}/{quote(path)}"


def hub_error(repo: str, revision: str, exc: BaseException) -> HubError:
    """A sentence for what went wrong talking to the Hub."""
    from huggingface_hub import errors

    if isinstance(exc, errors.GatedRepoError):
        text = (
            f"{repo} is gated: log in with `hf auth login` and accept its terms on "
            f"https://huggingface.co/{repo} first"
        )
    elif isinstance(exc, errors.RevisionNotFoundError):
        text = f"{repo} has no revision {revision!r}"
    elif isinstance(exc, errors.RepositoryNotFoundError):
        text = f"{repo} is not on the Hugging Face Hub (or is private: `hf auth login`)"
    elif isinstance(exc, errors.OfflineModeIsEnabled):
        text = "huggingface_hub is in offline mode (HF_HUB_OFFLINE)"
    else:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        text = (
            f"cannot download {repo} from the Hugging Face hub: {first}. Check the network "
            "connection (and for gated models, `hf auth login`)"
        )
    return HubError(text)


def _info(repo: str, revision: str):
    from huggingface_hub import HfApi

    online()
    try:
        api = HfApi(endpoint=endpoint(), library_name="gallop-studio")
        return api.model_info(repo, revision=revision, files_metadata=True)
    except Exception as exc:  # noqa: BLE001 - network, HTTP and auth errors all end here
        raise hub_error(repo, revision, exc) from exc


def _files(repo: str, siblings: dict[str, Any], names: list[str]) -> tuple[RemoteFile, ...]:
    files = []
    for name in names:
        sibling = siblings[name]
        lfs = sibling.lfs
        size = sibling.size if sibling.size is not None else (lfs.size if lfs else None)
        if size is None:
            raise HubError(f"{repo}: the Hub gave no size for {name}")
        sha256, blob = (lfs.sha256, None) if lfs else (None, sibling.blob_id)
        files.append(RemoteFile(name, int(size), sha256, blob))
    return tuple(files)


def fetch_plan(entry: ModelEntry) -> RemotePlan:
    """Ask the Hub for the model's commit, file list and sizes, and its model_index.json;
    choose the pipeline's files (without the weights of the components a single-file
    checkpoint holds, nor their configs when another repository gives them). Raises
    `HubError`."""
    if entry.repo is None:
        raise HubError(f"{entry.id} has no Hugging Face repository")
    from huggingface_hub.utils import hf_raise_for_status

    repo, revision = entry.repo, entry.revision
    info = _info(repo, revision)
    commit = info.sha or revision
    try:
        response = session().get(
            file_url(repo, INDEX, commit), headers=headers(), timeout=TIMEOUT_S
        )
        hf_raise_for_status(response)
        index = json.loads(response.content)
    except ValueError as exc:
        raise HubError(f"{repo}: model_index.json is not JSON ({exc})") from None
    except Exception as exc:  # noqa: BLE001
        raise hub_error(repo, revision, exc) from exc
    siblings = {s.rfilename: s for s in info.siblings or []}
    single = entry.single_file
    replaced = single.components if single is not None else ()
    try:
        wanted = pipeline_files(index, siblings, only_configs=replaced)
    except SelectionError as exc:
        raise HubError(f"{repo}: {exc}") from None
    if single is not None and single.configs is not None:
        wanted = [name for name in wanted if name not in single.config_files()]
    if INDEX not in wanted:
        raise HubError(f"{repo} is not a diffusers pipeline (no {INDEX})")
    return RemotePlan(repo, revision, commit, _files(repo, siblings, wanted))


def fetch_part_plan(repo: str, subfolder: str, revision: str = "main") -> RemotePlan:
    """One model of a repository, in its subfolder (a latent upsampler): its config.json
    and its safetensors weights."""
    info = _info(repo, revision)
    siblings = {s.rfilename: s for s in info.siblings or []}
    inside = [
        n for n in siblings if n.startswith(subfolder.rstrip("/") + "/") and n.count("/") == 1
    ]
    wanted = sorted(n for n in inside if n.endswith((".safetensors", "/config.json")))
    if not any(n.endswith(".safetensors") for n in wanted):
        raise HubError(f"{repo} has no safetensors weights in {subfolder}/")
    return RemotePlan(repo, revision, info.sha or revision, _files(repo, siblings, wanted))


def fetch_files_plan(repo: str, names: list[str], revision: str = "main") -> RemotePlan:
    """Named files of a repository (a single-file checkpoint, its components' configs)."""
    info = _info(repo, revision)
    siblings = {s.rfilename: s for s in info.siblings or []}
    missing = [name for name in names if name not in siblings]
    if missing:
        raise HubError(f"{repo} has no {', '.join(missing)}")
    return RemotePlan(repo, revision, info.sha or revision, _files(repo, siblings, names))
