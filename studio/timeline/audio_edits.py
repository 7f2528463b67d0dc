"""The audio tracks' edits of a timeline: tracks added, changed and removed, and audio clips
added, moved, trimmed and removed, none overlapping another on its track.

`Timeline` has these methods through `AudioEdits`; like its video edits, each returns a new
timeline and raises `EditError` (changing nothing) when the edit cannot be applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from studio.errors import EditError
from studio.timeline.items import AudioClip, AudioTrack, frame_arg

if TYPE_CHECKING:
    from studio.timeline.timeline import Timeline


class AudioEdits:
    """The audio edits of `Timeline` (its `audio_tracks` and `audio_track`)."""

    def _track_index(self, track_id: str) -> int:
        for t, track in enumerate(self.audio_tracks):
            if track.id == track_id:
                return t
        raise EditError(f"the timeline has no audio track {track_id!r}")

    def _with_tracks(self, tracks: Iterable[AudioTrack], action: str) -> Timeline:
        try:
            return replace(self, audio_tracks=tuple(tracks))
        except EditError as exc:
            raise EditError(f"cannot {action}: {exc}") from None

    def _with_track(self, track: AudioTrack, action: str) -> Timeline:
        tracks = list(self.audio_tracks)
        tracks[self._track_index(track.id)] = track
        return self._with_tracks(tracks, action)

    def add_audio_track(self, track: AudioTrack) -> Timeline:
        if not isinstance(track, AudioTrack):
            raise EditError(f"expected an AudioTrack, not {track!r}")
        return self._with_tracks((*self.audio_tracks, track), f"add audio track {track.id!r}")

    def replace_audio_track(self, track: AudioTrack) -> Timeline:
        """The track with the same id replaced (its name, gain, mute or clips)."""
        if not isinstance(track, AudioTrack):
            raise EditError(f"expected an AudioTrack, not {track!r}")
        return self._with_track(track, f"change audio track {track.id!r}")

    def remove_audio_track(self, track_id: str) -> Timeline:
        t = self._track_index(track_id)
        tracks = self.audio_tracks[:t] + self.audio_tracks[t + 1 :]
        return self._with_tracks(tracks, f"remove audio track {track_id!r}")

    def _place(self, track: AudioTrack, clip: AudioClip, action: str) -> Timeline:
        """`track` with `clip` in it (replacing the clip of the same id), refusing overlap."""
        others = [c for c in track.clips if c.id != clip.id]
        for other in others:
            if other.start < clip.end and clip.start < other.end:
                raise EditError(
                    f"cannot {action}: frames {clip.start}-{clip.end} overlap audio clip "
                    f"{other.id!r} (frames {other.start}-{other.end}) on track "
                    f"{track.name or track.id!r}"
                )
        clips = tuple(sorted([*others, clip], key=lambda c: c.start))
        return self._with_track(replace(track, clips=clips), action)

    def add_audio_clip(self, track_id: str, clip: AudioClip) -> Timeline:
        """`clip` added to a track; refused where it would overlap a clip already there."""
        if not isinstance(clip, AudioClip):
            raise EditError(f"expected an AudioClip, not {clip!r}")
        track = self.audio_track(track_id)
        action = f"add audio clip {clip.id!r}"
        if any(c.id == clip.id for c in track.clips):
            raise EditError(f"cannot {action}: the track already has a clip with that id")
        return self._place(track, clip, action)

    def set_audio_clip(self, track_id: str, clip: AudioClip) -> Timeline:
        """The track's clip with the same id replaced by `clip`, refusing overlap."""
        if not isinstance(clip, AudioClip):
            raise EditError(f"expected an AudioClip, not {clip!r}")
        track = self.audio_track(track_id)
        track.index_of(clip.id)
        return self._place(track, clip, f"change audio clip {clip.id!r}")

    def move_audio_clip(self, track_id: str, clip_id: str, start: int) -> Timeline:
        """The audio clip placed at timeline frame `start`, refusing overlap."""
        start = frame_arg(start, "start")
        if start < 0:
            raise EditError(f"audio clip {clip_id!r} cannot start before frame 0")
        track = self.audio_track(track_id)
        clip = track.clips[track.index_of(clip_id)]
        return self._place(track, replace(clip, start=start), f"move audio clip {clip_id!r}")

    def trim_audio_clip(
        self,
        track_id: str,
        clip_id: str,
        *,
        source_in: int | None = None,
        source_out: int | None = None,
        source_frames: int | None = None,
    ) -> Timeline:
        """The audio clip with new source in and/or out points; its sound stays in place.

        Moving the in point moves the clip's start with it, as dragging a clip's head does.
        Refused if the clip would start before frame 0, overlap a neighbour, end past
        `source_frames` (the media's length in frames) or be too short for its fades.
        """
        track = self.audio_track(track_id)
        clip = track.clips[track.index_of(clip_id)]
        new_in = clip.source_in if source_in is None else frame_arg(source_in, "source_in")
        new_out = clip.source_out if source_out is None else frame_arg(source_out, "source_out")
        action = f"trim audio clip {clip_id!r}"
        start = clip.start + new_in - clip.source_in
        if new_in < 0 or start < 0:
            raise EditError(f"cannot {action}: it would start before the media or the timeline")
        if new_out <= new_in:
            raise EditError(f"cannot {action}: {new_in}..{new_out} leaves no frames")
        if source_frames is not None and new_out > frame_arg(source_frames, "source_frames"):
            raise EditError(f"cannot {action}: the media has only {source_frames} frames")
        if clip.fade_in + clip.fade_out > new_out - new_in:
            raise EditError(
                f"cannot {action}: {new_out - new_in} frames is too short for its fades of "
                f"{clip.fade_in} + {clip.fade_out} frames"
            )
        trimmed = replace(clip, start=start, source_in=new_in, source_out=new_out)
        return self._place(track, trimmed, action)

    def remove_audio_clip(self, track_id: str, clip_id: str) -> Timeline:
        track = self.audio_track(track_id)
        j = track.index_of(clip_id)
        clips = track.clips[:j] + track.clips[j + 1 :]
        return self._with_track(replace(track, clips=clips), f"remove audio clip {clip_id!r}")
