"""The export formats: codecs, pixel formats, encoder options and file suffixes of each preset.

| preset | video                                   | audio             | file          |
|--------|-----------------------------------------|-------------------|---------------|
| web    | H.264 High 4:2:0 8-bit, CRF 20, medium  | AAC 192 kb/s      | .mp4, +faststart |
| hevc   | H.265 Main 10 4:2:0, CRF 24, medium     | AAC 192 kb/s      | .mp4, tag hvc1 |
| prores | ProRes 422 HQ 4:2:2 10-bit              | PCM 24-bit        | .mov          |
| webm   | VP9 4:2:0, CRF 32, good/cpu-used 4      | Opus 128 kb/s     | .webm         |
| gif    | 256-colour palette from the film, dithered | none           | .gif          |
| png    | RGB PNG per frame, `name_00000.png`...  | none              | a folder      |

All video is tagged BT.709 limited range, like the takes. The web preset's keyframes fall
at least every two seconds so that players seek quickly; x264 may add more at cuts.

H.264 helpers for smart render live here too: the parameter sets (SPS and PPS) of a take
or of an encoder, which must be byte-identical for copied and new pictures to share one
stream, and the conversion of the encoder's Annex B packets to MP4's length prefixes.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from studio.jobs import ExportPreset

# AVCOL_* value 1 is BT.709 for primaries, transfer and matrix; range 1 is limited ("tv").
BT709, LIMITED_RANGE = 1, 1
GLOBAL_HEADER = av.codec.context.Flags.global_header


@dataclass(frozen=True)
class PresetSpec:
    """How one preset writes: container suffixes, video and audio codecs and options."""

    preset: ExportPreset
    suffixes: tuple[str, ...]  # the first is the default; () for a folder of images
    video_codec: str
    pix_fmt: str
    default_crf: int | None = None
    audio_codec: str | None = None
    audio_bit_rate: int = 0
    codec_tag: str | None = None
    container_options: dict[str, str] = field(default_factory=dict)

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    def video_options(self, crf: int | None, fps: Fraction) -> dict[str, str]:
        """Encoder options for this preset at quality `crf` (None: the preset's default)."""
        crf = self.default_crf if crf is None else crf
        if self.video_codec == "libx264":
            return web_settings(crf, fps).options()
        if self.video_codec == "libx265":
            return {"crf": str(crf), "preset": "medium", "x265-params": "log-level=error"}
        if self.video_codec == "libvpx-vp9":
            # libvpx honours crf as a constant-quality target only with a zero bitrate.
            opts = {"crf": str(crf), "b": "0", "deadline": "good", "cpu-used": "4"}
            return opts | {"row-mt": "1"}
        if self.video_codec == "prores_ks":
            return {"profile": "hq", "vendor": "apl0"}
        return {}

    def gop(self, fps: Fraction) -> int | None:
        if self.video_codec == "libx264":
            return web_settings(None, fps).gop
        return None


SPECS: dict[ExportPreset, PresetSpec] = {
    ExportPreset.WEB: PresetSpec(
        ExportPreset.WEB,
        (".mp4", ".m4v", ".mov"),
        "libx264",
        "yuv420p",
        20,
        "aac",
        192_000,
        container_options={"movflags": "+faststart"},
    ),
    ExportPreset.HEVC: PresetSpec(
        ExportPreset.HEVC,
        (".mp4", ".mov"),
        "libx265",
        "yuv420p10le",
        24,
        "aac",
        192_000,
        codec_tag="hvc1",  # what Apple players require of HEVC in MP4
        container_options={"movflags": "+faststart"},
    ),
    ExportPreset.PRORES: PresetSpec(
        ExportPreset.PRORES, (".mov",), "prores_ks", "yuv422p10le", None, "pcm_s24le"
    ),
    ExportPreset.WEBM: PresetSpec(
        ExportPreset.WEBM, (".webm",), "libvpx-vp9", "yuv420p", 32, "libopus", 128_000
    ),
    ExportPreset.GIF: PresetSpec(ExportPreset.GIF, (".gif",), "gif", "pal8"),
    ExportPreset.PNG: PresetSpec(ExportPreset.PNG, (), "png", "rgb24"),
}


def output_problem(preset: ExportPreset, output: Path) -> str | None:
    """Why `output` cannot hold this preset's film, or None when it can."""
    spec = SPECS[preset]
    suffix = output.suffix.lower()
    if not spec.suffixes:
        if suffix == ".png":
            return "a PNG sequence is written to a folder; give a folder name, not a .png file"
        return None
    if suffix not in spec.suffixes:
        kinds = " or ".join(spec.suffixes)
        return f"the {preset.value} preset writes {kinds} files, not {output.name!r}"
    return None


def with_default_suffix(preset: ExportPreset, output: Path) -> Path:
    """`output` with the preset's suffix added when it has none (and is not a device or
    another special file already there: `/dev/full` must not become `/dev/full.mp4`)."""
    spec = SPECS[preset]
    if spec.suffixes and not output.suffix and not _special(output):
        return output.with_suffix(spec.suffixes[0])
    return output


# The lowest export rate: below one frame a second a film is a slideshow, and a rate
# such as 0.0001 rounds to no frames at all. The highest is the timeline's own limit.
MIN_EXPORT_FPS = 1
MAX_EXPORT_FPS = 1000


def fps_problem(fps: Fraction, given: object = None) -> str | None:
    """Why `fps` cannot be an export's rate, or None; `given` is what the user typed."""
    if MIN_EXPORT_FPS <= fps <= MAX_EXPORT_FPS:
        return None
    shown = fps if given is None else given
    return (
        f"the frame rate must be between {MIN_EXPORT_FPS} and {MAX_EXPORT_FPS} frames a "
        f"second, not {shown}"
    )


def _special(path: Path) -> bool:
    """Whether something other than a regular file or a folder is at `path` (a device,
    a pipe, a socket), following links as a write would."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def inside(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or lies in it, links resolved."""
    try:
        path, folder = path.resolve(), folder.resolve()
    except (OSError, RuntimeError):
        return False
    return path == folder or folder in path.parents


def destination_problem(
    output: Path, project_folder: Path | None = None, *, folder_output: bool = False
) -> str | None:
    """Why a file (or, with `folder_output`, a folder of frames) cannot be written at
    `output`, or None: it must be a new name or an existing regular file (a folder for
    `folder_output`) in a folder that exists and can be written, and never inside the
    project's take folder, where it would replace a take."""
    parent = output.parent
    if not parent.is_dir():
        return f"the folder {str(parent)!r} does not exist"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot write in the folder {str(parent)!r}"
    if project_folder is not None and inside(output, Path(project_folder) / "takes"):
        return (
            f"{output} is inside the project's take folder, where it would replace a take; "
            "choose another folder"
        )
    if _special(output):
        return f"{output} is not a regular file (a device, a pipe or a socket); name a file"
    if not folder_output and output.is_dir():
        return f"{output} is a folder; name a file to write the film to"
    if folder_output and output.exists() and not output.is_dir():
        return f"{output} exists and is not a folder; choose another name"
    return None


# ---------------------------------------------------------------------------------------
# H.264 for the web preset and for smart render


@dataclass(frozen=True)
class H264Settings:
    """The libx264 settings that decide an H.264 stream's parameter sets."""

    crf: int
    preset: str
    gop: int
    fixed_gop: bool  # keyframes exactly every `gop` frames (no scene-cut keyframes)

    def options(self) -> dict[str, str]:
        opts = {"crf": str(self.crf), "preset": self.preset}
        if self.fixed_gop:
            opts |= {"keyint_min": str(self.gop), "sc_threshold": "0"}
        return opts


def web_settings(crf: int | None, fps: Fraction) -> H264Settings:
    """The web preset's own H.264: keyframes at most two seconds apart, CRF 20 by default."""
    return H264Settings(20 if crf is None else crf, "medium", max(1, round(2 * fps)), False)


# What `engine.render.worker.Engine` writes every take with (its `_write_media`): an export that
# encodes with exactly these settings gets parameter sets identical to the takes'.
TAKE_SETTINGS = H264Settings(16, "veryfast", 12, True)


def h264_encoder(
    settings: H264Settings, width: int, height: int, fps: Fraction
) -> av.video.codeccontext.VideoCodecContext:
    """A libx264 encoder outside any container, with its parameter sets in `extradata`."""
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
    ctx.time_base = 1 / fps
    ctx.framerate = fps
    ctx.gop_size = settings.gop
    ctx.colorspace = ctx.color_primaries = ctx.color_trc = BT709
    ctx.color_range = LIMITED_RANGE
    # Parameter sets go to extradata (as for MP4), not in front of every keyframe.
    ctx.flags |= GLOBAL_HEADER
    ctx.thread_type = "AUTO"
    ctx.options = settings.options()
    ctx.open()
    return ctx


def annexb_units(data: bytes) -> list[bytes]:
    """The NAL units of Annex B data (units after 00 00 01 or 00 00 00 01 start codes)."""
    starts: list[int] = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        starts.append(i + 3)
        i = data.find(b"\x00\x00\x01", i + 3)
    units = []
    for k, begin in enumerate(starts):
        end = starts[k + 1] - 3 if k + 1 < len(starts) else len(data)
        # A zero byte before the next start code belongs to that 4-byte start code.
        unit = data[begin:end].rstrip(b"\x00") if k + 1 < len(starts) else data[begin:end]
        if unit:
            units.append(unit)
    return units


def annexb_to_avcc(data: bytes) -> bytes:
    """Annex B (start codes) to MP4's 4-byte length prefixes, what `avcC` streams hold."""
    return b"".join(len(u).to_bytes(4, "big") + u for u in annexb_units(data))


def avcc_units(data: bytes, length_size: int = 4) -> list[bytes]:
    """The NAL units of length-prefixed data; [] when the lengths do not add up."""
    units, i = [], 0
    while i + length_size <= len(data):
        n = int.from_bytes(data[i : i + length_size], "big")
        i += length_size
        if n == 0 or i + n > len(data):
            return []
        units.append(data[i : i + n])
        i += n
    return units if i == len(data) else []


def parameter_sets(extradata: bytes | None) -> tuple[bytes, ...] | None:
    """The SPS and PPS units of H.264 extradata (`avcC` or Annex B), sorted; None if none."""
    if not extradata:
        return None
    units: list[bytes] = []
    if extradata[0] == 1:  # avcC: version 1, then counted, 16-bit-length-prefixed SPS and PPS
        try:
            i = 5
            for mask in (0x1F, 0xFF):  # 5 bits count the SPS units, a full byte the PPS
                count = extradata[i] & mask
                i += 1
                for _ in range(count):
                    n = int.from_bytes(extradata[i : i + 2], "big")
                    units.append(bytes(extradata[i + 2 : i + 2 + n]))
                    i += 2 + n
        except IndexError:
            return None
    else:
        units = annexb_units(bytes(extradata))
    sets = sorted(u for u in units if u and u[0] & 0x1F in (7, 8))
    return tuple(sets) or None


def avcc_length_size(extradata: bytes | None) -> int | None:
    """Bytes in each NAL length prefix of an `avcC` stream, None for other extradata."""
    if not extradata or extradata[0] != 1 or len(extradata) < 5:
        return None
    return (extradata[4] & 3) + 1


def has_idr(packet_data: bytes) -> bool:
    """Whether a length-prefixed H.264 access unit holds an IDR slice (a clean start)."""
    return any(u[0] & 0x1F == 5 for u in avcc_units(packet_data))
