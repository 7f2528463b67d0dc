"""What the diffusers backend hands each pipeline class: the call arguments it builds from
the request, its pictures and the catalog entry's settings, read off the real tiny twins."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.backends.base import NullContext, RenderError, RenderInputs
from engine.backends.diffusers import DiffusersBackend
from engine.backends.pipeline_calls import df_windows, stage_size
from engine.models.catalog import Catalog
from studio.camera.rig import preset
from studio.jobs import CameraMode, GenerationRequest


@pytest.fixture(scope="module")
def backend():
    yield (instance := DiffusersBackend())
    instance.unload()


def png(tmp_path, name: str, value: int):
    path = tmp_path / name
    cv2.imwrite(str(path), np.full((64, 64, 3), value, np.uint8))
    return path


def call(backend, model_id: str, inputs: RenderInputs | None = None, **fields):
    """The keyword arguments the pipeline of the request's mode is called with."""
    entry = Catalog().get(model_id)
    base = dict(
        prompt="a lighthouse",
        model_id=model_id,
        width=64,
        height=64,
        frames=9,
        fps=entry.fps,
        seed=3,
        steps=2,
        camera=preset("static"),
    )
    base.update(fields)
    request = GenerationRequest(**base)
    inputs = inputs or RenderInputs()
    entry, mode = backend._plan(request, inputs)
    pipe = backend._ensure(entry, mode, request.profile, NullContext())
    return pipe, backend._call_kwargs(entry, mode, request, inputs, NullContext(), pipe)


def grey_levels(images) -> list[int]:
    return [int(np.asarray(image).mean()) for image in images]


def test_wan22_a14b_gets_the_second_expert_guidance_and_boundary(backend, tmp_path):
    pipe, kwargs = call(
        backend,
        "tiny-wan22-a14b",
        RenderInputs(keyframe=png(tmp_path, "k.png", 40)),
        camera_mode=CameraMode.KEYFRAME,
    )
    assert type(pipe).__name__ == "WanImageToVideoPipeline"
    assert pipe.transformer_2 is not None and pipe.config.boundary_ratio == 0.9
    assert (kwargs["guidance_scale"], kwargs["guidance_scale_2"]) == (3.5, 2.0)
    assert grey_levels([kwargs["image"]]) == [40] and "last_image" not in kwargs


def test_flf2v_gets_the_first_and_the_last_picture(backend, tmp_path):
    inputs = RenderInputs(
        keyframe=png(tmp_path, "first.png", 40), last_frame=png(tmp_path, "last.png", 200)
    )
    pipe, kwargs = call(backend, "tiny-wan-flf2v", inputs, camera_mode=CameraMode.KEYFRAME)
    assert pipe.image_encoder is not None
    assert grey_levels([kwargs["image"], kwargs["last_image"]]) == [40, 200]
    assert kwargs["image"].size == kwargs["last_image"].size == (64, 64)


def test_vace_keeps_the_first_and_last_frames_and_generates_between(backend, tmp_path):
    inputs = RenderInputs(
        keyframe=png(tmp_path, "first.png", 40),
        last_frame=png(tmp_path, "last.png", 200),
        references=(png(tmp_path, "ref.png", 90),),
    )
    _, kwargs = call(backend, "tiny-wan-vace", inputs, camera_mode=CameraMode.KEYFRAME)
    assert len(kwargs["video"]) == len(kwargs["mask"]) == 9
    assert grey_levels(kwargs["video"]) == [40] + [128] * 7 + [200]
    assert grey_levels(kwargs["mask"]) == [0] + [255] * 7 + [0]  # black: kept
    assert grey_levels(kwargs["reference_images"]) == [90]
    assert kwargs["num_frames"] == 9


def test_vace_takes_the_previz_as_a_control_video(backend):
    _, kwargs = call(backend, "tiny-wan-vace", camera_mode=CameraMode.GUIDED, strength=0.6)
    assert len(kwargs["video"]) == 9 and "mask" not in kwargs
    assert kwargs["conditioning_scale"] == 0.6
    _, plain = call(backend, "tiny-wan-vace")
    assert "video" not in plain and "mask" not in plain


def test_ltx_condition_puts_the_keyframes_at_the_first_and_last_frame(backend, tmp_path):
    inputs = RenderInputs(
        keyframe=png(tmp_path, "first.png", 40), last_frame=png(tmp_path, "last.png", 200)
    )
    _, kwargs = call(backend, "tiny-ltx-condition", inputs, camera_mode=CameraMode.KEYFRAME)
    conditions = kwargs["conditions"]
    assert [c.frame_index for c in conditions] == [0, 8]
    assert grey_levels([c.image for c in conditions]) == [40, 200]
    # The distilled schedule and decode noise of the model card.
    assert kwargs["timesteps"] == [1000, 725] and kwargs["num_inference_steps"] == 2
    assert (kwargs["decode_timestep"], kwargs["decode_noise_scale"]) == (0.05, 0.025)
    assert kwargs["guidance_scale"] == 1.0 and kwargs["frame_rate"] == 24


def test_ltx_another_step_count_drops_the_published_schedule(backend):
    _, kwargs = call(backend, "tiny-ltx-condition", steps=3)
    assert "timesteps" not in kwargs and kwargs["num_inference_steps"] == 3


def test_ltx_continues_an_extension_from_all_its_lead_in_frames(backend):
    lead = np.zeros((5, 64, 64, 3), np.uint8)
    _, kwargs = call(backend, "tiny-ltx-condition", RenderInputs(lead_in=lead))
    (condition,) = kwargs["conditions"]
    assert condition.frame_index == 0 and len(condition.video) == 5


def test_ltx_last_segment_continues_the_lead_in_and_ends_on_the_end_keyframe(backend, tmp_path):
    lead = np.zeros((5, 64, 64, 3), np.uint8)
    inputs = RenderInputs(lead_in=lead, last_frame=png(tmp_path, "last.png", 200))
    _, kwargs = call(backend, "tiny-ltx-condition", inputs, frames=17)
    first, last = kwargs["conditions"]
    assert (first.frame_index, len(first.video)) == (0, 5)
    assert last.frame_index == 16 and grey_levels([last.image]) == [200]


def test_skyreels_windows_only_a_clip_longer_than_one_window(backend):
    _, short = call(backend, "tiny-skyreels-df", frames=9)
    assert short["overlap_history"] is None and short["base_num_frames"] == 9
    _, long = call(backend, "tiny-skyreels-df", frames=25)
    assert (long["base_num_frames"], long["overlap_history"]) == (9, 5)
    assert long["addnoise_condition"] == 20 and long["ar_step"] == 0 and long["fps"] == 24
    assert df_windows(long) == 5 and df_windows(short) == 1


def test_skyreels_image_to_video_ends_on_the_end_keyframe(backend, tmp_path):
    inputs = RenderInputs(
        keyframe=png(tmp_path, "first.png", 40), last_frame=png(tmp_path, "last.png", 200)
    )
    pipe, kwargs = call(backend, "tiny-skyreels-df", inputs, camera_mode=CameraMode.KEYFRAME)
    assert type(pipe).__name__ == "SkyReelsV2DiffusionForcingImageToVideoPipeline"
    assert grey_levels([kwargs["image"], kwargs["last_image"]]) == [40, 200]


def test_a_class_that_cannot_take_a_picture_is_an_error(backend, tmp_path):
    from engine.backends import pipeline_calls

    entry = Catalog().get("tiny-wan")
    pipe = backend._ensure(
        entry, "t2v", GenerationRequest("x", "tiny-wan", 64, 64, 9).profile, NullContext()
    )
    with pytest.raises(RenderError, match="cannot take image"):
        pipeline_calls.check_conditioning(pipe, entry, {"image": object()})


def test_the_first_stage_is_two_thirds_on_the_latent_grid():
    assert stage_size(1216, 0.6667, 32) == 800
    assert stage_size(704, 0.6667, 32) == 448
    assert stage_size(64, 0.6667, 32) == 32
    assert stage_size(16, 0.6667, 32) == 32  # one cell at least
