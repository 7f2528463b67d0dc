"""Downloading a model whose own weights are one single-file checkpoint, from the local
stand-in for the Hub: the base repository's other components (never its transformer or VAE
weights, nor their configs), the configs of the components the file holds from their
repository, and the file itself, into a folder of the model's own; partial until the file
is whole, damaged without it (saying how to fetch it), verified, deleted, and rendered."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from engine.backends.base import RenderError
from engine.backends.diffusers import DiffusersBackend
from engine.models.catalog import Catalog, locate, resolve
from engine.models.download import DownloadControl, DownloadStopped, download
from engine.models.installed import (
    PARTIAL,
    State,
    delete,
    model_status,
    provenance,
    read_record,
    verify,
)
from tests.engine.backends.test_diffusers_backend import Ctx, mode_request
from tests.engine.models.hub_server import Repo, serve

ROOT = Path(__file__).resolve().parents[3]
BASE_TWIN = ROOT / "assets" / "models" / "tiny-ltx-condition"
TWIN = ROOT / "assets" / "models" / "tiny-ltx-single-file"
FILE = "tiny-ltxv-0.9.8-distilled.safetensors"
BASE = "gallop-test/tiny-ltx-13b"  # stands for Lightricks/LTX-Video-0.9.8-13B-distilled
CONFIGS = "gallop-test/tiny-ltx-2b-configs"  # for Lightricks/LTX-Video-0.9.5
FILES = "gallop-test/tiny-ltx-files"  # for Lightricks/LTX-Video
MODEL = "hub-ltx-single-file"
BASE_MODEL = "hub-ltx-13b"
REPLACED = ("transformer", "vae")
# The base pipeline's files that come down: every component but the two the file holds.
BASE_FILES = sorted(
    str(p.relative_to(BASE_TWIN))
    for p in BASE_TWIN.rglob("*")
    if p.is_file()
    and p.name != "gallop.json"
    and not str(p.relative_to(BASE_TWIN)).startswith((*REPLACED, "latent_upsampler"))
)
BIG_WEIGHTS = "transformer/diffusion_pytorch_model.safetensors"
HELD_BYTES = 32 * 1024  # what the server sends of the file before it holds: fits a socket buffer


@pytest.fixture
def hub(monkeypatch, tmp_path):
    server = serve(monkeypatch, tmp_path)
    # The base: a whole pipeline whose transformer is another (a larger model's config).
    bigger = json.loads((BASE_TWIN / "transformer" / "config.json").read_text())
    bigger["num_layers"] = 4
    server.add_folder(BASE, BASE_TWIN, {"transformer/config.json": json.dumps(bigger).encode()})
    server.add_folder(
        CONFIGS,
        TWIN,
        {
            BIG_WEIGHTS: (BASE_TWIN / BIG_WEIGHTS).read_bytes(),
            "README.md": b"# configs\n",
        },
    )
    files = {FILE: (TWIN / FILE).read_bytes(), "other-13b.safetensors": bytes(200_000)}
    server.repos[FILES] = Repo(FILES, files)
    catalog = json.loads(Path(os.environ["GALLOP_CATALOG"]).read_text())
    raw = json.loads((ROOT / "engine/models/catalog.json").read_text())
    twin = next(m for m in raw["models"] if m["id"] == "tiny-ltx-single-file")
    single = {
        **twin,
        "id": MODEL,
        "name": "Tiny LTX single file from the Hub",
        "repo": BASE,
        "path": None,
        "checkpoint": {"repo": FILES, "file": FILE, "components": list(REPLACED)},
    }
    single["checkpoint"]["configs"] = CONFIGS
    base = {**twin, "id": BASE_MODEL, "name": "Tiny LTX base", "repo": BASE, "path": None}
    del base["checkpoint"]
    catalog["models"] += [single, base]
    Path(os.environ["GALLOP_CATALOG"]).write_text(json.dumps(catalog))
    yield server
    server.stop()


def entry(model_id: str = MODEL):
    return Catalog().get(model_id)


def fetched(hub, repo: str, method: str = "GET") -> set[str]:
    marker = f"/{repo}/resolve/"
    return {p.split(marker, 1)[1].split("/", 1)[1] for p in hub.log.paths(method) if marker in p}


def test_only_the_other_components_and_the_single_file_download(hub):
    model = entry()
    assert model_status(model).state is State.MISSING
    assert f"gallop models download {MODEL}" in locate(model).reason
    folder = download(model)
    assert folder == Path(os.environ["GALLOP_MODELS"]) / Path(FILE).stem
    assert fetched(hub, BASE) == set(BASE_FILES)
    for method in ("GET", "HEAD"):
        assert not {p for p in fetched(hub, BASE, method) if p.startswith(REPLACED)}
    assert BIG_WEIGHTS not in fetched(hub, CONFIGS)
    assert fetched(hub, CONFIGS) == {f"{part}/config.json" for part in REPLACED}
    assert fetched(hub, FILES) == {FILE}
    assert not (Path(os.environ["GALLOP_MODELS"]) / "tiny-ltx-13b").exists()
    assert not list(folder.rglob("*" + PARTIAL))
    assert (folder / FILE).read_bytes() == (TWIN / FILE).read_bytes()
    for part in REPLACED:  # the configs that describe the file, not the base's
        config = f"{part}/config.json"
        assert (folder / config).read_bytes() == (TWIN / config).read_bytes()

    status = model_status(model)
    assert status.state is State.INSTALLED and status.folder == folder
    sizes = [(BASE_TWIN / n).stat().st_size for n in BASE_FILES]
    sizes += [(TWIN / f"{p}/config.json").stat().st_size for p in REPLACED]
    assert status.download_size == sum(sizes) + (TWIN / FILE).stat().st_size
    assert status.size_on_disk >= status.download_size
    record = read_record(folder)
    assert record.complete and record.repo == BASE and record.commit == hub.repos[BASE].commit
    assert [(s["repo"], s["commit"]) for s in record.extra["sources"]] == [
        (CONFIGS, hub.repos[CONFIGS].commit),
        (FILES, hub.repos[FILES].commit),
    ]
    assert provenance(model)["checkpoint"] == {
        "repo": FILES,
        "file": FILE,
        "revision": "main",
        "commit": hub.repos[FILES].commit,
    }
    assert locate(model).available and resolve(model) == folder
    assert verify(model) == []


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_the_downloaded_model_renders_from_its_single_file(hub, tmp_path):
    download(entry())
    backend = DiffusersBackend()
    req, inputs = mode_request(MODEL, "i2v", tmp_path)
    try:
        frames = backend.generate(req, inputs, Ctx())
        bundled = backend.generate(
            mode_request("tiny-ltx-single-file", "i2v", tmp_path)[0], inputs, Ctx()
        )
    finally:
        backend.unload()
    assert frames.shape == (9, 64, 64, 3)
    assert np.array_equal(frames, bundled)


def test_the_model_is_partial_until_the_single_file_is_whole(hub):
    model = entry()
    size = (TWIN / FILE).stat().st_size
    hub.hold(FILE, after=HELD_BYTES)
    control = DownloadControl()

    def on_progress(event) -> None:
        if event.file == FILE and 0 < event.file_done < event.file_total:
            control.stop()
            hub.release()

    with pytest.raises(DownloadStopped):
        download(model, on_progress=on_progress, control=control)
    assert hub.held.wait(30)  # the server has sent (and counted) all it was to send
    status = model_status(model)
    assert status.state is State.PARTIAL and "partly downloaded" in status.detail
    assert not (status.folder / "model_index.json").exists()  # it comes last
    assert not locate(model).available
    kept = (status.folder / (FILE + PARTIAL)).stat().st_size
    assert 0 < kept <= HELD_BYTES

    hub.reset_log()
    download(model)
    assert hub.log.sent[FILE] == size - kept
    assert model_status(model).state is State.INSTALLED and verify(model) == []


def test_a_missing_single_file_is_damaged_and_says_how_to_fetch_it(hub):
    model = entry()
    folder = download(model)
    (folder / FILE).unlink()
    status = model_status(model)
    assert status.state is State.DAMAGED and f"{FILE}: missing" in status.detail
    found = locate(model)
    assert not found.available
    assert f"gallop models download {MODEL}" in found.reason
    assert f"hf download {FILES} {FILE} --local-dir {folder}" in found.reason
    with pytest.raises(RenderError, match=f"the checkpoint {FILE}"):
        resolve(model)
    assert any(FILE in problem for problem in verify(model))

    hub.reset_log()
    download(model)  # the repair fetches the file alone
    assert fetched(hub, FILES) == {FILE}
    assert fetched(hub, BASE) == {"model_index.json"}  # read to choose the files, no more
    assert not fetched(hub, CONFIGS)
    assert model_status(model).state is State.INSTALLED and verify(model) == []


def test_the_base_models_folder_and_the_single_file_models_are_apart(hub):
    single, base = entry(), entry(BASE_MODEL)
    ours, theirs = download(single), download(base)
    assert ours != theirs
    assert (theirs / BIG_WEIGHTS).exists() and not (ours / BIG_WEIGHTS).exists()
    assert model_status(single).available and model_status(base).available
    assert delete(single) > 0
    assert not ours.exists() and model_status(single).state is State.MISSING
    assert model_status(base).available and verify(base) == []
