"""Chained shots: upstream hash in the request, staleness, colour matched joins, the bible."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np

from engine.media.continuity import join_difference
from engine.media.video import first_frame, last_frame
from engine.render.batch import BatchRenderer
from engine.render.planning import plan_render, shot_status
from studio.camera.rig import preset
from studio.project.io import load_project, save_project
from studio.project.model import Character, Project, Style


def chain_project(folder, model: str = "previz", match: bool = True):
    project = Project(title="Chain", fps=Fraction(16), width=64, height=64, default_model=model)
    project.shots = [
        project.new_shot(
            id="a", prompt="the storm", duration=0.5, seed=1, camera=preset("pan_left")
        ),
        project.new_shot(
            id="b",
            prompt="the lamp",
            duration=0.5,
            seed=2,
            continue_from_previous=True,
            match_colour=match,
        ),
        project.new_shot(id="c", prompt="the ship", duration=0.5, seed=3),
    ]
    save_project(project, folder)
    return folder


def test_changing_the_upstream_shot_re_renders_only_it_and_its_chain(tmp_path):
    folder = chain_project(tmp_path / "C.gallop")
    assert sorted(BatchRenderer(folder).run().rendered) == ["a", "b", "c"]
    first = load_project(folder)
    assert first.shot("b").current_take.request.continuity_source == first.shot("a").selected_take
    project = load_project(folder)
    project.shot("a").prompt = "the storm at its height"
    save_project(project, folder)
    statuses = {s.id: shot_status(project, folder, s) for s in project.shots}
    assert statuses == {"a": "stale", "b": "stale", "c": "rendered"}
    result = BatchRenderer(folder).run()
    assert result.rendered == ["a", "b"] and result.up_to_date == ["c"]
    again = load_project(folder)
    assert again.shot("b").current_take.request.continuity_source == again.shot("a").selected_take
    assert len(again.shot("b").takes) == 2  # the old take is kept to compare
    assert {shot_status(again, folder, s) for s in again.shots} == {"rendered"}


def test_chained_joins_are_colour_matched_unless_turned_off(tmp_path):
    diffs = {}
    for match in (True, False):
        folder = chain_project(tmp_path / f"M{match}.gallop", model="tiny-wan", match=match)
        assert BatchRenderer(folder).run().ok
        project = load_project(folder)
        a, b = project.shot("a").current_take, project.shot("b").current_take
        assert b.request.colour_match is match
        diffs[match] = join_difference(last_frame(folder / a.media), first_frame(folder / b.media))
    # Two unrelated noise pictures differ pixel by pixel whatever their colours; matching
    # still removes most of the jump (the synthetic-shift case reaches < 3 in test_continuity).
    assert diffs[True] < diffs[False] / 2


def test_bible_characters_and_style_reach_the_prompt_and_keyframe(tmp_path):
    folder = tmp_path / "B.gallop"
    project = Project(fps=Fraction(24), width=64, height=64)
    project.characters = [
        Character(
            id="keeper",
            name="The Keeper",
            description="grey beard, yellow oilskin",
            references=["media/keeper.png"],
        ),
    ]
    project.styles = [Style(id="noir", name="Noir", description="teal and amber, film grain")]
    project.shots = [
        project.new_shot(id="s", prompt="lights the lamp.", characters=["keeper"], style="noir")
    ]
    save_project(project, folder)
    cv2.imwrite(str(folder / "media" / "keeper.png"), np.full((8, 8, 3), 90, np.uint8))
    plan = plan_render(project, folder, project.shots[0], backend="previz")
    assert plan.request.prompt == (
        "lights the lamp. The Keeper: grey beard, yellow oilskin. style: teal and amber, film grain"
    )
    assert plan.inputs.keyframe.name == "keeper.png" and plan.request.keyframe_hash
    project.characters[0].description = "clean shaven"
    assert plan_render(project, folder, project.shots[0], backend="previz").request.hash != (
        plan.request.hash
    )
