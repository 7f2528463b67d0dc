"""Downloading a catalog model from a local stand-in for the Hugging Face Hub: only the
pipeline's files, progress, stop and resume from the partial file (also after the process
was killed), a corrupted file caught by verify, the disk and licence refusals, delete."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from engine.backends.base import RenderError
from engine.cli import Exit, run_subcommand
from engine.models.catalog import Catalog, locate, locate_upsampler, resolve, resolve_upsampler
from engine.models.download import (
    DiskSpaceError,
    DownloadControl,
    DownloadStopped,
    LicenceError,
    download,
)
from engine.models.hub import HubError
from engine.models.installed import (
    PARTIAL,
    State,
    delete,
    model_status,
    read_record,
    verify,
)
from engine.models.settings import licence_accepted
from engine.render.reporter import eta_text
from studio.project.io import load_project
from studio.project.takes import TakeStore
from tests.engine.models.hub_server import (
    HELD,
    LICENSED,
    MODEL,
    NOT_PIPELINE,
    REPO,
    TINY,
    Repo,
    serve,
)
from tests.projects import small_project

ROOT = Path(__file__).resolve().parents[3]
PIPELINE = sorted(
    str(p.relative_to(TINY)) for p in TINY.rglob("*") if p.is_file() and p.name != "gallop.json"
)


@pytest.fixture
def hub(monkeypatch, tmp_path):
    server = serve(monkeypatch, tmp_path)
    yield server
    server.stop()


def entry(model_id: str = MODEL):
    return Catalog().get(model_id)


def fetched(hub, method: str = "GET") -> set[str]:
    """The repository files asked for with `method` (the resolve URLs)."""
    marker = f"/{REPO}/resolve/"
    return {p.split(marker, 1)[1].split("/", 1)[1] for p in hub.log.paths(method) if marker in p}


def test_only_the_pipeline_files_download_and_the_model_is_installed(hub):
    model = entry()
    assert model_status(model).state is State.MISSING
    folder = download(model)
    assert fetched(hub) == set(PIPELINE)
    assert not fetched(hub) & set(NOT_PIPELINE)
    assert not fetched(hub, "HEAD") & set(NOT_PIPELINE)
    for name in PIPELINE:
        assert (folder / name).read_bytes() == (TINY / name).read_bytes()
    assert not list(folder.rglob("*" + PARTIAL))
    status = model_status(model)
    assert status.state is State.INSTALLED and status.folder == folder
    assert status.download_size == sum((TINY / n).stat().st_size for n in PIPELINE)
    assert status.size_on_disk >= status.download_size
    record = read_record(folder)
    assert record.repo == REPO and record.revision == "main" and record.complete
    assert record.commit == hub.repos[REPO].commit
    assert locate(model).available and locate(model).path == folder
    assert verify(model) == []


def test_diffusers_chooses_the_same_files(hub, tmp_path):
    # In a process of its own: diffusers and huggingface_hub read HF_ENDPOINT on import.
    code = "import sys; from diffusers import DiffusionPipeline as P; "
    code += "P.download(sys.argv[1], cache_dir=sys.argv[2])"
    subprocess.run(
        [sys.executable, "-c", code, REPO, str(tmp_path / "diffusers-cache")],
        env=dict(os.environ),
        check=True,
        capture_output=True,
    )
    theirs = fetched(hub)
    assert theirs == set(PIPELINE)
    hub.reset_log()
    download(entry())
    assert fetched(hub) == theirs


def test_progress_counts_bytes_speed_and_time_left(hub):
    events = []
    ticks = itertools.count()
    download(entry(), on_progress=events.append, clock=lambda: float(next(ticks)))
    total = events[0].total
    assert total == sum((TINY / n).stat().st_size for n in PIPELINE)
    assert [e.done for e in events] == sorted(e.done for e in events)
    assert events[-1].done == total and events[-1].fraction == 1
    assert events[-1].files_done == events[-1].files_total == len(PIPELINE)
    timed = [e for e in events if e.speed]
    assert timed, "the speed is measured once bytes arrive over time"
    middle = next(e for e in timed if e.done < total)
    assert middle.eta == eta_text((total - middle.done) / middle.speed)
    assert f"of {middle.text.split(' of ')[1].split(' · ')[0]}" in middle.text
    assert "/s" in middle.text and "left" in middle.text


def stop_in_the_middle(hub, control):
    """A progress callback that stops the download once part of the held file is written
    (the server sends no more of it until released)."""

    def on_progress(event) -> None:
        if event.file == HELD and 0 < event.file_done < event.file_total:
            control.stop()
            hub.release()

    return on_progress


def test_a_stopped_download_resumes_from_its_partial_file(hub):
    model = entry()
    size = (TINY / HELD).stat().st_size
    hub.hold(HELD, after=size // 3)
    control = DownloadControl()
    with pytest.raises(DownloadStopped):
        download(model, on_progress=stop_in_the_middle(hub, control), control=control)
    folder = model_status(model).folder
    partial = folder / (HELD + PARTIAL)
    kept = partial.stat().st_size
    assert 0 < kept <= size // 3
    status = model_status(model)
    assert status.state is State.PARTIAL and "partly downloaded" in status.detail
    assert not locate(model).available
    done_before = {n for n in PIPELINE if (folder / n).exists()}

    hub.reset_log()
    download(model)
    assert hub.log.sent[HELD] == size - kept < size
    assert ("GET", f"/{REPO}/resolve/{hub.repos[REPO].commit}/{HELD}", f"bytes={kept}-") in (
        hub.log.requests
    )
    assert not fetched(hub) & done_before  # whole files are not fetched again
    assert (folder / HELD).read_bytes() == (TINY / HELD).read_bytes()
    assert model_status(model).state is State.INSTALLED and verify(model) == []


def test_a_killed_download_command_resumes(hub):
    size = (TINY / HELD).stat().st_size
    hub.hold(HELD, after=size // 2)
    child = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "models", "download", MODEL],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    try:
        # Plain lines (not a terminal) come at each tenth of the bytes, naming the file in
        # progress: a line naming the held file comes after some of it was written.
        for line in child.stderr:
            seen.append(line)
            if HELD in line:
                break
        else:
            pytest.fail("the download ended without reaching the held file:\n" + "".join(seen))
        child.send_signal(signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()
        child.stderr.close()
        hub.release()
    model = entry()
    folder = model_status(model).folder
    kept = (folder / (HELD + PARTIAL)).stat().st_size
    assert 0 < kept <= size // 2
    assert model_status(model).state is State.PARTIAL

    hub.reset_log()
    download(model)
    assert hub.log.sent[HELD] == size - kept
    assert verify(model) == []


def test_verify_finds_a_corrupted_file_and_a_download_repairs_it(hub):
    model = entry()
    folder = download(model)
    weights = folder / "transformer" / "diffusion_pytorch_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF  # same size, another byte: only the checksum sees it
    weights.write_bytes(bytes(data))
    assert model_status(model).state is State.INSTALLED  # sizes look right
    seen = []
    problems = verify(model, progress=lambda done, total, name: seen.append((done, total)))
    assert problems == [
        "transformer/diffusion_pytorch_model.safetensors: damaged (its checksum is not the Hub's)"
    ]
    assert seen[-1][0] == seen[-1][1]
    status = model_status(model)
    assert status.state is State.DAMAGED and "transformer" in status.detail
    assert not locate(model).available

    hub.reset_log()
    download(model)
    assert fetched(hub) == {"transformer/diffusion_pytorch_model.safetensors", "model_index.json"}
    assert verify(model) == [] and model_status(model).state is State.INSTALLED


def test_a_truncated_file_is_damaged_without_reading_it(hub):
    model = entry()
    folder = download(model)
    weights = folder / "vae" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    status = model_status(model)
    assert status.state is State.DAMAGED and "vae/diffusion_pytorch_model.safetensors" in (
        status.detail
    )


def test_a_disk_too_small_is_refused_before_any_weights(hub):
    model = entry()
    total = sum((TINY / n).stat().st_size for n in PIPELINE)
    asked = []

    def space(folder: Path) -> int:
        asked.append(folder)
        return total - 1

    with pytest.raises(DiskSpaceError, match=r"needs 341\.7 KB more .* has 341\.7 KB free"):
        download(model, space=space)
    assert asked == [model_status(model).folder or Path(os.environ["GALLOP_MODELS"]) / "tiny-wan"]
    assert fetched(hub) <= {"model_index.json"}  # what the plan reads; no weights
    assert model_status(model).state is State.MISSING
    download(model, space=lambda folder: total)  # exactly enough is enough


def test_a_licence_is_asked_once_and_remembered(hub):
    model = entry(LICENSED)
    with pytest.raises(LicenceError, match="Tiny Test Licence"):
        download(model)
    assert hub.log.requests == []  # refused before any request
    assert not licence_accepted(LICENSED, "Tiny Test Licence")
    download(model, accept_licence=True)
    assert licence_accepted(LICENSED, "Tiny Test Licence")
    delete(model)
    download(model)  # accepted once: no need to say it again
    with pytest.raises(LicenceError):  # a new licence is asked again
        download(replace(model, licence="Tiny Test Licence 2"))


def test_delete_removes_the_model(hub):
    model = entry()
    folder = download(model)
    assert delete(model) > 0
    assert not folder.exists() and model_status(model).state is State.MISSING
    assert delete(model) == 0
    with pytest.raises(Exception, match="bundled"):
        delete(Catalog().get("tiny-wan"))


def test_hub_errors_read_as_sentences(hub):
    hub.repos[REPO].gated = True
    with pytest.raises(HubError, match="gated.*hf auth login"):
        download(entry())
    hub.repos[REPO].gated = False
    with pytest.raises(HubError, match="has no revision 'v9'"):
        download(replace(entry(), revision="v9"))
    with pytest.raises(HubError, match="not on the Hugging Face Hub"):
        download(replace(entry(), repo="gallop-test/nothing"))


def test_a_pinned_commit_downloads_that_commit(hub):
    commit = hub.repos[REPO].commit
    folder = download(replace(entry(), revision=commit))
    assert read_record(folder).revision == commit
    assert all(f"/resolve/{commit}/" in p for p in hub.log.paths() if "/resolve/" in p)


def test_the_command_downloads_with_plain_progress_lines(hub, capsys):
    assert run_subcommand(["models", "download", LICENSED]) == Exit.FAILED
    assert "--accept-licence" in capsys.readouterr().err
    assert run_subcommand(["models", "download", LICENSED, "--accept-licence"]) == Exit.OK
    out, err = capsys.readouterr()
    assert f"{LICENSED}: ready in" in out
    lines = [line for line in err.splitlines() if "%" in line]
    assert lines[-1].startswith("#" * 24) and "100%" in lines[-1]
    assert "341.7 KB of 341.7 KB" in lines[-1]
    assert run_subcommand(["models", "list"]) == Exit.OK
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(LICENSED))
    assert " yes " in row
    assert run_subcommand(["models", "verify", LICENSED]) == Exit.OK


def test_a_stop_from_another_thread_ends_a_waiting_download(hub):
    """Stopping while the server sends nothing more (a stalled connection) ends it at
    once, keeping what was fetched."""
    size = (TINY / HELD).stat().st_size
    hub.hold(HELD, after=size // 4)
    control = DownloadControl()
    outcome = []

    def run() -> None:
        try:
            download(entry(), control=control)
        except DownloadStopped:
            outcome.append("stopped")

    thread = threading.Thread(target=run)
    thread.start()
    assert hub.held.wait(timeout=60)
    control.stop()  # closes the connection it waits on: no need for the server to go on
    thread.join(timeout=60)
    hub.release()
    assert outcome == ["stopped"]
    assert model_status(entry()).state is State.PARTIAL


def test_a_downloaded_model_renders_and_its_takes_name_the_commit(hub, tmp_path):
    download(entry())
    folder = small_project(tmp_path / "Small.gallop", shots=1)
    args = ["render", str(folder), "--backend", "diffusers", "--model", MODEL]
    assert run_subcommand(args) == Exit.OK
    take = load_project(folder).shot("s0").current_take
    manifest = TakeStore(folder / "takes").manifest(take.id)
    assert manifest.model == {
        "id": MODEL,
        "source": "models folder",
        "repo": REPO,
        "revision": "main",
        "commit": hub.repos[REPO].commit,
    }
    assert manifest.request["model_id"] == MODEL  # the take's id is the request's alone


def test_an_upsampler_comes_with_its_pipeline_and_resolve_downloads_only_when_asked(
    hub, tmp_path, monkeypatch
):
    upscaler = "gallop-test/upscaler"
    hub.repos[upscaler] = Repo(
        upscaler,
        {
            "latent_upsampler/config.json": b'{"_class_name": "LTXLatentUpsamplerModel"}',
            "latent_upsampler/diffusion_pytorch_model.safetensors": bytes(5000),
            "latent_upsampler/diffusion_pytorch_model.bin": bytes(5000),
            "other/diffusion_pytorch_model.safetensors": bytes(9000),
        },
    )
    catalog = json.loads(Path(os.environ["GALLOP_CATALOG"]).read_text())
    raw = {**catalog["models"][0], "id": "hub-staged"}
    raw["upsampler"] = {"repo": upscaler, "path": None, "subfolder": "latent_upsampler"}
    Path(os.environ["GALLOP_CATALOG"]).write_text(json.dumps({"models": [raw]}))
    staged = Catalog().get("hub-staged")
    with pytest.raises(RenderError, match="not available"):
        resolve(staged)
    assert hub.log.requests == []  # nothing goes online unless asked
    folder = resolve(staged, allow_download=True)
    assert folder == model_status(staged).folder and model_status(staged).available
    marker = f"/{upscaler}/resolve/"
    second = {p.split(marker, 1)[1].split("/", 1)[1] for p in hub.log.paths() if marker in p}
    assert second == {
        "latent_upsampler/config.json",
        "latent_upsampler/diffusion_pytorch_model.safetensors",
    }
    found = locate_upsampler(staged)
    assert found.available and found.path == Path(os.environ["GALLOP_MODELS"]) / "upscaler"
    assert resolve_upsampler(staged) == found.path
