"""Corrupted and hostile variants of the example project, and the checks every one must pass.

`variants(count)` gives `count` variants of `assets/examples/Lighthouse.gallop`, spread over
KINDS and the same for the same count on every run (seeded). Each is built in a fresh folder
by `materialize`; `check_variant` loads it and asserts what loading a project promises:

- `load_project` (and `load_recovery` for an autosave) returns a project or raises
  ProjectError whose text is one printable line of bounded length, never anything else;
- a project that loads saves and reads back equal, every path it names resolves inside
  the folder, and the text `gallop info` shows can be produced and encoded;
- nothing blocks (FIFOs are watched: a reader stuck on one is let go and reported) and
  memory stays bounded (an address-space ceiling while special files are read);
- no file in the folder, or in the folder outside it that symlinks point to, changes.

Only studio/ is imported here, so the studio tests run it with numpy alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import stat
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from studio.camera.rig import describe
from studio.errors import MAX_MESSAGE_CHARS, MAX_PATH_CHARS, ProjectError
from studio.jobs import GenerationRequest
from studio.project.io import (
    AUTOSAVE_FILE,
    PROJECT_FILE,
    Recovery,
    decode_project,
    encode_project,
    load_project,
    load_recovery,
    save_project,
)
from studio.project.model import Project, Take
from studio.timeline.items import audio_track_to_dict, item_to_dict
from tests.projects import EXAMPLE

# The variable that sets how many variants the suite checks; unset, DEFAULT_VARIANTS.
COUNT_VARIABLE = "GALLOP_CORRUPT_VARIANTS"
DEFAULT_VARIANTS = 1000

# "path: message" with both parts at their caps.
MAX_ERROR_CHARS = MAX_PATH_CHARS + 2 + MAX_MESSAGE_CHARS
# Address space a load may add while it meets a special file: far above what a refusal
# needs, far below what reading /dev/zero without a limit would take.
SPECIAL_MEMORY_BYTES = 1 << 30
# What tracemalloc may see allocated at the peak of loading a special file.
SPECIAL_PEAK_BYTES = 16 << 20

# Share of each kind among the variants: wrong types get enough that 10,000 variants put
# every other type at every JSON path of the example.
KINDS: dict[str, float] = {
    "truncation": 0.06,
    "byte_flips": 0.07,
    "deep_nesting": 0.05,
    "numbers": 0.08,
    "strings": 0.07,
    "wrong_types": 0.30,
    "duplicate_keys": 0.05,
    "special_files": 0.06,
    "folder_symlinks": 0.06,
    "path_tricks": 0.10,
    "recovery": 0.10,
}


def variant_count() -> int:
    return int(os.environ.get(COUNT_VARIABLE) or DEFAULT_VARIANTS)


# --- the two projects every variant starts from ------------------------------------------


@dataclass(frozen=True)
class Base:
    name: str
    raw: bytes
    document: dict[str, Any]
    files: dict[str, bytes]  # project-relative path -> content


def _example() -> Base:
    raw = (EXAMPLE / PROJECT_FILE).read_bytes()
    # The media are never decoded by loading: a few bytes stand in for them.
    return Base("example", raw, json.loads(raw), {"media/sea_bed.ogg": b"OggS stand-in"})


def _rich() -> Base:
    """The example with what it lacks: takes (one chained), a keyframe, references."""
    project, _ = decode_project((EXAMPLE / PROJECT_FILE).read_bytes())
    storm, tower, keeper = project.shots[:3]

    def take_for(prompt: str) -> Take:
        request = GenerationRequest(
            prompt=prompt, model_id="previz", backend="previz", width=64, height=48, frames=9
        )
        return Take(request.hash, request, f"takes/{request.hash}.mp4", "2026-01-01T00:00:00Z")

    first, second = take_for("storm"), take_for("tower")
    storm.takes, storm.selected_take = [first], first.id
    tower.takes, tower.selected_take = [second], second.id
    tower.keyframe = "media/key.png"
    tower.continue_from_previous = True
    keeper.references = ["media/ref.png"]
    project.characters[0].references = ["media/keeper.png"]
    items = list(project.timeline.items)
    items[0] = replace(items[0], take_id=first.id)
    project.timeline = replace(project.timeline, items=tuple(items))
    raw = encode_project(project)
    files = {
        "media/sea_bed.ogg": b"OggS stand-in",
        "media/key.png": b"\x89PNG stand-in",
        "media/ref.png": b"\x89PNG stand-in",
        "media/keeper.png": b"\x89PNG stand-in",
    }
    for take in (first, second):
        files[take.media] = b"mp4 stand-in"
        files[f"takes/{take.id}.json"] = take.request.canonical_json().encode()
    return Base("rich", raw, json.loads(raw), files)


_BASES: dict[str, Base] = {}


def base(name: str) -> Base:
    if name not in _BASES:
        _BASES[name] = _example() if name == "example" else _rich()
    return _BASES[name]


# --- variants -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    kind: str
    label: str
    base: str = "example"
    raw: bytes | None = None  # project.json; None keeps the base's
    autosave: bytes | None = None  # written as the autosave; load_recovery is checked
    # (setup name, project-relative target): a special file or symlink put in place
    special: tuple[str, str] | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())  # (setup, target) after `special`

    def __str__(self) -> str:
        return f"{self.kind}: {self.label}"


def variants(count: int, seed: int = 2026) -> list[Variant]:
    """`count` variants: each kind its share, spread evenly through its own sequence."""
    out: list[Variant] = []
    quotas = _quotas(count)
    for kind, quota in quotas.items():
        make = _MAKERS[kind]
        for k in range(quota):
            out.append(make(random.Random(f"{seed}:{kind}:{k}"), k, quota))
    return out


def _quotas(count: int) -> dict[str, int]:
    quotas = {kind: int(count * share) for kind, share in KINDS.items()}
    kinds = list(KINDS)
    i = 0
    while sum(quotas.values()) < count:
        quotas[kinds[i % len(kinds)]] += 1
        i += 1
    return quotas


def json_paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from json_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from json_paths(value, (*prefix, i))


def _with(document: Any, path: tuple, value: Any) -> Any:
    """A deep copy of `document` with the value at `path` replaced."""
    copy = json.loads(json.dumps(document))
    if not path:
        return value
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return copy


_TOKEN = "\u0001corrupt-token\u0001"


def _with_token(document: Any, path: tuple, token: str) -> bytes:
    """The document as JSON text with raw `token` (any text, valid JSON or not) at `path`."""
    text = json.dumps(_with(document, path, _TOKEN), indent=2)
    return text.replace(json.dumps(_TOKEN), token, 1).encode("utf-8", "surrogatepass")


def _dumps(document: Any) -> bytes:
    # ensure_ascii: a lone surrogate is written as the escape "\ud800", as a hostile
    # file would, not as bytes UTF-8 cannot hold.
    return json.dumps(document, indent=2).encode("ascii")


def _pick_base(rnd: random.Random) -> Base:
    return base(rnd.choice(("example", "rich")))


def _truncation(rnd: random.Random, k: int, quota: int) -> Variant:
    b = _pick_base(rnd)
    cut = rnd.randrange(len(b.raw))
    tail = rnd.choice([b"", b"", b"\x00", b"}", b"]}", b'"', b"\xff", b"\n" * 3])
    return Variant("truncation", f"{b.name} cut at {cut} + {tail!r}", b.name, b.raw[:cut] + tail)


_BAD_BYTES = [b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\x00", b"\xef\xbb\xbf", b"\\", b'"', b"{"]


def _byte_flips(rnd: random.Random, k: int, quota: int) -> Variant:
    b = _pick_base(rnd)
    raw = bytearray(b.raw)
    ops = []
    for _ in range(rnd.randint(1, 12)):
        i = rnd.randrange(len(raw))
        op = rnd.choice(("set", "flip", "insert", "delete", "bad", "copy"))
        if op == "set":
            raw[i] = rnd.randrange(256)
        elif op == "flip":
            raw[i] ^= 1 << rnd.randrange(8)
        elif op == "insert":
            raw[i:i] = bytes([rnd.randrange(256)])
        elif op == "delete":
            del raw[i]
        elif op == "bad":
            raw[i:i] = rnd.choice(_BAD_BYTES)
        else:
            j = rnd.randrange(len(raw))
            raw[i:i] = raw[j : j + rnd.randint(1, 64)]
        ops.append(f"{op}@{i}")
    return Variant("byte_flips", f"{b.name} {' '.join(ops)}", b.name, bytes(raw))


_DEPTHS = (2, 20, 200, 990, 1000, 1100, 5000, 100_000)


def _deep_nesting(rnd: random.Random, k: int, quota: int) -> Variant:
    b = _pick_base(rnd)
    paths = list(json_paths(b.document))
    path = paths[rnd.randrange(len(paths))]
    depth = _DEPTHS[k % len(_DEPTHS)]
    shape = rnd.choice(("array", "object", "mixed", "unclosed"))
    if shape == "array":
        token = "[" * depth + "]" * depth
    elif shape == "object":
        token = '{"a":' * depth + "0" + "}" * depth
    elif shape == "mixed":
        token = '[{"a":' * depth + "null" + "}]" * depth
    else:
        token = "[" * depth
    raw = _with_token(b.document, path, token)
    return Variant("deep_nesting", f"{b.name} {shape}x{depth} at {path}", b.name, raw)


NUMBER_TOKENS = [
    "1e400", "-1e400", "1E+400", "1e-400", "5e-324", "1.7976931348623157e308", "-0", "-0.0",
    "0", "-1", "0.5", "1.5", "0e0", "1" + "0" * 400, "-1" + "0" * 400, "1" + "0" * 4299,
    "1" + "0" * 4500, "1" + "0" * 20, "9223372036854775807", "9223372036854775808",
    "2147483647", "2147483648", "86400000", "86400001", "100001", "16385", "8193", "3600.0001",
    "1000", "1001", "NaN", "-NaN", "Infinity", "-Infinity", "nan", "inf", "01", "1.", ".5",
    "+1", "0x18", '"\u0662\u0664"', '"24/0"', '"0/1"', '"24000/1001"', '"1/3"', '"\u00b2"',
    '"' + "1" * 5000 + '"', '"99999999999/1"', '"2147483647/2147483646"', '"1/2147483648"',
    '" 24 "', '"+24"', '"-24"', '"24.0"', '"24/1/1"', '"/"', '""', '"\uff12\uff14"',
    '"\u0661\u0660\u0660\u0661/\u0662\u0664\u0660\u0660\u0660"',
]  # fmt: skip


def _numbers(rnd: random.Random, k: int, quota: int) -> Variant:
    b = _pick_base(rnd)
    paths = [p for p in json_paths(b.document) if _is_number_spot(b.document, p)]
    path = paths[rnd.randrange(len(paths))]
    token = NUMBER_TOKENS[k % len(NUMBER_TOKENS)]
    raw = _with_token(b.document, path, token)
    return Variant("numbers", f"{b.name} {token[:24]!r} at {path}", b.name, raw)


def _is_number_spot(document: Any, path: tuple) -> bool:
    value = _at(document, path)
    return (isinstance(value, int | float) and not isinstance(value, bool)) or path[-1:] == ("fps",)


def _at(document: Any, path: tuple) -> Any:
    for key in path:
        document = document[key]
    return document


STRING_VALUES = [
    "\ud800", "\udfff", "a\ud800b", "\ud800\ud800", "\udc00\ud800", "\ud83d\ude00", "\x00",
    "a\x00b", "\n", "\r\n\t", "\u2028", "\ufeff", "\u202e", "\u0301", "\x1b[2J", "'\"\\",
    "x" * 100_000, "y" * 2_000_000, "\u00e9" * 300, "\ud800" * 1000,
]  # fmt: skip
RAW_STRING_TOKENS = ['"\\x41"', '"\\u12"', '"\\ud800\\u"', '"a\nb"', '"a\tb"', "'single'"]


def _strings(rnd: random.Random, k: int, quota: int) -> Variant:
    b = _pick_base(rnd)
    spots = [p for p in json_paths(b.document) if isinstance(_at(b.document, p), str)]
    n = len(STRING_VALUES) + len(RAW_STRING_TOKENS) + 2
    choice = k % n
    path = spots[rnd.randrange(len(spots))]
    if choice < len(STRING_VALUES):
        value = STRING_VALUES[choice]
        raw = _dumps(_with(b.document, path, value))
        return Variant("strings", f"{b.name} {value[:12]!r} at {path}", b.name, raw)
    if choice < len(STRING_VALUES) + len(RAW_STRING_TOKENS):
        token = RAW_STRING_TOKENS[choice - len(STRING_VALUES)]
        raw = _with_token(b.document, path, token)
        return Variant("strings", f"{b.name} raw {token!r} at {path}", b.name, raw)
    # A key renamed: to a surrogate, or to a key too long to echo.
    objects = [p for p in json_paths(b.document) if isinstance(_at(b.document, p), dict)]
    where = objects[rnd.randrange(len(objects))]
    obj = _at(b.document, where)
    if not obj:
        return _strings(rnd, k + 1, quota)
    old = rnd.choice(list(obj))
    new = "\ud800" if choice % 2 else "k\n" * 50_000
    document = json.loads(json.dumps(b.document))
    target = _at(document, where)
    target[new] = target.pop(old)
    return Variant("strings", f"{b.name} key {old!r} renamed at {where}", b.name, _dumps(document))


_TYPES: dict[str, Any] = {
    "null": None,
    "boolean": True,
    "integer": 7,
    "float": 0.25,
    "string": "text",
    "array": [],
    "object": {},
}


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def all_wrong_types() -> list[tuple[str, tuple, str]]:
    """(base, JSON path, type) for every JSON path of either base and every type other than
    the value's own there; a path both bases hold with the same type is listed once."""
    out = []
    seen: set[tuple[tuple, str]] = set()
    for name in ("rich", "example"):
        document = base(name).document
        for path in json_paths(document):
            own = _type_of(_at(document, path))
            for t in _TYPES:
                if t != own and (path, t) not in seen:
                    seen.add((path, t))
                    out.append((name, path, t))
    return out


_WRONG_TYPES: list[tuple[str, tuple, str]] = []


def _wrong_types(rnd: random.Random, k: int, quota: int) -> Variant:
    if not _WRONG_TYPES:
        _WRONG_TYPES.extend(all_wrong_types())
        random.Random(0).shuffle(_WRONG_TYPES)  # any prefix samples every part of the file
    name, path, type_ = _WRONG_TYPES[k % len(_WRONG_TYPES)]
    raw = _dumps(_with(base(name).document, path, _TYPES[type_]))
    return Variant("wrong_types", f"{name} {type_} at {path}", name, raw)


def _duplicate_keys(rnd: random.Random, k: int, quota: int) -> Variant:
    b = _pick_base(rnd)
    objects = [p for p in json_paths(b.document) if _at(b.document, p)]
    objects = [p for p in objects if isinstance(_at(b.document, p), dict)]
    path = objects[rnd.randrange(len(objects))]
    key = rnd.choice(list(_at(b.document, path)))
    value = _at(b.document, (*path, key))
    again = json.dumps(value if k % 2 else rnd.choice(list(_TYPES.values())))
    # The repeat goes in as text, the first thing inside the object's braces.
    marker = {_TOKEN: 0, **_at(b.document, path)}
    text = json.dumps(_with(b.document, path, marker), indent=2)
    text = text.replace(f"{json.dumps(_TOKEN)}: 0", f"{json.dumps(key)}: {again}", 1)
    return Variant("duplicate_keys", f"{b.name} {key!r} twice at {path}", b.name, text.encode())


SPECIAL_SETUPS = (
    "fifo", "dev_zero", "dev_null", "loop", "loop_pair", "directory", "empty", "dangling",
    "outside_file", "outside_project", "no_permission",
)  # fmt: skip


def _special_targets(b: Base) -> list[str]:
    return [PROJECT_FILE, f"autosave/{AUTOSAVE_FILE}", *sorted(b.files)]


def _special_files(rnd: random.Random, k: int, quota: int) -> Variant:
    b = base("rich" if k % 3 else "example")
    targets = _special_targets(b)
    setup = SPECIAL_SETUPS[k % len(SPECIAL_SETUPS)]
    target = targets[(k // len(SPECIAL_SETUPS)) % len(targets)]
    autosave = b.raw if target.startswith("autosave/") else None
    return Variant(
        "special_files", f"{b.name} {target} is {setup}", b.name, None, autosave, (setup, target)
    )


FOLDER_SETUPS = (
    # (setup, target): a folder of the project a symlink elsewhere, or symlinks inside one
    ("outside_folder", "takes"),
    ("outside_folder", "media"),
    ("outside_folder", "autosave"),
    ("outside_file", "media/key.png"),
    ("outside_file", "media/sea_bed.ogg"),
    ("outside_file", "TAKE"),
    ("root_link", "media/root"),
    ("loop", "media/loop"),
    ("loop_pair", "media/loop"),
    ("parent_link", "media/up"),
)


def _folder_symlinks(rnd: random.Random, k: int, quota: int) -> Variant:
    b = base("rich")
    setup, target = FOLDER_SETUPS[k % len(FOLDER_SETUPS)]
    document = json.loads(b.raw)
    if target == "TAKE":
        target = document["shots"][0]["takes"][0]["media"]
    if target in ("media/root", "media/loop", "media/up"):
        # A path through the link: inside the project by its name, not by where it leads.
        name = {"media/root": "etc/hostname", "media/loop": "x.png", "media/up": "secret.png"}
        document["shots"][2]["references"] = [f"{target}/{name[target]}"]
    raw = _dumps(document)
    autosave = raw if target == "autosave" or k % 4 == 0 else None
    label = f"rich {target} is {setup}" + (" with an autosave" if autosave else "")
    return Variant("folder_symlinks", label, "rich", raw, autosave, (setup, target))


PATH_TRICKS = [
    "../x.png", "../../etc/passwd", "/etc/passwd", "media/../../x", "media/../media/key.png",
    "~/x.png", "C:/x.png", "c:x.png", "media\\key.png", "media//key.png", "media/key.png/",
    "./media/key.png", "media/./key.png", "", " ", ".", "..", "media/" + "a" * 255,
    "media/" + "a" * 256, "media/" + "a" * 300, "a/" * 2100 + "x", "media/\x00key.png", "\x00",
    "media/key.png\x00.txt", "media/\ud800.png", "media/\udfff", "media/\u00e9.png",
    "media/" + "\u00e9" * 128, "media/" + "\U0001f600" * 64, "media/\u202e.png",
    "media/\n.png", "media/key.png\r", "takes/../../x", "media/" + "x" * 1_000_000,
    "//server/share/x", "file:///etc/passwd", "media/*", "media/?",
]  # fmt: skip


def path_spots(document: dict[str, Any]) -> list[tuple]:
    """Every JSON path of `document` that holds a project-relative path."""
    spots: list[tuple] = []
    for i, shot in enumerate(document.get("shots", [])):
        spots.append(("shots", i, "keyframe"))
        spots.extend(("shots", i, "references", j) for j in range(len(shot["references"])))
        spots.extend(("shots", i, "takes", j, "media") for j in range(len(shot["takes"])))
    for group in ("characters", "styles"):
        for i, item in enumerate(document.get(group, [])):
            spots.extend((group, i, "references", j) for j in range(len(item["references"])))
    spots.extend(("audio", i, "path") for i in range(len(document.get("audio", []))))
    for t, track in enumerate(document["timeline"]["audio_tracks"]):
        spots.extend(
            ("timeline", "audio_tracks", t, "clips", j, "media") for j in range(len(track["clips"]))
        )
    return spots


def _path_tricks(rnd: random.Random, k: int, quota: int) -> Variant:
    b = base("rich")
    spots = path_spots(b.document)
    trick = PATH_TRICKS[k % len(PATH_TRICKS)]
    path = spots[(k // len(PATH_TRICKS) + rnd.randrange(len(spots))) % len(spots)]
    raw = _dumps(_with(b.document, path, trick))
    return Variant("path_tricks", f"rich {trick[:24]!r} at {path}", "rich", raw)


def _recovery(rnd: random.Random, k: int, quota: int) -> Variant:
    """A valid project.json and a damaged autosave, read as crash recovery reads it."""
    kind = rnd.choice(
        ("truncation", "byte_flips", "numbers", "strings", "wrong_types", "path_tricks")
    )
    inner = _MAKERS[kind](rnd, k, quota)
    raw = inner.raw if inner.raw is not None else base(inner.base).raw
    return Variant("recovery", f"autosave with {inner}", inner.base, None, raw)


_MAKERS: dict[str, Callable[[random.Random, int, int], Variant]] = {
    "truncation": _truncation,
    "byte_flips": _byte_flips,
    "deep_nesting": _deep_nesting,
    "numbers": _numbers,
    "strings": _strings,
    "wrong_types": _wrong_types,
    "duplicate_keys": _duplicate_keys,
    "special_files": _special_files,
    "folder_symlinks": _folder_symlinks,
    "path_tricks": _path_tricks,
    "recovery": _recovery,
}


# --- building a variant on disk --------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    folder: Path  # the project folder
    outside: Path  # a folder beside it that symlinks may lead to
    fifos: tuple[Path, ...]


def materialize(variant: Variant, root: Path) -> Built:
    """The variant's project folder under `root` (which must not exist yet)."""
    b = base(variant.base)
    folder, outside = root / "Film.gallop", root / "outside"
    for sub in ("takes", "media", "autosave"):
        (folder / sub).mkdir(parents=True)
        # The same layout outside, so a symlinked folder holds every file the project names.
        (outside / sub).mkdir(parents=True)
    for relative, data in b.files.items():
        (folder / relative).write_bytes(data)
        (outside / relative).write_bytes(data)
    (outside / "secret.png").write_bytes(b"outside the project")
    (outside / PROJECT_FILE).write_bytes(base("example").raw)
    (outside / "autosave" / AUTOSAVE_FILE).write_bytes(b.raw)
    (folder / PROJECT_FILE).write_bytes(b.raw if variant.raw is None else variant.raw)
    if variant.autosave is not None:
        (folder / "autosave" / AUTOSAVE_FILE).write_bytes(variant.autosave)
    fifos: list[Path] = []
    for setup, target in ((variant.special,) if variant.special else ()) + variant.extra:
        fifo = _SETUPS[setup](folder / target, folder, outside)
        if fifo is not None:
            fifos.append(fifo)
    return Built(folder, outside, tuple(fifos))


def _clear(path: Path) -> None:
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)


def _fifo(path: Path, folder: Path, outside: Path) -> Path:
    _clear(path)
    os.mkfifo(path)
    return path


def _link(to: str | Path) -> Callable[[Path, Path, Path], None]:
    def make(path: Path, folder: Path, outside: Path) -> None:
        _clear(path)
        os.symlink(to, path)

    return make


def _loop(path: Path, folder: Path, outside: Path) -> None:
    _clear(path)
    os.symlink(path.name, path)


def _loop_pair(path: Path, folder: Path, outside: Path) -> None:
    _clear(path)
    other = path.with_name(path.name + ".other")
    os.symlink(other.name, path)
    os.symlink(path.name, other)


def _directory(path: Path, folder: Path, outside: Path) -> None:
    _clear(path)
    path.mkdir()
    (path / "inside").write_bytes(b"a file in a folder where a file was expected")


def _empty(path: Path, folder: Path, outside: Path) -> None:
    _clear(path)
    path.write_bytes(b"")


def _outside_file(path: Path, folder: Path, outside: Path) -> None:
    _clear(path)
    os.symlink(outside / "secret.png", path)


def _outside_project(path: Path, folder: Path, outside: Path) -> None:
    # A valid project elsewhere: following this symlink is allowed (it is a regular file).
    _clear(path)
    os.symlink(outside / PROJECT_FILE, path)


def _no_permission(path: Path, folder: Path, outside: Path) -> None:
    if not path.exists():
        path.write_bytes(b"")
    os.chmod(path, 0)


def _outside_folder(path: Path, folder: Path, outside: Path) -> None:
    _clear(path)
    os.symlink(outside / path.name, path)


def _parent_link(path: Path, folder: Path, outside: Path) -> None:
    _clear(path)
    os.symlink("../..", path)  # media/up -> the folder holding the project and `outside`
    (folder.parent / "secret.png").write_bytes(b"beside the project")


_SETUPS: dict[str, Callable[[Path, Path, Path], Path | None]] = {
    "fifo": _fifo,
    "dev_zero": _link("/dev/zero"),
    "dev_null": _link("/dev/null"),
    "loop": _loop,
    "loop_pair": _loop_pair,
    "directory": _directory,
    "empty": _empty,
    "dangling": _link("missing-file"),
    "outside_file": _outside_file,
    "outside_project": _outside_project,
    "no_permission": _no_permission,
    "outside_folder": _outside_folder,
    "root_link": _link("/"),
    "parent_link": _parent_link,
}


def remove(root: Path) -> None:
    """Delete a materialized variant (restoring permissions it took away)."""
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            if not path.is_symlink():
                with contextlib.suppress(OSError):
                    os.chmod(path, 0o600)
    shutil.rmtree(root)


def tree_state(root: Path) -> dict[str, Any]:
    """Every entry under `root`, without following symlinks or opening anything special:
    what it is and, for a regular file, the hash of its bytes."""
    state: dict[str, Any] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            relative = os.path.relpath(path, root)
            if stat.S_ISLNK(info.st_mode):
                state[relative] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                with contextlib.suppress(PermissionError):
                    state[relative] = ("file", info.st_mode, _hash(path))
                state.setdefault(relative, ("file", info.st_mode, info.st_size))
            else:
                state[relative] = ("other", info.st_mode)
    return state


def _hash(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


# --- guards: blocked reads and unbounded memory fail instead of hanging ---------------------


class FifoWatch:
    """Lets go of anyone blocked opening one of `fifos` and says so.

    Opening a FIFO for reading blocks until a writer comes. While the load runs, this
    thread keeps trying to open each one for writing without blocking, which succeeds
    only if a reader is waiting; it then closes it at once, so the reader sees an empty
    file and returns, and `blocked` says it happened.
    """

    def __init__(self, fifos: tuple[Path, ...]) -> None:
        self.fifos = fifos
        self.blocked: list[Path] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.wait(0.01):
            for fifo in self.fifos:
                try:
                    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                except OSError:
                    continue  # ENXIO: nobody is reading
                self.blocked.append(fifo)
                os.close(fd)

    def __enter__(self) -> FifoWatch:
        if self.fifos:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fifos:
            self._done.set()
            self._thread.join()


@contextlib.contextmanager
def memory_ceiling(extra: int) -> Iterator[None]:
    """Lower the soft address-space limit to what the process uses now plus `extra`, so a
    read without a limit ends in MemoryError instead of taking the machine. Linux only;
    the soft limit goes back up afterwards (the hard limit is never touched)."""
    try:
        import resource

        with open("/proc/self/status") as status:
            size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
    except (ImportError, OSError, StopIteration):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    ceiling = size + extra
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# --- the checks ------------------------------------------------------------------------------


def check_error(exc: ProjectError) -> None:
    text = str(exc)
    assert exc.path, "a project error names where the problem is"
    assert len(text) <= MAX_ERROR_CHARS, f"{len(text)} characters"
    assert text.isprintable(), f"not one printable line: {text[:200]!r}"
    text.encode("utf-8")


def info_text(project: Project) -> str:
    """What `gallop info` shows of a project, less the render status (the engine's part)."""
    lines = [f"{project.title} - {project.width}x{project.height} @ {float(project.fps):g} fps"]
    for i, shot in enumerate(project.shots, 1):
        move = describe(shot.camera, shot.duration)
        lines.append(f"{i:2}. {shot.title or shot.id}  {shot.duration:g}s  {move} {shot.frames}")
        for take in shot.takes:
            request = take.request
            seconds = float(request.duration_seconds)
            lines.append(f"    {take.id} {request.prompt} {describe(request.camera, seconds)}")
    timeline = project.timeline
    seconds = float(timeline.duration_seconds)
    lines.append(f"timeline: {len(timeline.clips())} clips, {seconds:.2f}s")
    for item, start in zip(timeline.items, timeline.starts(), strict=True):
        lines.append(json.dumps({**item_to_dict(item), "start": start}, ensure_ascii=False))
    for track in timeline.audio_tracks:
        lines.append(json.dumps(audio_track_to_dict(track), ensure_ascii=False))
    text = "\n".join(lines)
    text.encode("utf-8")
    return text


def check_loaded(project: Project, folder: Path, scratch: Path) -> None:
    root = os.path.realpath(folder)
    for relative in project.media_paths():
        full = os.path.realpath(os.path.join(root, relative))
        assert os.path.commonpath([root, full]) == root, f"{relative!r} leads outside"
    raw = encode_project(project)
    again, _ = decode_project(raw)
    assert again == project, "encode and decode changed the project"
    assert encode_project(again) == raw
    copy = scratch / "Copy.gallop"  # reused: a save replaces the last one's project.json
    save_project(project, copy)
    assert load_project(copy) == project, "save and load changed the project"
    info_text(project)


def _outcome(load: Callable[[], Project], folder: Path, scratch: Path) -> str:
    try:
        project = load()
    except ProjectError as exc:
        check_error(exc)
        return "refused"
    check_loaded(project, folder, scratch)
    return "loaded"


class Workspace:
    """Where variants are built under `root`.

    A variant that only changes project.json or the autosave reuses one folder per base
    project (loading never changes a file, and every check proves it), which keeps a run
    from spending its time creating and deleting folders. A variant that puts special
    files or symlinks in place gets a fresh folder, deleted after it.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.scratch = root / "scratch"
        self.scratch.mkdir(parents=True, exist_ok=True)
        self._count = 0

    def build(self, variant: Variant) -> tuple[Built, Path, bool]:
        """The built variant, the folder holding it, and whether it is fresh."""
        if variant.special is None and not variant.extra:
            work = self.root / f"plain-{variant.base}"
            if not work.exists():
                materialize(replace(variant, raw=None, autosave=None), work)
            folder = work / "Film.gallop"
            raw = base(variant.base).raw if variant.raw is None else variant.raw
            (folder / PROJECT_FILE).write_bytes(raw)
            autosave = folder / "autosave" / AUTOSAVE_FILE
            if variant.autosave is None:
                autosave.unlink(missing_ok=True)
            else:
                autosave.write_bytes(variant.autosave)
            return Built(folder, work / "outside", ()), work, False
        self._count += 1
        work = self.root / f"v{self._count}"
        return materialize(variant, work), work, True

    def discard(self, variant: Variant) -> None:
        """Forget the folder a failed variant used, so that the next one starts clean."""
        for work in (self.root / f"plain-{variant.base}", self.root / f"v{self._count}"):
            if work.exists():
                remove(work)


def check_variant(variant: Variant, workspace: Workspace) -> tuple[str, str | None]:
    """Build, load and check one variant.

    Returns the outcomes of `load_project` and of `load_recovery` (None without an
    autosave); raises AssertionError, or whatever loading raised, when a promise fails.
    """
    built, work, fresh = workspace.build(variant)
    scratch = workspace.scratch
    before = tree_state(work)
    special = variant.special is not None
    autosave = built.folder / "autosave" / AUTOSAVE_FILE
    with contextlib.ExitStack() as guards:
        watch = guards.enter_context(FifoWatch(built.fifos))
        if special:
            guards.enter_context(memory_ceiling(SPECIAL_MEMORY_BYTES))
            tracemalloc.start()
            guards.callback(tracemalloc.stop)
        loaded = _outcome(lambda: load_project(built.folder), built.folder, scratch)
        recovered = None
        if variant.autosave is not None or os.path.lexists(autosave):
            recovery = Recovery(autosave, 0.0, None)
            recovered = _outcome(lambda: load_recovery(recovery), built.folder, scratch)
        if special:
            peak = tracemalloc.get_traced_memory()[1]
            assert peak < SPECIAL_PEAK_BYTES, f"{peak} bytes at the peak of loading"
    assert not watch.blocked, f"a read blocked on {watch.blocked}"
    after = tree_state(work)
    assert after == before, f"files changed: {_difference(before, after)}"
    if fresh:
        remove(work)
    return loaded, recovered


def _difference(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    keys = sorted(set(before) | set(after))
    return [key for key in keys if before.get(key) != after.get(key)][:5]


def run(variants_: list[Variant], root: Path, stop_after: int = 20) -> dict[str, Any]:
    """Check every variant; the tally of outcomes by kind and up to `stop_after` failures."""
    workspace = Workspace(root)
    tally: dict[str, dict[str, int]] = {}
    failures: list[str] = []
    for variant in variants_:
        try:
            loaded, recovered = check_variant(variant, workspace)
        except Exception as exc:  # noqa: BLE001 - every failure is reported with its variant
            failures.append(f"{variant}\n    {type(exc).__name__}: {str(exc)[:500]}")
            workspace.discard(variant)
            if len(failures) >= stop_after:
                break
            continue
        counts = tally.setdefault(variant.kind, {})
        for outcome in (loaded, recovered):
            if outcome is not None:
                counts[outcome] = counts.get(outcome, 0) + 1
    return {"tally": tally, "failures": failures}


if __name__ == "__main__":  # python -m tests.corrupt_projects [COUNT]: a run outside pytest
    import tempfile
    import time

    count = int(sys.argv[1]) if len(sys.argv) > 1 else variant_count()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run(variants(count), Path(tmp), stop_after=100)
        seconds = time.perf_counter() - start
    for kind, counts in sorted(result["tally"].items()):
        print(f"{kind:16} {counts}")
    print("\n".join(result["failures"]))
    print(f"{count} variants in {seconds:.1f}s, {len(result['failures'])} failures")
