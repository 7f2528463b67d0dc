"""`gallop models`: listing, details, verification of weights, a clear offline download error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.assets import assets_dir
from engine.cli import Exit, run_subcommand
from engine.cli.models import verify_folder


def test_list_shows_availability_size_licence_and_vram(capsys):
    assert run_subcommand(["models", "list"]) == Exit.OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "FAMILY", "HERE", "SIZE", "VRAM", "LICENCE"]
    tiny = next(line for line in lines if line.startswith("tiny-wan "))
    assert " yes " in tiny and "KB" in tiny
    wan = next(line for line in lines if line.startswith("wan2.1-t2v-1.3b "))
    assert " no " in wan and "8.2 GB" in wan and "Apache-2.0" in wan
    hunyuan = next(line for line in lines if line.startswith("hunyuanvideo "))
    assert "accept first" in hunyuan


def test_info_names_modes_and_where_it_lives(capsys):
    assert run_subcommand(["models", "info", "tiny-cogvideox"]) == Exit.OK
    out = capsys.readouterr().out
    assert "image-to-video through tiny-cogvideox-i2v" in out and "8n+1" in out
    assert run_subcommand(["models", "info", "wan2.1-t2v-1.3b"]) == Exit.OK
    assert "gallop models download wan2.1-t2v-1.3b" in capsys.readouterr().out
    assert run_subcommand(["models", "info", "nope"]) == Exit.FAILED


def test_verify_passes_the_bundled_models_and_catches_damage(tmp_path, capsys):
    assert run_subcommand(["models", "verify"]) == Exit.OK
    assert "tiny-ltx: ok" in capsys.readouterr().out
    copy = shutil.copytree(assets_dir() / "models" / "tiny-wan", tmp_path / "tiny-wan")
    assert verify_folder(copy) == []
    weights = next((copy / "transformer").glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:-100])
    assert any("transformer" in p and "unreadable" in p for p in verify_folder(copy))
    (copy / "vae" / "diffusion_pytorch_model.bin").write_bytes(b"pickle")
    assert any("only safetensors" in p for p in verify_folder(copy))


def test_download_offline_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("HF_HUB_DOWNLOAD_TIMEOUT", "2")
    assert run_subcommand(["models", "download", "wan2.1-t2v-1.3b"]) == Exit.FAILED
    err = capsys.readouterr().err
    assert "cannot download Wan-AI/Wan2.1-T2V-1.3B-Diffusers" in err
    assert "network" in err


@pytest.mark.parametrize("model", ["cogvideox-5b", "hunyuanvideo"])
def test_download_of_a_licensed_model_needs_acceptance(model, capsys):
    assert run_subcommand(["models", "download", model]) == Exit.FAILED
    assert "--accept-licence" in capsys.readouterr().err


def fake_hub_cache(root, repo: str, commit: str) -> None:
    """A model in the Hugging Face cache's layout, as a download leaves it."""
    storage = root / ("models--" + repo.replace("/", "--"))
    snapshot = storage / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "model_index.json").write_text("{}")
    (snapshot / "model.safetensors").write_bytes(b"")
    (storage / "refs").mkdir()
    (storage / "refs" / "main").write_text(commit)


def test_the_cache_is_read_where_huggingface_hub_finds_it(tmp_path, monkeypatch):
    from huggingface_hub import snapshot_download

    from engine.models.catalog import Catalog, _cached_snapshot, hub_cache, locate

    commit = "0123456789abcdef0123456789abcdef01234567"
    fake_hub_cache(tmp_path, "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", commit)
    monkeypatch.delenv("GALLOP_MODELS", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    assert hub_cache() == tmp_path
    repo = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
    expected = snapshot_download(repo, cache_dir=tmp_path, local_files_only=True)
    assert _cached_snapshot(repo) == Path(expected)
    entry = next(e for e in Catalog() if e.repo == repo)
    found = locate(entry)
    assert found.available and found.reason == "Hugging Face cache"
    assert found.path == Path(expected)
    # A repository that is not there is missing for both.
    assert _cached_snapshot("Wan-AI/not-downloaded") is None
    # Without HF_HUB_CACHE, HF_HOME/hub is the cache.
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert hub_cache() == tmp_path / "home" / "hub"
    assert not locate(entry).available
