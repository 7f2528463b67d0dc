"""The engine measures every take's camera against its rig as it stores the take: previz
takes of pure moves over a photograph score high, a still take of a moving rig scores
low, chained takes get their colour jump, and all of it lands in the manifest and on the
Take (a cached take too, and one stored before takes were measured gets measured); a
measurement that fails never fails the render."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from engine.backends.pictures import fit_cover, load_image
from engine.backends.previz import render_previz
from engine.media import adherence as measuring
from engine.media.adherence import colour_jump
from engine.media.video import first_frame, write_video
from engine.protocol import RenderInputs
from engine.render.worker import default_backend_factory
from studio.camera.rig import CameraRig, preset, with_move
from studio.jobs import Finished, GenerationRequest
from tests.engine.render.adherence_backends import StillBackend

PHOTO = Path(__file__).resolve().parents[2] / "data" / "coffee.jpg"
W, H = 416, 240


def photo_request(camera: CameraRig, **kw) -> GenerationRequest:
    fields = dict(
        prompt="a cup of coffee on a wooden table",
        model_id="previz",
        backend="previz",
        width=W,
        height=H,
        frames=24,
        fps=Fraction(24),
        camera=camera,
        keyframe_hash=hashlib.sha256(PHOTO.read_bytes()).hexdigest(),
    )
    fields.update(kw)
    return GenerationRequest(**fields)


def render(make_engine, recorder, request, inputs=None, backend=None):
    engine = make_engine(backend or default_backend_factory("previz"))
    job = engine.submit(request, inputs or RenderInputs(keyframe=PHOTO))
    done = recorder.wait_done(job, timeout=120)
    assert isinstance(done, Finished), done
    return done.result


PURE_MOVES = {
    "pan_left": preset("pan_left"),
    "pan_right": preset("pan_right"),
    "tilt_up": preset("tilt_up"),
    "tilt_down": preset("tilt_down"),
    "roll": with_move(CameraRig(), "roll", 0.0, 15.0),
    "zoom_in": preset("zoom_in"),
    "zoom_out": preset("zoom_out"),
    "dolly_in": preset("dolly_in"),
    "crane_up": preset("crane_up"),
}


@pytest.mark.parametrize("name", PURE_MOVES)
def test_previz_takes_of_pure_moves_score_95_or_more(make_engine, recorder, store, name):
    request = photo_request(PURE_MOVES[name])
    take = render(make_engine, recorder, request)
    result = take.adherence
    assert result is not None and result.score >= 95, result
    assert result.frames == 24 and result.coverage == 1.0
    # The manifest has it, beside the request and the file's hash it always had.
    manifest = json.loads(store.manifest_path(take.id).read_text())
    assert manifest["adherence"] == result.to_dict()
    assert "colour_jump" not in manifest and take.colour_jump is None
    assert store.verify(take.id) == store.find(take.id)


def test_the_expected_values_are_the_rigs(make_engine, recorder, store):
    take = render(make_engine, recorder, photo_request(preset("pan_right")))
    assert take.adherence.expected.pan_deg == pytest.approx(30.0, abs=1e-3)
    assert take.adherence.pan_deg == pytest.approx(30.0, abs=0.5)
    zoom = render(make_engine, recorder, photo_request(preset("zoom_out")))
    assert zoom.adherence.expected.zoom == pytest.approx(1 / 1.6, rel=1e-4)
    assert zoom.adherence.zoom == pytest.approx(1 / 1.6, rel=0.01)


@pytest.mark.parametrize("name", ["pan_right", "tilt_up", "zoom_in", "dolly_out"])
def test_a_still_take_of_a_moving_rig_scores_low(make_engine, recorder, store, name):
    take = render(make_engine, recorder, photo_request(preset(name)), backend=StillBackend())
    assert take.adherence.score < 50, take.adherence
    assert store.measures(take.id)["adherence"]["score"] == take.adherence.score


def test_a_cached_take_comes_back_with_its_measurements(make_engine, recorder, store):
    request = photo_request(preset("tilt_up"))
    first = render(make_engine, recorder, request)
    again = render(make_engine, recorder, request)
    assert again.id == first.id and again.adherence == first.adherence


def test_a_take_stored_before_measurements_is_measured_when_found(
    make_engine, recorder, store, tmp_path
):
    request = photo_request(preset("zoom_in"))
    frames = render_previz(fit_cover(load_image(PHOTO), W, H), request.camera, request.frames)
    older = write_video(tmp_path / "older.mp4", frames, request.fps)
    store.insert_file(request.hash, older, request.canonical_json())
    assert store.measures(request.hash) == {}
    take = render(make_engine, recorder, request)  # in the store already: nothing renders
    assert take.adherence is not None and take.adherence.score >= 95
    assert take.colour_jump is None  # the frame it would continue from is not known
    assert store.measures(request.hash) == {"adherence": take.adherence.to_dict()}
    assert store.verify(take.id) == store.find(take.id)


def test_a_chained_take_records_the_colour_jump_from_its_upstream(make_engine, recorder, store):
    upstream = fit_cover(load_image(PHOTO), W, H)
    bluer = np.clip(upstream.astype(int) + [-25, 0, 30], 0, 255).astype(np.uint8)
    # Its own keyframe (the photograph) after a bluer last frame upstream: a visible jump.
    request = photo_request(preset("pan_left"), continuity_source="f" * 64)
    take = render(make_engine, recorder, request, RenderInputs(keyframe=PHOTO, continuity=bluer))
    assert take.colour_jump is not None and take.colour_jump > 5
    first = first_frame(store.find(take.id))
    assert take.colour_jump == pytest.approx(colour_jump(bluer, first), abs=0.5)
    assert store.measures(take.id)["colour_jump"] == take.colour_jump

    # Starting on the upstream's own last frame, the join is seamless.
    seamless = photo_request(preset("pan_left"), continuity_source="e" * 64, keyframe_hash=None)
    joined = render(make_engine, recorder, seamless, RenderInputs(continuity=upstream))
    assert joined.colour_jump is not None and joined.colour_jump < 0.5


def test_a_measurement_that_fails_leaves_the_take_unscored(
    make_engine, recorder, store, monkeypatch, caplog
):
    calls: list[int] = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("no tracking today")

    monkeypatch.setattr(measuring, "measure_adherence", broken)
    request = photo_request(preset("pan_left"))
    take = render(make_engine, recorder, request)
    assert take.adherence is None and store.verify(take.id) == store.find(take.id)
    assert store.measures(take.id) == {"unmeasured": "no tracking today"}
    assert caplog.text.count("no tracking today") == 1 and len(calls) == 1
    # Found again, the take is not measured again: its manifest says why it is unscored.
    again = render(make_engine, recorder, request)
    assert again.id == take.id and again.adherence is None
    assert len(calls) == 1 and caplog.text.count("no tracking today") == 1
