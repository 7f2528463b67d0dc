"""The edit beside the storyboard: whether the clips run in story order, putting them back in
it, and clips that follow their shot's length.

The storyboard and the edit keep one order until the user rearranges the timeline on
purpose. The edit "follows" a story order when each shot's clips form one run (a clip split
in two, or clips with a gap between them, still count as one run) and the runs come in the
story's order. Shots without clips are left out of the comparison, so a shot whose clip was
taken off the timeline does not count as a difference. Nothing is stored to say that the
user rearranged the edit: the order of the clips says so.

Putting the edit in story order moves whole runs, each with the gaps that follow it, and
keeps every clip's range; a gap before the first clip stays first. Transitions whose clip
before changed reset to a cut where they no longer fit, as in `Timeline.move`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from studio.timeline.items import CUT, Clip, Item, TransitionKind, relink, transition_fits
from studio.timeline.timeline import Timeline


def _runs(items: Sequence[Item]) -> list[tuple[str | None, list[Item]]]:
    """The items cut into runs of one shot's clips, each with the gaps after it; a leading
    gap makes a run of its own (shot None)."""
    runs: list[tuple[str | None, list[Item]]] = []
    for item in items:
        shot_id = item.shot_id if isinstance(item, Clip) else None
        if runs and (shot_id is None or shot_id == runs[-1][0]):
            runs[-1][1].append(item)
        else:
            runs.append((shot_id, [item]))
    return runs


def edit_order(timeline: Timeline) -> list[str]:
    """The shots as their clips' runs come in the edit (a shot may come more than once)."""
    return [shot_id for shot_id, _ in _runs(timeline.items) if shot_id is not None]


def follows(timeline: Timeline, shot_ids: Sequence[str]) -> bool:
    """Whether the edit's clips come in the story order `shot_ids`, one run per shot."""
    order = edit_order(timeline)
    present = set(order)
    return order == [shot_id for shot_id in shot_ids if shot_id in present]


def in_story_order(timeline: Timeline, shot_ids: Sequence[str]) -> Timeline:
    """The edit with its runs in the story order `shot_ids` (clips of shots not in it go
    last, in the order they had); the same timeline when nothing moves."""
    rank = {shot_id: k for k, shot_id in enumerate(shot_ids)}
    runs = _runs(timeline.items)
    keyed = sorted(
        enumerate(runs),
        key=lambda pair: (-1 if pair[1][0] is None else rank.get(pair[1][0], len(rank)), pair[0]),
    )
    new = [item for _, (_, items) in keyed for item in items]
    if [item.id for item in new] == [item.id for item in timeline.items]:
        return timeline
    return replace(timeline, items=tuple(relink(timeline.items, new)))


def fit_to_shot(timeline: Timeline, shot_id: str, frames: int) -> Timeline:
    """The untrimmed clips of a shot showing its first `frames` frames: each follows the
    shot's new length. Trimmed clips keep their range. A transition that the new length
    leaves no room for resets to a cut."""
    if frames < 1:
        raise ValueError(f"a shot is at least one frame long, not {frames}")
    new = list(timeline.items)
    changed = False
    for i, item in enumerate(new):
        follows_shot = isinstance(item, Clip) and item.shot_id == shot_id and not item.trimmed
        if follows_shot and (item.source_in, item.source_out) != (0, frames):
            new[i] = replace(item, source_in=0, source_out=frames)
            changed = True
    if not changed:
        return timeline
    for j, item in enumerate(new):
        transition = isinstance(item, Clip) and item.transition.kind is not TransitionKind.CUT
        if transition and not transition_fits(new, j):
            new[j] = replace(item, transition=CUT)
    return replace(timeline, items=tuple(new))
