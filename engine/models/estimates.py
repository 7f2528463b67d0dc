"""Before a shot renders: its estimated time and peak GPU memory, and its frame-count note.

Figures come only from `models/estimates.json`: what the model authors published, one row
per published setting, each with its source. An estimate starts from the published rows of
the chosen model:

- time: the row nearest the shot's work (pixels x frames x steps), scaled in proportion to
  that work. Attention grows faster than linearly with the frame size and count, so a shot
  far from the published setting gets a rough figure, and the basis text says it is scaled;
- memory: the published peak, interpolated between two rows of the model that bracket the
  shot's pixels x frames, else the nearest row's figure (never extrapolated);
- profile: a row measured with another profile's setup (CPU offload is 'lowvram') is used as
  it is and said so, unless the source gives a factor between the two (CogVideoX's README
  does for memory). The 'fast' profile has no published figures: it gets the quality one;
  a draft gets the quality rows too, scaled to its smaller size and fewer steps;
- quantization: the weights a quantization saves (`quantized_weights`), computed from the
  published parameter counts (bytes per weight), never published: said so in the basis.

A shot longer than one clip is estimated segment by segment (engine.render.extend).
Models without a row (test models, the previz, models whose authors published nothing
usable) get an estimate with no figures and a basis that says why.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from engine.models.catalog import Catalog, ModelEntry
from engine.render.extend import can_extend, plan_segments
from engine.render.reporter import duration_text
from studio.jobs import CameraMode, Profile, Quantization

ESTIMATES_FILE = Path(__file__).with_name("estimates.json")
FAMILIES = ("wan", "ltx", "cogvideox", "hunyuan")
_PROFILES = {p.value for p in Profile}


@dataclass(frozen=True)
class Source:
    url: str
    quote: str


@dataclass(frozen=True)
class Figure:
    """One published setting: what it cost on which GPU, and where it was published."""

    family: str
    models: tuple[str, ...]
    width: int
    height: int
    frames: int
    steps: int | None
    gpu: str
    seconds: float | None
    vram_gb: float | None
    profile: Profile
    notes: str
    sources: tuple[Source, ...]

    @property
    def work(self) -> int:
        return self.width * self.height * self.frames


@dataclass(frozen=True)
class ProfileFactor:
    models: tuple[str, ...]
    source_profile: Profile
    target_profile: Profile
    vram: float | None
    seconds: float | None
    notes: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Table:
    figures: tuple[Figure, ...]
    factors: tuple[ProfileFactor, ...]

    def of(self, model_id: str) -> list[Figure]:
        return [f for f in self.figures if model_id in f.models]


@dataclass(frozen=True)
class Estimate:
    """Seconds and peak GPU memory (None where nothing was published), how they were
    reached, the source URLs, and whether they are a published row's own figures."""

    seconds: float | None
    vram_gb: float | None
    basis: str
    source: str
    exact: bool
    gpu: str = ""

    @property
    def summary(self) -> str:
        """One line for a shot card: "about 6 min, 8.2 GB on an RTX 4090"."""
        parts = []
        if self.seconds is not None:
            parts.append(f"about {duration_text(self.seconds)}")
        if self.vram_gb is not None:
            parts.append(f"{self.vram_gb:.3g} GB")
        if not parts:
            return self.basis
        return ", ".join(parts) + (f" on {_article(self.gpu)}" if self.gpu else "")


def _article(gpu: str) -> str:
    if gpu.startswith(("one ", "a ", "an ")):
        return gpu
    return f"an {gpu}" if gpu[:1].upper() in "AEFHILMNORSX" else f"a {gpu}"


# --- the table ----------------------------------------------------------------------------


class TableError(ValueError):
    """The estimates table breaks its own rules (a row without a source, a bad number...)."""


def _sources(raw: Any, where: str) -> tuple[Source, ...]:
    if not isinstance(raw, list) or not raw:
        raise TableError(f"{where}: every row needs at least one source")
    out = []
    for item in raw:
        url, quote = item.get("url", ""), item.get("quote", "")
        if not (isinstance(url, str) and url.startswith("https://")):
            raise TableError(f"{where}: a source needs an https URL, found {url!r}")
        if not (isinstance(quote, str) and quote.strip()):
            raise TableError(f"{where}: the source {url} needs the quoted text")
        out.append(Source(url, quote))
    return tuple(out)


def _number(value: Any, where: str, name: str, *, optional: bool = True) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise TableError(f"{where}: {name} must be a positive number, found {value!r}")
    if not math.isfinite(value):
        raise TableError(f"{where}: {name} must be finite")
    return value


def parse_table(raw: dict[str, Any], known_models: set[str] | None = None) -> Table:
    """The table from its JSON form, checked: TableError names the first broken rule."""
    figures = []
    for i, row in enumerate(raw.get("rows", [])):
        where = f"rows[{i}]"
        family = row.get("family")
        if family not in FAMILIES:
            raise TableError(f"{where}: unknown family {family!r}")
        models = tuple(row.get("models", ()))
        if not models:
            raise TableError(f"{where}: a row names the models it is about")
        if known_models is not None and not set(models) <= known_models:
            raise TableError(f"{where}: unknown models {sorted(set(models) - known_models)}")
        dims = [
            _number(row.get(k), where, k, optional=False) for k in ("width", "height", "frames")
        ]
        steps = _number(row.get("steps"), where, "steps")
        seconds = _number(row.get("seconds"), where, "seconds")
        vram = _number(row.get("vram_gb"), where, "vram_gb")
        if seconds is None and vram is None:
            raise TableError(f"{where}: a row without a time or a memory figure says nothing")
        if row.get("profile") not in _PROFILES:
            raise TableError(f"{where}: unknown profile {row.get('profile')!r}")
        if not row.get("gpu"):
            raise TableError(f"{where}: a row names the GPU it was measured on")
        figures.append(
            Figure(
                family=family,
                models=models,
                width=int(dims[0]),
                height=int(dims[1]),
                frames=int(dims[2]),
                steps=None if steps is None else int(steps),
                gpu=row["gpu"],
                seconds=seconds,
                vram_gb=vram,
                profile=Profile(row["profile"]),
                notes=row.get("notes", ""),
                sources=_sources(row.get("sources"), where),
            )
        )
    factors = []
    for i, item in enumerate(raw.get("profile_factors", [])):
        where = f"profile_factors[{i}]"
        factors.append(
            ProfileFactor(
                models=tuple(item["models"]),
                source_profile=Profile(item["from"]),
                target_profile=Profile(item["to"]),
                vram=_number(item.get("vram"), where, "vram"),
                seconds=_number(item.get("seconds"), where, "seconds"),
                notes=item.get("notes", ""),
                sources=_sources(item.get("sources"), where),
            )
        )
    return Table(tuple(figures), tuple(factors))


@cache
def load_table(path: Path = ESTIMATES_FILE) -> Table:
    known = set(Catalog().ids()) if path == ESTIMATES_FILE else None
    return parse_table(json.loads(path.read_text(encoding="utf-8")), known)


# --- estimates ----------------------------------------------------------------------------


def _distance(figure: Figure, width: int, height: int, frames: int, steps: int | None) -> float:
    off = abs(math.log(width * height * frames / figure.work))
    if steps is not None and figure.steps is not None:
        off += abs(math.log(steps / figure.steps))
    return off


def _vram(figures: list[Figure], work: int) -> tuple[float, Figure, str] | None:
    """Published peak memory at `work` pixels x frames: interpolated between bracketing
    rows, else the nearest row's; with the row it leans on and how it was reached."""
    rows = sorted((f for f in figures if f.vram_gb is not None), key=lambda f: f.work)
    if not rows:
        return None
    below = [f for f in rows if f.work <= work]
    above = [f for f in rows if f.work >= work]
    if below and above and below[-1].work != above[0].work:
        lo, hi = below[-1], above[0]
        share = (work - lo.work) / (hi.work - lo.work)
        value = lo.vram_gb + share * (hi.vram_gb - lo.vram_gb)
        how = (
            f"interpolated between {lo.vram_gb:g} GB at {_size(lo)} and "
            f"{hi.vram_gb:g} GB at {_size(hi)}"
        )
        return value, (lo if share < 0.5 else hi), how
    nearest = min(rows, key=lambda f: abs(math.log(work / f.work)))
    how = "published" if nearest.work == work else f"the figure published for {_size(nearest)}"
    return nearest.vram_gb, nearest, how


def _size(figure: Figure) -> str:
    return f"{figure.width}x{figure.height}, {figure.frames} frames"


def _for_profile(
    table: Table, model_id: str, profile: Profile
) -> tuple[list[Figure], ProfileFactor | None, str]:
    """The rows to estimate `profile` from, a factor to apply to them, and what to say."""
    rows = table.of(model_id)
    wanted = Profile.QUALITY if profile in (Profile.FAST, Profile.DRAFT) else profile
    note = ""
    if profile == Profile.FAST:
        note = "figure for the quality profile (none published for fast)"
    elif profile == Profile.DRAFT:
        note = "the quality profile's figure at the draft's size and steps (none published)"
    same = [f for f in rows if f.profile == wanted]
    if same:
        return same, None, note
    other = rows
    for factor in table.factors:
        if model_id in factor.models and factor.target_profile == wanted:
            other = [f for f in rows if f.profile == factor.source_profile]
            if other:
                return other, factor, note
    measured = {f.profile for f in rows}
    if measured == {Profile.LOWVRAM}:
        note = f"measured with CPU offload (the lowvram profile); none published for {wanted}"
    else:
        note = f"figure for the {'/'.join(sorted(measured))} profile; none published for {wanted}"
    return other, None, note


def _clip_estimate(
    entry: ModelEntry,
    width: int,
    height: int,
    frames: int,
    profile: Profile,
    steps: int | None,
    table: Table,
) -> Estimate:
    rows, factor, profile_note = _for_profile(table, entry.id, profile)
    name = entry.name
    if not rows:
        return Estimate(None, None, f"no published figure for {name}", "", False)
    basis: list[str] = []
    used: list[Figure] = []
    exact = factor is None and not profile_note
    seconds = None
    gpu = ""
    timed = [f for f in rows if f.seconds is not None]
    if timed:
        best = min(timed, key=lambda f: _distance(f, width, height, frames, steps))
        scale = width * height * frames / best.work
        if steps is not None and best.steps is not None:
            scale *= steps / best.steps
        seconds = best.seconds * scale
        gpu = best.gpu
        used.append(best)
        where = f"{best.seconds:g} s on {_article(best.gpu)} for {_size(best)}"
        if best.steps is not None:
            where += f", {best.steps} steps"
        if math.isclose(scale, 1.0):
            basis.append(f"time: {where} (published)")
        else:
            basis.append(f"time: {where}, scaled x{scale:.2f} with pixels x frames x steps")
            exact = False
        if steps is not None and best.steps is None:
            basis.append("the source gives no step count, so steps are not scaled")
            exact = False
        if factor is not None and factor.seconds is not None:
            seconds *= factor.seconds
        elif factor is not None:
            basis.append(f"time measured with the {factor.source_profile} setup")
            exact = False
    else:
        basis.append("time: none published")
        exact = False
    vram = None
    found = _vram(rows, width * height * frames)
    if found is not None:
        vram, row, how = found
        used.append(row)
        gpu = gpu or row.gpu
        exact = exact and how == "published"
        basis.append(f"peak memory: {how}")
        if factor is not None and factor.vram is not None:
            vram *= factor.vram
            basis.append(
                f"x{factor.vram:g} without the {factor.source_profile} setup, as published"
            )
    else:
        basis.append("peak memory: none published")
        exact = False
    if profile_note:
        basis.append(profile_note)
    basis.extend(dict.fromkeys(f.notes for f in used if f.notes))
    if factor is not None and factor.notes:
        basis.append(factor.notes)
    sources = [s for f in used for s in f.sources]
    sources += list(factor.sources) if factor is not None else []
    urls = " ".join(dict.fromkeys(s.url for s in sources))
    return Estimate(seconds, vram, "; ".join(basis), urls, exact, gpu)


def estimate(
    entry: ModelEntry,
    width: int,
    height: int,
    frames: int,
    profile: Profile | str = Profile.QUALITY,
    steps: int | None = None,
    *,
    table: Table | None = None,
    camera_mode: CameraMode = CameraMode.PROMPT,
) -> Estimate:
    """Time and peak memory of rendering `frames` frames at width x height with `entry`."""
    profile = Profile(profile)
    if entry.backend == "previz":
        return Estimate(None, None, "previz: seconds on a CPU, no GPU needed", "", False)
    if entry.test:
        return Estimate(None, None, "test model: seconds on a CPU; no published figure", "", False)
    table = table or load_table()
    steps = steps or entry.steps
    limit = entry.max_frames
    if limit is None or frames <= limit:
        return _clip_estimate(entry, width, height, frames, profile, steps, table)
    if not can_extend(entry, camera_mode):
        clip = _clip_estimate(entry, width, height, limit, profile, steps, table)
        basis = f"{limit} frames, the most {entry.name} renders (it cannot continue a clip); "
        return replace(clip, basis=basis + clip.basis, exact=False)
    segments = plan_segments(frames, limit, entry.frame_multiple)
    parts = [
        _clip_estimate(entry, width, height, s.frames, profile, steps, table) for s in segments
    ]
    first = parts[0]
    if first.seconds is None and first.vram_gb is None:
        return first
    seconds = None if first.seconds is None else sum(p.seconds or 0.0 for p in parts)
    vram = max((p.vram_gb for p in parts if p.vram_gb is not None), default=None)
    basis = f"{len(segments)} segments of up to {limit} frames, summed; first segment: "
    basis += first.basis
    return Estimate(seconds, vram, basis, first.source, False, first.gpu)


def frame_note(
    entry: ModelEntry, wanted_frames: int, camera_mode: CameraMode = CameraMode.PROMPT
) -> str | None:
    """What becomes of a shot's frame count with this model, in words; None when nothing
    applies (the previz takes any count)."""
    limit = entry.max_frames
    if limit is not None and wanted_frames > limit:
        if can_extend(entry, camera_mode):
            count = len(plan_segments(wanted_frames, limit, entry.frame_multiple))
            return (
                f"{wanted_frames} frames: {count} overlapping segments of up to {limit} "
                f"({entry.name} renders at most {limit} frames per clip)"
            )
        return (
            f"{wanted_frames} frames -> {entry.snap_frames(wanted_frames)}: the clip limit of "
            f"{entry.name}, which cannot continue a clip"
        )
    if entry.frame_multiple <= 1:
        return None
    snapped = entry.snap_frames(wanted_frames)
    if snapped == wanted_frames:
        return f"{wanted_frames} frames (fits the {entry.frame_rule} rule of {entry.name})"
    return f"{wanted_frames} frames -> {snapped} for the {entry.frame_rule} rule of {entry.name}"


# --- quantized weights --------------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    """The weights a quantization stores, against the bf16 ones, in GB, and how known."""

    full_gb: float
    quantized_gb: float
    basis: str
    source: str

    @property
    def saved_gb(self) -> float:
        return max(0.0, self.full_gb - self.quantized_gb)


@cache
def _quantization_table(path: Path = ESTIMATES_FILE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")).get("quantization", {})


def quantized_weights(
    entry: ModelEntry, quantization: Quantization | str, *, path: Path = ESTIMATES_FILE
) -> Weights | None:
    """What `quantization` makes of the model's weights: computed from its published
    parameter counts (or, for GGUF, the published size of the catalog's file); None where
    the counts are not known or nothing is quantized."""
    quantization = Quantization(quantization)
    if quantization == Quantization.NONE:
        return None
    table = _quantization_table(path)
    row = next((r for r in table.get("models", ()) if entry.id in r["models"]), None)
    if row is None:
        return None
    per = table["bytes_per_weight"]
    transformer = float(row["transformer_b"])
    encoder = float(row.get("text_encoder_b", 0.0))
    full = (transformer + encoder) * per["none"]
    urls = " ".join(s["url"] for s in row["sources"])
    counts = f"{transformer:g} B transformer" + (
        f" + {encoder:g} B text encoder parameters" if encoder else " parameters"
    )
    if quantization == Quantization.GGUF:
        size = (entry.gguf or {}).get("gb")
        if size is None:
            return None
        quantized = float(size) + encoder * per["none"]
        basis = (
            f"{entry.gguf['file']}: {size:g} GB (published file size) in place of "
            f"{transformer * per['none']:.3g} GB of bf16 transformer (computed from {counts})"
        )
        return Weights(full, quantized, basis, urls)
    bytes_per = per[quantization.value]
    quantized = (transformer + encoder) * bytes_per
    basis = (
        f"computed, not published: {counts} x {bytes_per:g} bytes each ({quantization}) = "
        f"{quantized:.3g} GB of weights instead of {full:.3g} GB in bf16"
    )
    return Weights(full, quantized, basis, " ".join([urls, table["bytes_source"]["url"]]))


def with_quantization(found: Estimate, entry: ModelEntry, quantization: Quantization) -> Estimate:
    """`found` (an estimate without quantization) with the memory the quantized weights
    save taken off its peak, saying it is computed; as it is when nothing is known."""
    weights = quantized_weights(entry, quantization)
    if weights is None:
        if quantization == Quantization.NONE:
            return found
        note = f"{quantization} weights: no parameter count known, memory not recomputed"
        return replace(found, basis=f"{found.basis}; {note}", exact=False)
    vram = found.vram_gb
    if vram is not None:
        vram = max(0.5, vram - weights.saved_gb)
    source = " ".join(filter(None, [found.source, weights.source]))
    basis = f"{found.basis}; {quantization} weights: {weights.basis}"
    return replace(found, vram_gb=vram, basis=basis, source=source, exact=False)
