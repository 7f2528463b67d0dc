"""Estimates before rendering: the published table, scaling from it, and frame-count notes."""

from __future__ import annotations

import copy
import json
from dataclasses import replace

import pytest

from engine.models.catalog import Catalog
from engine.models.estimates import (
    ESTIMATES_FILE,
    FAMILIES,
    TableError,
    duration_text,
    estimate,
    frame_note,
    load_table,
    parse_table,
)
from studio.jobs import Profile

CATALOG = Catalog()


def raw_table() -> dict:
    return json.loads(ESTIMATES_FILE.read_text(encoding="utf-8"))


def test_the_table_loads_and_every_row_is_sourced():
    table = load_table()
    assert len(table.figures) >= 8
    families = {f.family for f in table.figures}
    assert families == set(FAMILIES)  # every diffusion family has published figures
    for figure in table.figures:
        assert figure.sources and all(s.url.startswith("https://") for s in figure.sources)
        assert all(s.quote.strip() for s in figure.sources)
        assert figure.seconds is not None or figure.vram_gb is not None
        for value in (figure.width, figure.height, figure.frames, figure.seconds, figure.vram_gb):
            assert value is None or value > 0
        for model_id in figure.models:
            entry = CATALOG.get(model_id)
            assert entry.family == figure.family and not entry.test
    for factor in table.factors:
        assert factor.sources and factor.sources[0].url.startswith("https://")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda row: row.update(sources=[]), "at least one source"),
        (lambda row: row["sources"][0].update(url="ftp://example"), "https URL"),
        (lambda row: row["sources"][0].update(quote=" "), "quoted text"),
        (lambda row: row.update(seconds=-3), "positive number"),
        (lambda row: row.update(vram_gb=True), "positive number"),
        (lambda row: row.update(family="mochi"), "unknown family"),
        (lambda row: row.update(profile="turbo"), "unknown profile"),
        (lambda row: row.update(seconds=None, vram_gb=None), "says nothing"),
        (lambda row: row.update(models=["no-such-model"]), "unknown models"),
    ],
)
def test_broken_rows_are_refused(change, message):
    raw = copy.deepcopy(raw_table())
    change(raw["rows"][0])
    with pytest.raises(TableError, match=message):
        parse_table(raw, set(CATALOG.ids()))


def test_a_published_setting_gives_its_own_figures():
    wan = estimate(CATALOG.get("wan2.1-t2v-1.3b"), 832, 480, 81, Profile.LOWVRAM, 50)
    assert (wan.seconds, wan.vram_gb, wan.gpu, wan.exact) == (240, 8.19, "RTX 4090", True)
    assert "https://github.com/Wan-Video/Wan2.1" in wan.source
    assert "published" in wan.basis and "scaled" not in wan.basis
    assert wan.summary == "about 4 min, 8.19 GB on an RTX 4090"
    hunyuan = estimate(CATALOG.get("hunyuanvideo"), 1280, 720, 129, Profile.QUALITY, 50)
    assert (hunyuan.seconds, hunyuan.vram_gb, hunyuan.exact) == (1904.08, 60, True)
    assert "xdit-project" in hunyuan.source and "Tencent/HunyuanVideo" in hunyuan.source


def test_time_scales_with_frames_size_and_steps():
    entry = CATALOG.get("wan2.1-t2v-1.3b")
    by_frames = [estimate(entry, 832, 480, n, Profile.LOWVRAM).seconds for n in (17, 41, 61, 81)]
    assert by_frames == sorted(by_frames) and len(set(by_frames)) == 4
    by_size = [
        estimate(entry, w, h, 81, Profile.LOWVRAM).seconds
        for w, h in ((480, 320), (640, 480), (832, 480), (1280, 720))
    ]
    assert by_size == sorted(by_size) and len(set(by_size)) == 4
    half = estimate(entry, 832, 480, 41, Profile.LOWVRAM)
    assert half.seconds == pytest.approx(240 * 41 / 81)
    assert "scaled" in half.basis and not half.exact
    assert estimate(entry, 832, 480, 81, Profile.LOWVRAM, 25).seconds == pytest.approx(120)


def test_memory_is_interpolated_between_published_sizes_never_beyond():
    entry = CATALOG.get("hunyuanvideo")
    sizes = [(640, 352), (960, 544), (1104, 624), (1280, 720), (1920, 1088)]
    vram = [estimate(entry, w, h, 129).vram_gb for w, h in sizes]
    assert vram == sorted(vram)
    assert vram[0] == vram[1] == 45 and vram[3] == vram[4] == 60  # the ends: published figures
    assert 45 < vram[2] < 60
    assert "interpolated" in estimate(entry, 1104, 624, 129).basis


def test_profiles_use_only_sourced_factors():
    cog = CATALOG.get("cogvideox-5b")
    low = estimate(cog, 720, 480, 49, Profile.LOWVRAM)
    quality = estimate(cog, 720, 480, 49, Profile.QUALITY)
    assert (low.vram_gb, low.exact) == (5, True)
    assert quality.vram_gb == pytest.approx(15)  # the README: about 3 times without offload
    assert quality.seconds == low.seconds  # no consistent time factor was published
    assert "x3" in quality.basis and "time measured with the lowvram setup" in quality.basis
    wan_quality = estimate(CATALOG.get("wan2.1-t2v-1.3b"), 832, 480, 81, Profile.QUALITY)
    assert wan_quality.seconds == 240 and not wan_quality.exact
    assert "measured with CPU offload" in wan_quality.basis
    fast = estimate(CATALOG.get("hunyuanvideo"), 1280, 720, 129, Profile.FAST)
    assert fast.seconds == 1904.08 and "figure for the quality profile" in fast.basis


def test_models_without_figures_say_so():
    none = estimate(CATALOG.get("wan2.1-t2v-14b"), 1280, 720, 81)
    assert (none.seconds, none.vram_gb) == (None, None)
    assert none.basis == "no published figure for Wan 2.1 T2V 14B"
    mystery = replace(CATALOG.get("wan2.1-t2v-14b"), id="mochi-1", family="mochi", name="Mochi 1")
    assert estimate(mystery, 848, 480, 85).basis == "no published figure for Mochi 1"
    assert estimate(CATALOG.get("tiny-wan"), 64, 64, 9).basis.startswith("test model")
    assert estimate(CATALOG.get("previz"), 832, 480, 121).basis.startswith("previz")
    a14b = estimate(CATALOG.get("wan2.2-t2v-a14b"), 1280, 720, 81, Profile.LOWVRAM)
    assert a14b.seconds is None and a14b.vram_gb == 80 and "time: none published" in a14b.basis
    assert a14b.summary.startswith("80 GB on one GPU") and a14b.gpu == "one GPU with 80 GB"


def test_long_shots_are_estimated_segment_by_segment():
    cog = CATALOG.get("cogvideox-5b")  # 49-frame clips, continued by its image-to-video sibling
    one = estimate(cog, 720, 480, 49, Profile.LOWVRAM)
    long = estimate(cog, 720, 480, 120, Profile.LOWVRAM)
    assert long.basis.startswith("3 segments of up to 49 frames")
    assert long.seconds > 2 * one.seconds and long.vram_gb == one.vram_gb
    clamped = estimate(CATALOG.get("wan2.1-t2v-1.3b"), 832, 480, 200, Profile.LOWVRAM)
    assert clamped.seconds == 240 and "cannot continue a clip" in clamped.basis


def test_frame_notes_name_the_rule_and_the_snap():
    wan = CATALOG.get("wan2.1-t2v-1.3b")
    assert frame_note(wan, 70) == "70 frames -> 69 for the 4n+1 rule of Wan 2.1 T2V 1.3B"
    assert frame_note(wan, 81) == "81 frames (fits the 4n+1 rule of Wan 2.1 T2V 1.3B)"
    assert "cannot continue a clip" in frame_note(wan, 200)
    assert frame_note(CATALOG.get("ltx-video"), 120).startswith("120 frames -> 121 for the 8n+1")
    assert "3 overlapping segments" in frame_note(CATALOG.get("hunyuanvideo"), 300)
    assert frame_note(CATALOG.get("previz"), 50) is None


def test_durations_read_naturally():
    assert [duration_text(s) for s in (2, 89, 240, 1904.08, 6043.88)] == [
        "2 s",
        "89 s",
        "4 min",
        "32 min",
        "1.7 h",
    ]


def test_the_newer_models_have_their_published_figures_or_say_none():
    a14b = estimate(CATALOG.get("wan2.2-i2v-a14b"), 1280, 720, 81, Profile.LOWVRAM, 40)
    assert (a14b.seconds, a14b.vram_gb, a14b.gpu) == (None, 80, "one GPU with 80 GB")
    assert "wan_i2v_A14B.py" in a14b.source and "time: none published" in a14b.basis
    for model_id in ("hunyuanvideo-1.5-480p", "hunyuanvideo-1.5-480p-i2v"):
        hunyuan = estimate(CATALOG.get(model_id), 848, 480, 121, Profile.LOWVRAM, 50)
        assert hunyuan.vram_gb == 14 and "Tencent-Hunyuan/HunyuanVideo-1.5" in hunyuan.source
        assert "for no stated size" in hunyuan.basis
    for model_id in (
        "wan2.1-flf2v-14b-720p",
        "wan2.1-vace-1.3b",
        "wan2.1-vace-14b",
        "ltx-video-0.9.8-13b-distilled",
        "ltx-video-0.9.8-2b-distilled",
        "skyreels-v2-df-1.3b-540p",
    ):
        entry = CATALOG.get(model_id)
        none = estimate(entry, entry.width, entry.height, entry.frames)
        assert (none.seconds, none.vram_gb) == (None, None)
        assert none.basis == f"no published figure for {entry.name}"
        assert entry.vram_gb is None and entry.vram_text == "GPU memory not published"


def test_diffusion_forcing_renders_a_long_shot_in_one_clip():
    skyreels = CATALOG.get("skyreels-v2-df-1.3b-540p")
    assert skyreels.max_frames is None
    long = estimate(skyreels, 960, 544, 24 * 30)
    assert "segments" not in long.basis
    assert frame_note(skyreels, 24 * 30 + 1).startswith("721 frames (fits the 4n+1 rule")
