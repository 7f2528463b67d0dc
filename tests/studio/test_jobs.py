"""Requests hash the same across runs and key order, and differently when anything changes."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from studio.camera.rig import preset
from studio.errors import ProjectError
from studio.jobs import (
    CameraMode,
    ExportRequest,
    GenerationRequest,
    Profile,
    Progress,
    Stage,
    canonical_json,
    content_hash,
)
from studio.timeline.timeline import Timeline


def request(**changes) -> GenerationRequest:
    base = GenerationRequest(
        prompt="a lighthouse at dusk, waves",
        negative_prompt="blurry",
        model_id="tiny-wan",
        width=64,
        height=48,
        frames=9,
        fps=Fraction(24),
        seed=7,
        camera=preset("dolly_in"),
    )
    return dataclasses.replace(base, **changes)


def test_hash_is_sha256_hex_and_stable_within_a_run():
    a, b = request(), request()
    assert a.hash == b.hash
    assert len(a.hash) == 64
    int(a.hash, 16)


def test_hash_is_stable_across_processes():
    code = "from tests.studio.test_jobs import request; print(request().hash)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123"},
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == request().hash


def test_hash_ignores_key_order():
    data = request().to_dict()
    shuffled = dict(reversed(list(data.items())))
    assert content_hash(shuffled) == content_hash(data) == request().hash
    assert canonical_json(shuffled) == request().canonical_json()


@pytest.mark.parametrize(
    "change",
    [
        {"prompt": "a lighthouse at dawn, waves"},
        {"negative_prompt": ""},
        {"model_id": "tiny-ltx"},
        {"width": 80},
        {"height": 64},
        {"frames": 13},
        {"fps": Fraction(25)},
        {"seed": 8},
        {"backend": "previz"},
        {"profile": Profile.FAST},
        {"camera": preset("pan_left")},
        {"camera_mode": CameraMode.GUIDED},
        {"keyframe_hash": "ab" * 32},
        {"reference_hashes": ("cd" * 32,)},
        {"continuity_source": "ef" * 32},
        {"steps": 4},
        {"guidance": 5.0},
        {"strength": 0.6},
        {"colour_match": True},
    ],
)
def test_any_change_changes_the_hash(change):
    assert request(**change).hash != request().hash


def test_negative_zero_is_zero():
    assert request(guidance=-0.0).hash == request(guidance=0.0).hash


def test_round_trip_through_json():
    original = request(keyframe_hash="ab" * 32, steps=3, guidance=4.5, strength=0.5)
    again = GenerationRequest.from_dict(json.loads(original.canonical_json()))
    assert again == original
    assert again.hash == original.hash


def test_bad_request_json_names_the_field():
    data = request().to_dict()
    data["frames"] = "nine"
    with pytest.raises(ProjectError) as info:
        GenerationRequest.from_dict(data)
    assert info.value.path == "$.request.frames"
    data = request().to_dict()
    data["surprise"] = 1
    with pytest.raises(ProjectError, match="unknown field"):
        GenerationRequest.from_dict(data)


def test_requests_refuse_impossible_sizes():
    with pytest.raises(ValueError):
        request(width=0)
    with pytest.raises(ValueError):
        request(frames=0)


def test_export_request_round_trip_and_hash():
    a = ExportRequest(timeline=Timeline(), output="out.mp4", take_media=(("b", "y"), ("a", "x")))
    b = ExportRequest(timeline=Timeline(), output="out.mp4", take_media=(("a", "x"), ("b", "y")))
    assert a.hash == b.hash  # media order does not matter
    assert ExportRequest.from_dict(json.loads(canonical_json(a.to_dict()))).hash == a.hash
    assert dataclasses.replace(a, output="other.mp4").hash != a.hash


def test_progress_fraction_is_clamped():
    assert Progress("j", 5, 10, Stage.DENOISING).fraction == 0.5
    assert Progress("j", 12, 10, Stage.DENOISING).fraction == 1.0
    assert Progress("j", 0, 0, Stage.LOADING).fraction == 0.0
