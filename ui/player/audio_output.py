"""Sound out of the speakers for the player, and the audio clock that video follows.

`AudioOutput` plays a float32 stereo buffer through a sounddevice stream whose callback
copies from it; the callback counts the samples it has handed to the device, and together
with the stream's own clock that gives `position_seconds()`, the time of the sample being
heard now. Where there is no sound (no PortAudio, no output device, a device that refuses to
open) `available` is False, `reason` says why, and the player keeps time on a wall clock.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np


def _probe() -> tuple[Any, str]:
    """(the sounddevice module, "") when an output device exists, else (None, why not)."""
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        return None, f"sound is unavailable ({exc})"
    try:
        devices = sounddevice.query_devices()
    except Exception as exc:  # PortAudioError and whatever a broken host API raises
        return None, f"sound devices cannot be listed ({exc})"
    if not any(d.get("max_output_channels", 0) > 0 for d in devices):
        return None, "there is no audio output device"
    return sounddevice, ""


class AudioOutput:
    """One output stream at a time, fed from a numpy buffer on the audio thread."""

    def __init__(self, device: int | str | None = None) -> None:
        self._sd, self.reason = _probe()
        self.device = device
        self._stream: Any = None
        self._lock = threading.Lock()
        self._buffer = np.zeros((0, 2), np.float32)
        self._rate = 48000
        self._origin = 0  # buffer sample the stream started at
        self._read = 0  # next buffer sample the callback hands out
        self._consumed = 0  # samples handed out since start (keeps counting through loops)
        self._loop = False
        self._block: tuple[int, float] | None = None  # (consumed, DAC time) of the last block

    @property
    def available(self) -> bool:
        return self._sd is not None

    @property
    def active(self) -> bool:
        return self._stream is not None

    def start(
        self, samples: np.ndarray, sample_rate: int, at_sample: int = 0, *, loop: bool = False
    ) -> bool:
        """Play `samples` (n, 2) from `at_sample`; `loop` wraps to the buffer's start.

        Returns False (and sets `reason`) when the stream cannot be opened.
        """
        self.stop()
        if self._sd is None:
            return False
        with self._lock:
            self._buffer = np.ascontiguousarray(samples, np.float32).reshape(-1, 2)
            self._rate = int(sample_rate)
            self._origin = self._read = max(0, int(at_sample))
            self._consumed = 0
            self._loop = loop and len(self._buffer) > 0
            self._block = None
        try:
            stream = self._sd.OutputStream(
                samplerate=self._rate,
                channels=2,
                dtype="float32",
                device=self.device,
                callback=self._callback,
            )
            stream.start()
        except Exception as exc:  # PortAudioError, OSError: a device that will not open
            self._sd = None
            self.reason = f"the audio device cannot be opened ({exc})"
            return False
        self._stream = stream
        return True

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:  # a device unplugged mid-play: there is nothing left to stop
                pass

    close = stop

    def position_seconds(self) -> float:
        """Seconds into the buffer of the sample being heard now; keeps counting in loops.

        Before the first callback this is the start position.
        """
        with self._lock:
            consumed, block, rate = self._consumed, self._block, self._rate
            origin = self._origin
        heard = float(consumed)
        stream = self._stream
        if block is not None and stream is not None:
            block_start, dac_time = block
            try:
                # The block that started at `block_start` reaches the speaker at `dac_time`.
                heard = block_start + (stream.time - dac_time) * rate
            except Exception:
                heard = float(consumed)
            heard = min(max(heard, 0.0), float(consumed))
        return (origin + heard) / rate

    def _callback(self, outdata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        with self._lock:
            start = self._consumed
            self._fill(outdata, frames)
            dac = getattr(time, "outputBufferDacTime", None)
            if dac:
                self._block = (start, float(dac))

    def _fill(self, out: np.ndarray, frames: int) -> None:
        """Copy the next `frames` samples into `out`; silence after the end."""
        buffer, filled = self._buffer, 0
        while filled < frames:
            if self._read >= len(buffer):
                if not self._loop:
                    out[filled:] = 0
                    break
                self._read = 0
            n = min(frames - filled, len(buffer) - self._read)
            out[filled : filled + n] = buffer[self._read : self._read + n]
            self._read += n
            filled += n
        self._consumed += frames
