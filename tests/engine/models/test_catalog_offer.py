"""The catalog offers the tiny test models only when asked, and the environment can force
the choice either way."""

from __future__ import annotations

import pytest

from engine.models.catalog import SHOW_TEST_MODELS, Catalog, forced_test_models


def test_the_test_models_are_offered_only_when_asked():
    catalog = Catalog()
    tests = [e.id for e in catalog if e.test]
    assert "tiny-wan" in tests and "tiny-ltx" in tests
    plain = [e.id for e in catalog.offered()]
    assert "previz" in plain and "wan2.1-t2v-1.3b" in plain
    assert not set(tests) & set(plain)
    everything = [e.id for e in catalog.offered(test_models=True)]
    assert everything == catalog.ids()  # catalog order kept


@pytest.mark.parametrize(
    ("value", "forced"),
    [("1", True), ("yes", True), (" On ", True), ("0", False), ("false", False), ("", None)],
)
def test_the_environment_forces_the_test_models_in_or_out(monkeypatch, value, forced):
    monkeypatch.setenv(SHOW_TEST_MODELS, value)
    assert forced_test_models() is forced


def test_no_environment_leaves_the_choice_to_the_preference(monkeypatch):
    monkeypatch.delenv(SHOW_TEST_MODELS, raising=False)
    assert forced_test_models() is None


def test_hub_models_pin_full_commits_and_the_files_they_name_follow_them():
    """A revision the catalog pins is a whole commit hash (a branch would move under the
    take manifests that record it); the extra files a model names (draft LoRA, GGUF,
    checkpoint, upsampler) are asked for at their own pins."""
    import re

    from engine.models.catalog import Catalog
    from engine.models.recipes import draft_lora, gguf_file

    commit = re.compile(r"[0-9a-f]{40}")
    pinned = 0
    for entry in Catalog():
        if entry.repo is None:
            continue
        revisions = [entry.revision]
        revisions += [hub.revision for hub in (draft_lora(entry), gguf_file(entry)) if hub]
        if entry.single_file is not None:
            revisions.append(entry.single_file.revision)
        if entry.upsampler:
            revisions.append(entry.upsampler.get("revision", "main"))
        assert all(r == "main" or commit.fullmatch(r) for r in revisions), entry.id
        pinned += entry.revision != "main"
    assert pinned >= 15
    lora = draft_lora(Catalog().get("wan2.1-t2v-14b"))
    assert lora is not None and commit.fullmatch(lora.revision)
    assert f"/blob/{lora.revision}/" in lora.url
    assert f"--revision {lora.revision}" in lora.missing_text("the LoRA")
