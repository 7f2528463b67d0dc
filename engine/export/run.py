"""One export in progress: checks, the smart-render plan, the frame loop and the clean-up.

`engine.export.job` is the public face (`export`, `ExportJob`); this module does the work. The
picture comes from `engine.export.frames` through a `Prefetcher`, so that decoding and
composing overlap with encoding; the sound is mixed and encoded on its own thread; the
writers of `engine.export.writers` put both in a file under a temporary name, which is
renamed into place only when everything is written.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from engine.backends.base import JobCancelled
from engine.export.frames import FrameWindow, OutputFrames, output_frames
from engine.export.presets import (
    SPECS,
    TAKE_SETTINGS,
    H264Settings,
    destination_problem,
    fps_problem,
    h264_encoder,
    output_problem,
    parameter_sets,
    web_settings,
)
from engine.export.smart import CopyRun, EncodeRun, Run, TakeStream, plan_runs, scan_take
from engine.export.sound import AudioFeed, AudioWorker, SoundFormat
from engine.export.writers import PALETTE_SAMPLES, GifWriter, PngWriter, VideoFileWriter
from engine.media.audio_mix import audio_path
from engine.media.sequence import CLIP, END, FAILED, Prefetcher, SequenceFrames, clip_media
from engine.media.video import MediaError, MediaInfo, probe
from engine.tempfiles import TempFile, temp_folder
from studio.errors import StudioError
from studio.jobs import ExportPreset, ExportRequest
from studio.timeline.timeline import Clip, Timeline

ProgressCallback = Callable[[int, int], None]


# How far (seconds) the picture may run ahead of the sound before it waits.
SOUND_LAG = 30


class ExportError(StudioError):
    """An export cannot be made; `shot_id` names the shot at fault when there is one."""

    def __init__(self, message: str, shot_id: str | None = None) -> None:
        super().__init__(message)
        self.shot_id = shot_id


@dataclass(frozen=True)
class ExportResult:
    """A finished export: where, how long, and how much of it was copied from the takes.

    `seconds` is the film's length; `copied_segments` and `encoded_segments` count the
    edit's pieces (clips, transitions, gaps) with any copied or any encoded frame (a clip
    can be both: encoded up to its first keyframe, copied after); `elapsed` is wall time.
    """

    path: Path
    frames: int
    seconds: float
    copied_segments: int
    encoded_segments: int
    copied_frames: int = 0
    elapsed: float = 0.0


def _has_audio(timeline: Timeline) -> bool:
    return any(track.clips and not track.muted for track in timeline.audio_tracks)


def _check_request(request: ExportRequest, output: Path, folder: Path) -> None:
    problem = output_problem(request.preset, output)
    if problem:
        raise ExportError(problem)
    if request.preset is not ExportPreset.PNG and (request.width % 2 or request.height % 2):
        raise ExportError(
            f"the {request.preset.value} preset needs an even width and height, "
            f"not {request.width}x{request.height}"
        )
    problem = fps_problem(request.fps)
    if problem:
        raise ExportError(problem)
    if request.timeline.duration <= 0:
        raise ExportError("the timeline is empty: there is nothing to export")
    if request.range is not None and request.range[1] > request.timeline.duration:
        start, stop = request.range
        raise ExportError(
            f"the range to export (frames {start}..{stop}) ends after the edit, "
            f"which is {request.timeline.duration} frames long"
        )
    png = request.preset is ExportPreset.PNG
    problem = destination_problem(output, folder, folder_output=png)
    if problem:
        raise ExportError(problem)
    if png and output.exists():
        earlier = output.is_dir() and all(
            p.name.startswith(f"{output.name}_") and p.suffix == ".png" for p in output.iterdir()
        )
        if not earlier:
            raise ExportError(f"{output} exists and is not an earlier PNG export; choose another")


@dataclass
class _Plan:
    runs: list[Run]
    settings: H264Settings | None
    template: TakeStream | None
    delay: int


class Export:
    """One export: `Export(project, folder, request, on_progress, cancel).run()`."""

    def __init__(self, project, folder, request, on_progress, cancel) -> None:
        self.project, self.folder, self.request = project, Path(folder), request
        self.on_progress = on_progress or (lambda done, total: None)
        self.cancel = cancel or threading.Event()
        self.output = Path(request.output)
        self.spec = SPECS[request.preset]
        self.timeline = request.timeline
        # The timeline frames the film shows: the request's range, else the whole edit.
        self.span = request.range or (0, self.timeline.duration)
        span_frames = self.span[1] - self.span[0]
        self.frames = output_frames(span_frames, self.timeline.fps, request.fps)
        self.done = 0
        self.owner: dict[Path, tuple[str, str]] = {}  # take file -> (shot id, shot name)
        self.takes: dict[Path, MediaInfo] = {}
        self.audio: AudioWorker | None = None

    # -- planning ------------------------------------------------------------------------

    def check_takes(self) -> None:
        """Every clip has a readable take: else an error naming the first shot without one."""
        for clip in self.clips():
            path = clip_media(self.project, self.folder, clip)
            if path in self.owner:
                continue
            shot = self.project.shot(clip.shot_id)
            self.owner[path] = (clip.shot_id, (shot.title or shot.id) if shot else clip.shot_id)
            try:
                self.takes[path] = probe(path)
            except MediaError as exc:
                raise self.shot_error(exc) from exc

    def clips(self) -> tuple[Clip, ...]:
        """The clips the film shows some frame of (all of them without a range)."""
        return self.timeline.clips_between(*self.span)

    def check_sounds(self) -> None:
        """Every sound the mix plays is there: else stop now, not after the picture."""
        for track in self.timeline.audio_tracks:
            for clip in () if track.muted else track.clips:
                path = audio_path(self.project, self.folder, clip.media)
                if not path.is_file():
                    raise MediaError(path, f"sound file not found (audio clip {clip.id!r})")

    def shot_error(self, exc: MediaError) -> StudioError:
        owner = self.owner.get(exc.path)
        if owner is None:
            return exc
        shot_id, name = owner
        return ExportError(
            f"the take of shot {name!r} cannot be read: {exc.message}. Render the shot "
            "again or choose another take.",
            shot_id,
        )

    def plan(self, segments) -> _Plan:
        request, fps = self.request, self.request.fps
        everything: list[Run] = [EncodeRun(0, self.frames)]
        if request.preset is not ExportPreset.WEB:
            return _Plan(everything, None, None, 0)
        own = web_settings(request.crf, fps)
        if not request.smart_render or fps != self.timeline.fps:
            return _Plan(everything, own, None, 0)
        size = (request.width, request.height)
        scanned: dict[Path, TakeStream | None] = {}

        def take_of(clip: Clip) -> TakeStream | None:
            path = clip_media(self.project, self.folder, clip)
            if path not in scanned:
                info = self.takes[path]
                matches = (info.width, info.height) == size and info.fps == fps
                try:
                    scanned[path] = scan_take(path, info.pix_fmt) if matches else None
                except MediaError as exc:
                    raise self.shot_error(exc) from exc
            return scanned[path]

        best = _Plan(everything, own, None, 0)
        clips = [s.clip for s in segments if s.kind == CLIP and s.clip is not None]
        if not any(take_of(clip) for clip in clips):
            return best  # no take is H.264 at the export's size and rate
        best_copied = 0
        candidates = [own] if request.crf is not None else [own, TAKE_SETTINGS]
        for settings in candidates:
            encoder = h264_encoder(settings, *size, fps)
            sets = parameter_sets(encoder.extradata)
            del encoder
            runs = plan_runs(segments, take_of, sets, *size, fps)
            copies = [r for r in runs if isinstance(r, CopyRun)]
            copied = sum(r.frames for r in copies)
            if copied > best_copied:
                delay = max(r.take.delay for r in copies)
                best, best_copied = _Plan(runs, settings, copies[0].take, delay), copied
        return best

    # -- writing -------------------------------------------------------------------------

    def writer(self, temp: TempFile, plan: _Plan):
        request = self.request
        if request.preset is ExportPreset.GIF:
            return GifWriter(
                temp.url, self.spec, request.width, request.height, request.fps, muxer=temp.muxer
            )
        return VideoFileWriter(
            temp.url,
            self.spec,
            request.width,
            request.height,
            request.fps,
            crf=request.crf,
            settings=plan.settings,
            # The sound's stream, when `run` started a sound worker for the film.
            sample_rate=request.sample_rate if self.audio is not None else None,
            smart=plan.template,
            delay=plan.delay,
            muxer=temp.muxer,
        )

    def run(self) -> ExportResult:
        started = time.monotonic()
        _check_request(self.request, self.output, self.folder)
        if self.spec.has_audio:
            self.check_sounds()
        try:
            if self.spec.has_audio and _has_audio(self.timeline):
                # The sound is the slow part of a copied film: it starts before the planning.
                self.audio = AudioWorker(self.audio_feed(), self.sound_format())
                self.audio.start()
            self.check_takes()
            self.check_cancelled()
            plan, segments = self.write()
        finally:
            if self.audio is not None:
                self.audio.stop()
        copied = [r for r in plan.runs if isinstance(r, CopyRun)]
        encoded = [r for r in plan.runs if isinstance(r, EncodeRun)]
        return ExportResult(
            path=self.output,
            frames=self.frames,
            seconds=float(self.frames / self.request.fps),
            copied_segments=_touched(segments, copied),
            encoded_segments=_touched(segments, encoded),
            copied_frames=sum(r.frames for r in copied),
            elapsed=time.monotonic() - started,
        )

    def write(self) -> tuple[_Plan, list]:
        """Plans the film and writes it to a temporary file (or folder, for PNGs) renamed
        into place at the end. The temporary name is new, created here (never a planted
        link's, see `engine.tempfiles`), and what killed exports left in the folder goes."""
        temp: TempFile | None = None
        frames_folder: Path | None = None
        writer = source = None
        with SequenceFrames(
            self.project, self.folder, self.timeline, self.request.width, self.request.height
        ) as whole:
            seq = whole if self.request.range is None else FrameWindow(whole, *self.span)
            segments = seq.segments()
            plan = self.plan(segments)
            try:
                if self.request.preset is ExportPreset.PNG:
                    frames_folder = temp_folder(self.output)
                    writer = PngWriter(frames_folder, self.output.name)
                else:
                    temp = TempFile(self.output)
                    writer = self.writer(temp, plan)
                source = OutputFrames(
                    seq,
                    self.frames,
                    self.request.fps,
                    writer.convert,
                    direct_format=writer.direct_format,
                    takes=self.takes,
                )
                if isinstance(writer, GifWriter):
                    writer.prepare(self.palette_samples(source))
                for run in plan.runs:
                    if isinstance(run, CopyRun):
                        self.copy(writer, run)
                    else:
                        self.encode(writer, source, run)
                if self.audio is not None:
                    writer.mux_audio(self.audio.rest(self.check_cancelled))
                self.check_cancelled()
                writer.finish()
                writer = None
                if frames_folder is not None:
                    self.place_folder(frames_folder)
                    frames_folder = None
                elif temp is not None:
                    temp.place()
            except MediaError as exc:
                raise self.shot_error(exc) from exc
            except (OSError, av.FFmpegError) as exc:
                reason = getattr(exc, "strerror", None) or exc
                raise ExportError(f"cannot write {self.output.name}: {reason}") from exc
            finally:
                if source is not None:
                    source.close()
                if writer is not None:
                    writer.abort()
                if temp is not None and not temp.placed:
                    temp.discard()
                if frames_folder is not None:
                    shutil.rmtree(frames_folder, ignore_errors=True)
        return plan, segments

    def palette_samples(self, source: OutputFrames) -> list[np.ndarray]:
        count = min(self.frames, PALETTE_SAMPLES)
        picks = sorted({round(i * (self.frames - 1) / max(1, count - 1)) for i in range(count)})
        samples = []
        for index in picks:
            self.check_cancelled()
            samples.append(source.picture(index))
        return samples

    def sound_format(self) -> SoundFormat:
        spec = self.spec
        assert spec.audio_codec is not None
        return SoundFormat(spec.audio_codec, self.request.sample_rate, spec.audio_bit_rate)

    def audio_feed(self) -> AudioFeed:
        rate = self.request.sample_rate
        total = round(self.frames * Fraction(rate) / self.request.fps)
        return AudioFeed(self.project, self.folder, self.timeline, rate, total, self.span)

    def encode(self, writer, source: OutputFrames, run: EncodeRun) -> None:
        writer.begin_run(run.start)
        prefetch = Prefetcher(source, run.start, span=(run.start, run.stop), depth=8)
        prefetch.start()
        try:
            while True:
                item = prefetch.get(timeout=0.1)
                self.check_cancelled()
                if item is None:
                    continue
                _, index, frame = item
                if index == END:
                    break
                if index == FAILED:
                    raise frame
                writer.encode(index, frame)
                self.step(writer, index + 1)
        finally:
            prefetch.stop()
        writer.end_run()

    def copy(self, writer, run: CopyRun) -> None:
        for index in writer.copy(run):
            self.check_cancelled()
            self.step(writer, index + 1)

    def step(self, writer, frame: int) -> None:
        self.done += 1
        if self.audio is not None:
            # Sound up to a second ahead of the picture, so the muxer interleaves them. Copying
            # runs ahead of the sound, which comes in segments: the muxer holds the picture
            # until the sound catches up, so at most SOUND_LAG seconds of it.
            rate = self.request.sample_rate
            now = round(frame * Fraction(rate) / self.request.fps)
            packets = self.audio.ready(
                now + rate, behind=SOUND_LAG * rate, wait=self.check_cancelled
            )
            writer.mux_audio(packets)
        self.on_progress(self.done, self.frames)

    def check_cancelled(self) -> None:
        if self.cancel.is_set():
            raise JobCancelled("export")

    def place_folder(self, folder: Path) -> None:
        if self.output.is_dir() and not self.output.is_symlink():
            # An earlier PNG export of the same name (checked before starting) makes way.
            shutil.rmtree(self.output)
        os.replace(folder, self.output)


def _touched(segments, runs: list[Run]) -> int:
    return sum(any(r.start < s.stop and s.start < r.stop for r in runs) for s in segments)
