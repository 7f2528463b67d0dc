"""Thousands of corrupted and hostile variants of the example project load or are refused
with one clean line, without hanging, without unbounded memory and without changing a file.

The suite checks DEFAULT_VARIANTS of them; GALLOP_CORRUPT_VARIANTS=10000 checks 10,000.
"""

from __future__ import annotations

from tests.corrupt_projects import (
    KINDS,
    _quotas,
    all_wrong_types,
    run,
    variant_count,
    variants,
)


def test_corrupt_variants_load_or_are_refused_cleanly(tmp_path):
    chosen = variants(variant_count())
    assert {v.kind for v in chosen} == set(KINDS)
    result = run(chosen, tmp_path)
    assert not result["failures"], "\n".join(result["failures"])
    tally = result["tally"]
    # Each kind reached the loader and most were refused; some kinds also load (a flipped
    # letter in a prompt, a symlink to a regular file), and those were saved and read back.
    assert set(tally) == set(KINDS)
    assert all(counts.get("refused") for counts in tally.values()), tally
    assert sum(counts.get("loaded", 0) for counts in tally.values()), tally


def test_ten_thousand_variants_put_every_other_type_at_every_json_path():
    assert _quotas(10_000)["wrong_types"] >= len(all_wrong_types())
    assert sum(_quotas(10_000).values()) == 10_000


def test_the_variants_are_the_same_on_every_run():
    first, again = variants(300), variants(300)
    assert [str(v) for v in first] == [str(v) for v in again]
    assert [v.raw for v in first] == [v.raw for v in again]
