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
