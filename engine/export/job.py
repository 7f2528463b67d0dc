"""Export: the edited film to a file, as a job with progress and cancel.

`export_request` snapshots what to export (the timeline with every clip's take pinned, the
preset, the size and rate); `export` writes it, blocking. An export is also a job of the
render engine (`engine.render.worker.Engine.submit` with `ExportInputs`), and `ExportJob`
runs one on an engine of its own: the events of `studio.jobs` (Queued, Started, Progress
at `Stage.EXPORTING`, then Finished with an `ExportResult`, Failed naming the shot at
fault, or Cancelled), throttled as a render's are.

The picture is `engine.media.sequence.SequenceFrames`: transitions rendered, each take conformed
to the export size with letterbox or pillarbox bars. A rate other than the timeline's is
reached by time: output frame k shows the timeline frame nearest to k / fps seconds (ties
go to the earlier frame), with exact fractions, and the film lasts the whole number of
output frames nearest to the timeline's length. The sound is every audio track mixed at 48
kHz with its fades (`engine.media.audio_mix`), cut to exactly the film's length; presets that
carry sound get an audio stream when the timeline has audio clips.

Smart render (web preset, on by default, see `engine.export.smart`): where takes already
match the export, their pictures are copied instead of encoded again. The takes are all
written with one set of encoder settings (`engine.export.presets.TAKE_SETTINGS`), so when they
match the export in size and rate and no crf is asked for, the export adopts those
settings for the pictures it encodes: copied pictures keep the takes' quality exactly, and
the new ones are made the same way. Naming a crf turns that adoption off.

Output goes to a temporary name beside the target and is renamed at the end: a cancelled
or failed export leaves nothing behind, and an existing file is kept until the new one is
complete.
"""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from engine.export.frames import output_frames, timeline_frame
from engine.export.run import Export, ExportError, ExportResult, ProgressCallback
from engine.media.sequence import MissingTakeError, clip_media
from engine.protocol import ExportInputs
from studio.jobs import (
    TERMINAL_EVENTS,
    Event,
    ExportPreset,
    ExportRequest,
    Failed,
    Finished,
    new_job_id,
)
from studio.project.model import Project
from studio.project.takes import TAKES_FOLDER, TakeStore
from studio.timeline.timeline import Clip, Timeline

EventSink = Callable[[Event], None]


def export_request(
    project: Project,
    folder: str | os.PathLike[str],
    output: str | os.PathLike[str],
    preset: ExportPreset | str = ExportPreset.WEB,
    *,
    width: int | None = None,
    height: int | None = None,
    fps: Fraction | None = None,
    crf: int | None = None,
    smart_render: bool = True,
    timeline: Timeline | None = None,
    range: tuple[int, int] | None = None,  # noqa: A002 - the request's field
) -> ExportRequest:
    """The request for exporting `timeline` (default: the project's) as it is now, or
    its frames `range` (start, stop), such as its in to out range (`marked_range()`).

    Every clip the film shows gets its take pinned, so later take changes do not reach a
    running export; such a clip with no take raises `MissingTakeError` naming the shot (a
    clip outside the range needs none); a range outside the edit raises `ExportError`.
    Size and rate default to the project's. The timeline's markers and marks do not go
    into the request: they change nothing of the film.
    """
    timeline = project.timeline if timeline is None else timeline
    if range is not None and not 0 <= range[0] < range[1] <= timeline.duration:
        raise ExportError(
            f"frames {range[0]}..{range[1]} are not a part of the edit "
            f"(frames 0..{timeline.duration})"
        )
    shown = {c.id for c in timeline.clips_between(*(range or (0, timeline.duration)))}
    items, media = [], {}
    for item in timeline.items:
        if isinstance(item, Clip) and item.id in shown:
            # MissingTakeError names the shot whose take is missing or damaged.
            clip_media(project, folder, item, verify=True)
            shot = project.shot(item.shot_id)
            assert shot is not None
            take = shot.take(item.take_id) if item.take_id else shot.current_take
            assert take is not None
            media[take.id] = take.media
            item = replace(item, take_id=take.id) if item.take_id is None else item
        items.append(item)
    return ExportRequest(
        timeline=replace(timeline, items=tuple(items), markers=(), mark_in=None, mark_out=None),
        output=str(output),
        preset=ExportPreset(preset),
        width=int(width or project.width),
        height=int(height or project.height),
        fps=Fraction(fps) if fps is not None else timeline.fps,
        take_media=tuple(sorted(media.items())),
        crf=crf,
        smart_render=smart_render,
        range=range,
    )


def export(
    project: Project,
    folder: str | os.PathLike[str],
    request: ExportRequest,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ExportResult:
    """Write `request`'s film; blocking. `on_progress(frames_done, frames_total)`.

    Raises `MissingTakeError` or `ExportError` (naming the shot at fault when there is
    one), `MediaError` for an unreadable sound file, and `JobCancelled` once `cancel` is
    set. Whatever it raises, nothing is left at (or beside) `request.output`.
    """
    return Export(project, folder, request, on_progress, cancel).run()


class ExportJob:
    """One export on an engine of its own (`engine.render.worker.Engine`), reporting the
    engine's events to `on_event`: the film is written on the engine thread, with the
    engine's progress throttle, cancel and clean-up.

    The project is copied when the job is made, so edits during the export do not reach
    it. Making the job queues it (`Queued`); `start()` runs it; `cancel()` stops it at the
    next frame; `wait()` waits for its last event and returns the `ExportResult` (None when
    it failed or was cancelled).

    The window's export dialog uses this rather than the window's engine process: an
    export needs no model, so it does not wait behind the renders queued there, and it
    reads the project and the takes in the window's own process, where the dialog that
    owns it cancels it directly (closing the dialog stops it).
    """

    def __init__(
        self,
        project: Project,
        folder: str | os.PathLike[str],
        request: ExportRequest,
        on_event: EventSink,
        *,
        job_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from engine.render.worker import Engine

        self.request = request
        self.result: ExportResult | None = None
        self.error: str | None = None
        self._on_event = on_event
        self._ended = threading.Event()
        folder = Path(folder)
        self._engine = Engine(TakeStore(folder / TAKES_FOLDER), self._event, clock=clock)
        inputs = ExportInputs(copy.deepcopy(project), folder)
        label = f"Export {Path(request.output).name}"
        self.id = self._engine.submit(request, inputs, label=label, job_id=job_id or new_job_id())

    def start(self) -> ExportJob:
        self._engine.start()
        return self

    def cancel(self) -> None:
        self._engine.cancel(self.id)

    def wait(self, timeout: float | None = None) -> ExportResult | None:
        if self._ended.wait(timeout):
            self._engine.shutdown(timeout)
        return self.result

    @property
    def done(self) -> bool:
        return self._ended.is_set()

    def _event(self, event: Event) -> None:
        if isinstance(event, Finished):
            self.result = event.result
        elif isinstance(event, Failed):
            self.error = event.message
        try:
            self._on_event(event)
        finally:
            if isinstance(event, TERMINAL_EVENTS):
                self._ended.set()
                # The engine thread ends once this, its job's last event, is out.
                self._engine.shutdown(0)


__all__ = [
    "ExportError",
    "ExportJob",
    "ExportResult",
    "MissingTakeError",
    "export",
    "export_request",
    "output_frames",
    "timeline_frame",
]
