"""Interchange of the edit: OpenTimelineIO, Final Cut Pro 7 XML and CMX 3600 EDL.

`to_otio` turns the project's timeline into an `opentimelineio` timeline; `write_edit`
writes it as `.otio` (OTIO JSON), `.xml` (FCP 7 XML through the `fcp_xml` adapter of
`otio-fcp-adapter`) or `.edl` (CMX 3600 through `cmx_3600` of `otio-cmx3600-adapter`).

How the studio's edit maps onto OTIO:

- Time stays in whole frames at the timeline's rate (24000/1001 is passed to OTIO as the
  float 24000 / 1001; every value is an integer count of frames, so nothing is rounded).
  The timeline starts at frame 0. A clip's `source_range` counts timeline-rate frames into
  its take (the studio's `source_in`/`source_out`): a take rendered at another rate keeps
  its own rate in the media reference's `available_range`, and OTIO relates the two by time.
- A clip points at its take file (`ExternalReference`, an absolute `file://` URL, the whole
  take as available range). A clip whose shot has no take, or whose take file is gone, gets a
  `MissingReference` named after the shot: the clip keeps its place and length, and FCP XML and
  EDL write it as an offline clip of that name (both adapters accept it).
- Every clip carries `metadata["gallop"]`: shot id and title, take id, request hash, the full
  generation request (`manifest`) and a summary (prompt, seed, model, camera words).
- OTIO transitions take no time on the track and straddle the cut: `in_offset` frames before
  it, `out_offset` after, the clips beside the cut supplying the frames (their "handles").
  A crossfade of N frames becomes an `SMPTE_Dissolve` with `in_offset` N // 2 and
  `out_offset` N - N // 2; the outgoing clip ends `out_offset` frames before its `source_out`
  and the incoming one starts `in_offset` frames after its `source_in`, so the handles are
  exactly the frames the studio overlaps and the track lasts exactly the studio's duration.
- A dip (no overlap in the studio) becomes a `Custom_Transition` named "Dip to black" or
  "Dip to white" with the same offsets: the outgoing clip fades over its last N // 2 frames,
  the incoming one over its first N - N // 2, as `metadata["gallop"]` says; the clips keep
  their full ranges. FCP XML gets FCP's "Dip to Color Dissolve" (black or white) and an EDL
  gets a dissolve ("D", CMX 3600 has no dip), both centred on the cut. Those editors take
  the frames of a transition from the media beyond the clips' ends, which the studio's dip
  does not use: there a dip is shortened to the take frames available on each side, and
  written as a cut when a clip has none (a clip using its whole take).
- Gaps become `Gap`s. Each audio track becomes an audio `Track` (disabled when muted) of
  clips pointing at the sound files, gaps between them; gain and fades (frames) are in
  `metadata["gallop"]`. An EDL holds the video track only.
"""

from __future__ import annotations

import json
import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import opentimelineio as otio
import soundfile
from opentimelineio import opentime

from engine.media.audio_mix import audio_path
from engine.media.sequence import MissingTakeError, clip_take
from engine.media.video import MediaError, MediaInfo, probe
from engine.tempfiles import TempFile
from studio.camera.rig import describe
from studio.errors import StudioError
from studio.project.model import Project, Take
from studio.timeline.timeline import (
    AudioClip,
    AudioTrack,
    Clip,
    Gap,
    Timeline,
    Transition,
    TransitionKind,
)

OTIO, FCP_XML, CMX_3600 = "otio_json", "fcp_xml", "cmx_3600"
FORMATS = {".otio": OTIO, ".xml": FCP_XML, ".edl": CMX_3600}
FORMAT_NAMES = {OTIO: "OpenTimelineIO", FCP_XML: "Final Cut Pro 7 XML", CMX_3600: "CMX 3600 EDL"}
PACKAGES = {FCP_XML: "otio-fcp-adapter", CMX_3600: "otio-cmx3600-adapter"}
NAMESPACE = "gallop"
DIP_NAMES = {TransitionKind.DIP_BLACK: "Dip to black", TransitionKind.DIP_WHITE: "Dip to white"}
DIP_LEVEL = {TransitionKind.DIP_BLACK: 0, TransitionKind.DIP_WHITE: 255}
# Reel of a clip without media: "AX" is CMX 3600's auxiliary (unknown) source.
NO_REEL = "AX"
REEL_LENGTH = 8


def _rate(fps: Fraction) -> float:
    return float(fps)


def _time(frames: int | float, fps: Fraction) -> opentime.RationalTime:
    return opentime.RationalTime(frames, _rate(fps))


def _range(start: int | float, frames: int | float, fps: Fraction) -> opentime.TimeRange:
    return opentime.TimeRange(_time(start, fps), _time(frames, fps))


def has_timecode(fps: Fraction) -> bool:
    """Whether SMPTE timecode (which FCP XML and EDL are written in) exists at this rate."""
    try:
        opentime.to_timecode(_time(0, fps), _rate(fps))
    except (ValueError, RuntimeError, TypeError):
        return False
    return True


def _sound_length(path: Path) -> tuple[int, int] | None:
    """(samples, sample rate) of a sound file, None when it cannot be read."""
    try:
        info = soundfile.info(str(path))
        if info.frames > 0 and info.samplerate > 0:
            return info.frames, info.samplerate
    except (RuntimeError, OSError, soundfile.LibsndfileError):
        pass
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            rate = stream.codec_context.sample_rate or stream.rate
            if stream.duration and stream.time_base and rate:
                return round(stream.duration * stream.time_base * rate), rate
            if container.duration and rate:
                return round(Fraction(container.duration, av.time_base) * rate), rate
    except (av.error.FFmpegError, OSError, IndexError):
        pass
    return None


@dataclass
class _Builder:
    """Builds one OTIO timeline for one target format; caches what it probes."""

    project: Project
    folder: Path
    target: str = OTIO
    _takes: dict[Path, MediaInfo | MediaError] = field(default_factory=dict)

    @property
    def timeline(self) -> Timeline:
        return self.project.timeline

    @property
    def fps(self) -> Fraction:
        return self.timeline.fps

    def build(self) -> otio.schema.Timeline:
        tl = self.timeline
        result = otio.schema.Timeline(
            name=self.project.title,
            global_start_time=_time(0, self.fps),
            metadata={
                NAMESPACE: {
                    "fps": str(self.fps),
                    "width": self.project.width,
                    "height": self.project.height,
                    "duration": tl.duration,
                }
            },
        )
        result.tracks.append(self._video_track())
        if self.target != CMX_3600:
            for track in tl.audio_tracks:
                result.tracks.append(self._audio_track(track))
        return result

    # -- video ---------------------------------------------------------------------------

    def _take_info(self, path: Path) -> MediaInfo | MediaError:
        if path not in self._takes:
            try:
                self._takes[path] = probe(path)
            except MediaError as exc:
                self._takes[path] = exc
        return self._takes[path]

    def _video_track(self) -> otio.schema.Track:
        track = otio.schema.Track(name="Video", kind=otio.schema.TrackKind.Video)
        items = self.timeline.items
        clips: list[otio.schema.Clip | None] = []
        for i, item in enumerate(items):
            if isinstance(item, Gap):
                track.append(otio.schema.Gap(source_range=_range(0, item.frames, self.fps)))
                clips.append(None)
                continue
            after = items[i + 1] if i + 1 < len(items) else None
            tail = after.transition if isinstance(after, Clip) else None
            clip = self._clip(item, tail)
            if item.transition.kind is not TransitionKind.CUT:
                transition = self._transition(item, clips[-1], clip)
                if transition is not None:
                    track.append(transition)
            track.append(clip)
            clips.append(clip)
        return track

    def _clip(self, clip: Clip, tail: Transition | None) -> otio.schema.Clip:
        """The OTIO clip, trimmed by the halves of the crossfades on either side of it."""
        head = clip.transition
        start, stop = clip.source_in, clip.source_out
        if head.kind is TransitionKind.CROSSFADE:
            start += head.frames // 2
        if tail is not None and tail.kind is TransitionKind.CROSSFADE:
            stop -= tail.frames - tail.frames // 2
        shot = self.project.shot(clip.shot_id)
        title = (shot.title or shot.id) if shot else clip.shot_id
        meta: dict[str, Any] = {
            "clip_id": clip.id,
            "shot_id": clip.shot_id,
            "shot_title": title,
            "source_in": clip.source_in,
            "source_out": clip.source_out,
        }
        try:
            take = clip_take(self.project, clip)
        except MissingTakeError as exc:
            take, reason = None, str(exc)
        if take is not None:
            meta.update(self._manifest(take))
            reference, reason = self._take_reference(take, title)
        if take is None or reference is None:
            meta.setdefault("take_id", None)
            meta["missing"] = reason
            reference = otio.schema.MissingReference(name=title, metadata={NAMESPACE: {}})
            reference.metadata[NAMESPACE]["shot_title"] = title
        result = otio.schema.Clip(
            name=title,
            media_reference=reference,
            source_range=_range(start, stop - start, self.fps),
            metadata={NAMESPACE: meta},
        )
        if self.target == CMX_3600:
            reel = meta["take_id"][:REEL_LENGTH].upper() if "missing" not in meta else NO_REEL
            result.metadata["cmx_3600"] = {"reel": reel}
        return result

    def _manifest(self, take: Take) -> dict[str, Any]:
        request = take.request
        try:
            camera = describe(request.camera, float(request.duration_seconds))
        except ValueError:
            camera = ""
        return {
            "take_id": take.id,
            "take_media": take.media,
            "request_hash": request.hash,
            "manifest": json.loads(request.canonical_json()),
            "prompt": request.prompt,
            "seed": request.seed,
            "model": request.model_id,
            "camera": camera,
        }

    def _take_reference(
        self, take: Take, title: str
    ) -> tuple[otio.schema.ExternalReference | None, str]:
        path = (self.folder / take.media).resolve()
        if not path.is_file():
            return None, f"the take file of shot {title!r} is missing ({take.media})"
        info = self._take_info(path)
        if isinstance(info, MediaError):
            return None, str(info)
        fps, frames = info.fps, info.frames
        if self.target == FCP_XML and not has_timecode(fps):
            # FCP XML gives each file a timecode, which this rate has not: describe the take
            # in timeline frames instead (the clip's in and out points already are).
            frames, fps = math.floor(frames * self.fps / fps), self.fps
        return (
            otio.schema.ExternalReference(
                target_url=path.as_uri(), available_range=_range(0, frames, fps)
            ),
            "",
        )

    def _handles(self, clip: otio.schema.Clip | None) -> tuple[int, int]:
        """Timeline frames of the take before and after a clip's range (0 without media)."""
        if clip is None or not isinstance(clip.media_reference, otio.schema.ExternalReference):
            return 0, 0
        available = clip.media_reference.available_range
        rate = _rate(self.fps)
        first = available.start_time.value_rescaled_to(rate)
        last = available.end_time_exclusive().value_rescaled_to(rate)
        used = clip.source_range
        before = used.start_time.value - math.ceil(first - 1e-6)
        after = math.floor(last + 1e-6) - used.end_time_exclusive().value
        return max(0, int(before)), max(0, int(after))

    def _transition(
        self, clip: Clip, outgoing: otio.schema.Clip | None, incoming: otio.schema.Clip
    ) -> otio.schema.Transition | None:
        t = clip.transition
        before, after = t.frames // 2, t.frames - t.frames // 2
        meta = {"kind": t.kind.value, "frames": t.frames, "clip_id": clip.id}
        if t.kind is TransitionKind.CROSSFADE:
            return otio.schema.Transition(
                name="Cross Dissolve",
                transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                in_offset=_time(before, self.fps),
                out_offset=_time(after, self.fps),
                metadata={NAMESPACE: meta},
            )
        level = DIP_LEVEL[t.kind]
        meta.update(outgoing_frames=t.outgoing_frames, incoming_frames=t.incoming_frames)
        meta["colour"] = [level, level, level]
        if self.target == OTIO:
            return otio.schema.Transition(
                name=DIP_NAMES[t.kind],
                transition_type=otio.schema.TransitionTypes.Custom,
                in_offset=_time(before, self.fps),
                out_offset=_time(after, self.fps),
                metadata={NAMESPACE: meta},
            )
        # Editors dissolve through the colour using frames beyond both clips' ends.
        before = min(before, self._handles(incoming)[0])
        after = min(after, self._handles(outgoing)[1])
        if before == 0 or after == 0:
            return None
        transition = otio.schema.Transition(
            name=DIP_NAMES[t.kind],
            transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
            in_offset=_time(before, self.fps),
            out_offset=_time(after, self.fps),
            metadata={NAMESPACE: meta},
        )
        return transition

    # -- audio ---------------------------------------------------------------------------

    def _audio_track(self, track: AudioTrack) -> otio.schema.Track:
        result = otio.schema.Track(
            name=track.name or track.id,
            kind=otio.schema.TrackKind.Audio,
            metadata={
                NAMESPACE: {"track_id": track.id, "gain_db": track.gain_db, "muted": track.muted}
            },
        )
        result.enabled = not track.muted
        position = 0
        for clip in track.clips:
            if clip.start > position:
                result.append(
                    otio.schema.Gap(source_range=_range(0, clip.start - position, self.fps))
                )
            result.append(self._audio_clip(clip))
            position = clip.end
        return result

    def _audio_clip(self, clip: AudioClip) -> otio.schema.Clip:
        sound = next((s for s in self.project.audio if s.id == clip.media), None)
        path = audio_path(self.project, self.folder, clip.media).resolve()
        name = (sound.name if sound else "") or path.name
        meta = {
            "audio_clip_id": clip.id,
            "media": clip.media,
            "gain_db": clip.gain_db,
            "fade_in": clip.fade_in,
            "fade_out": clip.fade_out,
        }
        length = _sound_length(path) if path.is_file() else None
        used = _range(clip.source_in, clip.duration, self.fps)
        if length is None:
            meta["missing"] = f"the sound file {clip.media} is missing or unreadable"
            reference = otio.schema.MissingReference(name=name)
        else:
            samples, rate = length
            available = opentime.TimeRange(
                opentime.RationalTime(0, rate), opentime.RationalTime(samples, rate)
            )
            if self.target == FCP_XML:
                # FCP XML counts a file's length in frames of a video rate.
                frames = math.ceil(Fraction(samples, rate) * self.fps)
                available = _range(0, frames, self.fps)
            reference = otio.schema.ExternalReference(
                target_url=path.as_uri(), available_range=available
            )
        return otio.schema.Clip(
            name=name, media_reference=reference, source_range=used, metadata={NAMESPACE: meta}
        )


def _fcp_effect(effect: ET.Element) -> None:
    """Rewrite a transition's effect as FCP 7 writes its own: a dip becomes a "Dip to Color
    Dissolve" with its colour (`dipcolor`), and each child comes in the order FCP expects."""
    name = effect.findtext("name") or ""
    level = next((DIP_LEVEL[k] for k, n in DIP_NAMES.items() if n == name), None)
    effect.clear()
    title = "Cross Dissolve" if level is None else "Dip to Color Dissolve"
    for tag, text in (
        ("name", title),
        ("effectid", title),
        ("effectcategory", "Dissolve"),
        ("effecttype", "transition"),
        ("mediatype", "video"),
    ):
        ET.SubElement(effect, tag).text = text
    if level is not None:
        parameter = ET.SubElement(effect, "parameter")
        ET.SubElement(parameter, "parameterid").text = "dipcolor"
        ET.SubElement(parameter, "name").text = "Color"
        value = ET.SubElement(parameter, "value")
        for tag, amount in (("alpha", 255), ("red", level), ("green", level), ("blue", level)):
            ET.SubElement(value, tag).text = str(amount)


def _polish_fcp_xml(text: str) -> str:
    """The adapter's XML with FCP's own transition effects and the `xmeml` doctype."""
    root = ET.fromstring(text)
    for effect in root.iter("effect"):
        if effect.findtext("effecttype") == "transition":
            _fcp_effect(effect)
    ET.indent(root, "    ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n{body}\n'


def to_otio(project: Project, folder: str | os.PathLike[str]) -> otio.schema.Timeline:
    """The project's edit as an OpenTimelineIO timeline (see the module notes)."""
    return _Builder(project, Path(folder)).build()


def edit_format(path: str | os.PathLike[str]) -> str:
    """The OTIO adapter name for a file name's suffix; StudioError for an unknown one."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        choices = ", ".join(f"{s} ({FORMAT_NAMES[a]})" for s, a in FORMATS.items())
        raise StudioError(
            f"cannot write an edit as {Path(path).name!r}: the file name must end in {choices}"
        )
    return FORMATS[suffix]


def _write_text(path: Path, text: str) -> None:
    """Replace `path` whole: a new temporary file beside it (created here, never a link
    someone planted under a name they guessed), then a rename."""
    try:
        with TempFile(path) as temporary:
            temporary.write(text.encode("utf-8"))
            temporary.place()
    except OSError as exc:
        raise StudioError(f"cannot write {path.name}: {exc.strerror or exc}") from exc


def check_edit(project: Project, path: str | os.PathLike[str]) -> str:
    """What `write_edit` checks before it builds anything: the suffix, the rate, the
    adapter, a timeline with clips. Returns the adapter; `StudioError` says what is wrong
    (so a caller can learn it before other work, such as writing the film)."""
    adapter = edit_format(path)
    name = FORMAT_NAMES[adapter]
    fps = project.timeline.fps
    if adapter != OTIO and not has_timecode(fps):
        raise StudioError(
            f"{name} needs a timecode frame rate (such as 23.976, 24, 25, 29.97 or 30); "
            f"this timeline runs at {float(fps):g} fps: export an .otio file instead"
        )
    if adapter not in otio.adapters.available_adapter_names():
        raise StudioError(f"writing a {name} needs the {PACKAGES[adapter]} package installed")
    if adapter == CMX_3600 and not project.timeline.clips():
        raise StudioError(f"the timeline has no clips to write as a {name}")
    return adapter


def write_edit(
    project: Project, folder: str | os.PathLike[str], path: str | os.PathLike[str]
) -> Path:
    """Write the edit to `path` in the format its suffix names; returns the path written.

    `.otio` is OpenTimelineIO JSON, `.xml` Final Cut Pro 7 XML, `.edl` CMX 3600. Problems a
    user can fix (an unknown suffix, a frame rate without timecode, a folder that cannot be
    written) raise `StudioError`. The file is replaced whole or left as it was.
    """
    path = Path(path)
    adapter = check_edit(project, path)
    name = FORMAT_NAMES[adapter]
    fps = project.timeline.fps
    timeline = _Builder(project, Path(folder), adapter).build()
    options: dict[str, Any] = {"rate": _rate(fps)} if adapter == CMX_3600 else {}
    try:
        text = otio.adapters.write_to_string(timeline, adapter_name=adapter, **options)
        if adapter == FCP_XML:
            text = _polish_fcp_xml(text)
    except (otio.exceptions.OTIOError, ValueError, RuntimeError, TypeError) as exc:
        raise StudioError(f"cannot write the edit as a {name}: {exc}") from exc
    _write_text(path, text)
    return path
