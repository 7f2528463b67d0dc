"""Export: the edited film to a file, as a job with progress and cancel.

`export_request` snapshots what to export (the timeline with every clip's take pinned, the
preset, the size and rate); `export` writes it, blocking; `ExportJob` runs `export` on a
thread and reports through the events of `studio.jobs` (Queued, Started, Progress at
`Stage.EXPORTING`, then Finished with an `ExportResult`, Failed naming the shot at fault,
or Cancelled), as the render engine does.

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
import traceback
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from engine.backends.base import JobCancelled
from engine.export.frames import output_frames, timeline_frame
from engine.export.run import Export, ExportError, ExportResult, ProgressCallback
from engine.media.sequence import MissingTakeError, clip_media
from studio.errors import StudioError
from studio.jobs import (
    Cancelled,
    Event,
    ExportPreset,
    ExportRequest,
    Failed,
    Finished,
    Progress,
    Queued,
    Stage,
    Started,
    new_job_id,
)
from studio.project.model import Project
from studio.timeline.timeline import Clip, Timeline

EventSink = Callable[[Event], None]

PROGRESS_INTERVAL = 0.1  # seconds between progress events...
PROGRESS_STEP = 0.01  # ...unless progress moved by at least this fraction


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
) -> ExportRequest:
    """The request for exporting `timeline` (default: the project's) as it is now.

    Every clip gets its take pinned, so later take changes do not reach a running export;
    a clip with no take raises `MissingTakeError` naming the shot. Size and rate default
    to the project's.
    """
    timeline = project.timeline if timeline is None else timeline
    items, media = [], {}
    for item in timeline.items:
        if isinstance(item, Clip):
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
        timeline=replace(timeline, items=tuple(items)),
        output=str(output),
        preset=ExportPreset(preset),
        width=int(width or project.width),
        height=int(height or project.height),
        fps=Fraction(fps) if fps is not None else timeline.fps,
        take_media=tuple(sorted(media.items())),
        crf=crf,
        smart_render=smart_render,
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
    """`export` on its own thread, reporting `studio.jobs` events to `on_event`.

    The project is copied when the job is made, so edits during the export do not reach
    it. `start()` runs it; `cancel()` stops it at the next frame; `wait()` joins it and
    returns the `ExportResult` (None when it failed or was cancelled).
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
        self.id = job_id or new_job_id()
        self.request = request
        self.result: ExportResult | None = None
        self.error: str | None = None
        self._project = copy.deepcopy(project)
        self._folder = Path(folder)
        self._on_event = on_event
        self._clock = clock
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gallop-export", daemon=True)
        self._last_emit = 0.0
        self._last_fraction = -1.0
        self._started_at = 0.0
        self._emit(Queued(self.id, 0))

    def start(self) -> ExportJob:
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> ExportResult | None:
        self._thread.join(timeout)
        return self.result

    @property
    def done(self) -> bool:
        return self._thread.ident is not None and not self._thread.is_alive()

    def _emit(self, event: Event) -> None:
        try:
            self._on_event(event)
        except Exception:
            traceback.print_exc()  # a broken listener must not kill the export

    def _progress(self, done: int, total: int) -> None:
        now = self._clock()
        fraction = done / total if total else 0.0
        due = (
            done >= total
            or fraction - self._last_fraction >= PROGRESS_STEP
            or now - self._last_emit >= PROGRESS_INTERVAL
        )
        if not due:
            return
        eta = (now - self._started_at) / done * (total - done) if 0 < done < total else None
        self._last_emit, self._last_fraction = now, fraction
        self._emit(Progress(self.id, done, total, Stage.EXPORTING, eta))

    def _run(self) -> None:
        self._emit(Started(self.id, f"Export {Path(self.request.output).name}"))
        self._started_at = self._clock()
        end: Event
        try:
            if self._cancel.is_set():
                raise JobCancelled(self.id)
            self.result = export(
                self._project,
                self._folder,
                self.request,
                on_progress=self._progress,
                cancel=self._cancel,
            )
            end = Finished(self.id, self.result)
        except JobCancelled:
            end = Cancelled(self.id)
        except StudioError as exc:
            self.error = str(exc)
            end = Failed(self.id, str(exc), traceback.format_exc())
        except Exception as exc:
            self.error = f"Export failed: {type(exc).__name__}: {exc}"
            end = Failed(self.id, self.error, traceback.format_exc())
        self._emit(end)


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
