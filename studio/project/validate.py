"""Strict readers for JSON values: each raises ProjectError naming the JSON path."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from enum import Enum
from fractions import Fraction
from typing import Any, TypeVar

from studio.errors import ProjectError
from studio.timeline.timecode import MAX_FPS, MAX_RATE_TERM

T = TypeVar("T")
E = TypeVar("E", bound=Enum)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

# How much of a value an error message quotes: enough to recognise it, never a flood.
QUOTE_CHARS = 60
# A name in a path may have 255 bytes on every common file system, a whole path 4096.
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096
_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class HugeNumber(float):
    """An integer in the JSON too long to read (thousands of digits), kept as infinity
    so that every reader refuses it at its own JSON path instead of the parser failing."""


def quote(value: object) -> str:
    """A short quotation of a value for an error message: strings cut after QUOTE_CHARS
    characters, numbers too long to print whole said by their size, containers by type."""
    if isinstance(value, str):
        if len(value) > QUOTE_CHARS:
            return repr(value[:QUOTE_CHARS]) + "\u2026"
        return repr(value)
    if isinstance(value, HugeNumber):
        return "a number too large to read"
    if isinstance(value, bool) or value is None:
        return type_name(value) if value is None else str(value).lower()
    if isinstance(value, int):
        if value.bit_length() > 200:
            return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return type_name(value)


def key_path(path: str, key: object) -> str:
    """The JSON path of `key` in the object at `path`: `$.shots`, or `$['odd key']`."""
    if isinstance(key, str) and _SIMPLE_KEY.match(key) and len(key) <= QUOTE_CHARS:
        return f"{path}.{key}"
    return f"{path}[{quote(key)}]"


def has_surrogate(text: str) -> bool:
    """Whether `text` holds an unpaired surrogate, which JSON can spell ("\\ud800") but
    UTF-8 cannot encode: such a string could be read but never saved or printed."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, HugeNumber):
        return "number too large to read"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def expect_dict(value: object, path: str, keys: Iterable[str] | None = None) -> dict[str, Any]:
    """The value as an object; with `keys`, any other key is refused."""
    if not isinstance(value, dict):
        raise ProjectError(path, f"expected an object, found {type_name(value)}")
    if keys is not None:
        allowed = set(keys)
        for key in value:
            if key not in allowed:
                raise ProjectError(key_path(path, key), "unknown field")
    return value


def expect_list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProjectError(path, f"expected an array, found {type_name(value)}")
    return value


def _field(data: dict[str, Any], key: str, path: str, default: Any) -> tuple[Any, str]:
    sub = f"{path}.{key}"
    if key not in data:
        if default is MISSING:
            raise ProjectError(sub, "missing")
        return MISSING, sub
    return data[key], sub


def get_str(
    data: dict[str, Any], key: str, path: str, default: Any = MISSING, *, nonempty: bool = False
) -> str:
    value, sub = _field(data, key, path, default)
    if value is MISSING:
        return default
    if not isinstance(value, str):
        raise ProjectError(sub, f"expected a string, found {type_name(value)}")
    if nonempty and not value.strip():
        raise ProjectError(sub, "must not be empty")
    return value


def get_optional_str(data: dict[str, Any], key: str, path: str) -> str | None:
    value, sub = _field(data, key, path, None)
    if value is MISSING or value is None:
        return None
    if not isinstance(value, str):
        raise ProjectError(sub, f"expected a string or null, found {type_name(value)}")
    return value


def get_bool(data: dict[str, Any], key: str, path: str, default: Any = MISSING) -> bool:
    value, sub = _field(data, key, path, default)
    if value is MISSING:
        return default
    if not isinstance(value, bool):
        raise ProjectError(sub, f"expected true or false, found {type_name(value)}")
    return value


def _get_number(
    data: dict[str, Any],
    key: str,
    path: str,
    default: Any,
    check: Callable[..., Any],
    min_value: float | None,
    max_value: float | None,
) -> Any:
    """The number at `key` checked by `check_int` or `check_float`; `default` when absent."""
    value, sub = _field(data, key, path, default)
    if value is MISSING:
        return default
    return check(value, sub, min_value=min_value, max_value=max_value)


def _check_range(
    number: float,
    path: str,
    min_value: float | None,
    max_value: float | None,
    show: Callable[[Any], str] = str,
) -> None:
    """Refuse `number` outside [min_value, max_value] (a bound None is no bound); the
    message writes the number with `show`."""
    if min_value is not None and number < min_value:
        raise ProjectError(path, f"must be at least {min_value}, found {show(number)}")
    if max_value is not None and number > max_value:
        raise ProjectError(path, f"must be at most {max_value}, found {show(number)}")


def get_int(
    data: dict[str, Any],
    key: str,
    path: str,
    default: Any = MISSING,
    *,
    min_value: int | None = None,
    max_value: int | None = None,
) -> int:
    return _get_number(data, key, path, default, check_int, min_value, max_value)


def check_int(
    value: object, path: str, *, min_value: int | None = None, max_value: int | None = None
) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProjectError(path, f"expected an integer, found {type_name(value)}")
    _check_range(value, path, min_value, max_value, quote)
    return value


def get_float(
    data: dict[str, Any],
    key: str,
    path: str,
    default: Any = MISSING,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
) -> float:
    return _get_number(data, key, path, default, check_float, min_value, max_value)


def check_float(
    value: object, path: str, *, min_value: float | None = None, max_value: float | None = None
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProjectError(path, f"expected a number, found {type_name(value)}")
    if isinstance(value, HugeNumber):
        raise ProjectError(path, "must be a finite number")
    try:
        number = float(value)
    except OverflowError:
        raise ProjectError(path, "must be a finite number") from None
    if not math.isfinite(number):
        raise ProjectError(path, "must be a finite number")
    _check_range(number, path, min_value, max_value)
    return number


def get_enum(data: dict[str, Any], key: str, path: str, enum: type[E], default: Any = MISSING) -> E:
    value, sub = _field(data, key, path, default)
    if value is MISSING:
        return default
    try:
        return enum(value)
    except (ValueError, TypeError):
        choices = ", ".join(repr(m.value) for m in enum)
        raise ProjectError(sub, f"expected one of {choices}, found {quote(value)}") from None


def get_fraction(data: dict[str, Any], key: str, path: str, default: Any = MISSING) -> Fraction:
    """A positive rational written as "num/den" or as an integer (frame rates: "24000/1001")."""
    value, sub = _field(data, key, path, default)
    if value is MISSING:
        return default
    return parse_fraction(value, sub)


def parse_fraction(value: object, path: str) -> Fraction:
    if isinstance(value, bool):
        raise ProjectError(path, 'expected a rate such as 24 or "24000/1001"')
    if isinstance(value, int):
        num, den = value, 1
    elif isinstance(value, str):
        parts = [p.strip() for p in value.split("/")]
        # ASCII digits only: int() also reads other scripts' digits ("٢٤"), which no one
        # means as a frame rate, and refuses some that isdigit() accepts ("²"). The length
        # check keeps int() from the thousands of digits it refuses.
        if len(parts) > 2 or not all(
            p.isascii() and p.isdigit() and len(p) <= len(str(MAX_RATE_TERM)) for p in parts
        ):
            raise ProjectError(path, f'expected a rate such as "24000/1001", found {quote(value)}')
        num = int(parts[0])
        den = int(parts[1]) if len(parts) == 2 else 1
        if den == 0:
            raise ProjectError(path, "denominator must not be zero")
    else:
        raise ProjectError(path, f'expected a rate such as "24000/1001", found {type_name(value)}')
    if den > 1 and max(num, den) > MAX_RATE_TERM:
        # Video files store rates as 32-bit fractions. (A whole number that large is over
        # MAX_FPS, which the check below says.)
        raise ProjectError(path, f"numerator and denominator must be at most {MAX_RATE_TERM}")
    result = Fraction(num, den)
    if result <= 0 or result > MAX_FPS:
        raise ProjectError(path, f"must be a rate between 0 and {MAX_FPS}, found {quote(value)}")
    return result


def fraction_to_json(value: Fraction) -> int | str:
    return value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def get_list_of(
    data: dict[str, Any],
    key: str,
    path: str,
    read: Callable[[Any, str], T],
    default: Any = MISSING,
) -> list[T]:
    value, sub = _field(data, key, path, default)
    if value is MISSING:
        return list(default)
    items = expect_list(value, sub)
    return [read(item, f"{sub}[{i}]") for i, item in enumerate(items)]


def relative_path_problem(value: object) -> str | None:
    """Why `value` is not a project-relative path (forward slashes, cannot escape), or None."""
    if not isinstance(value, str):
        return f"expected a path string, found {type_name(value)}"
    if not value or "\\" in value or "\x00" in value:
        return f"invalid path {quote(value)}"
    if has_surrogate(value):
        return f"path {quote(value)} contains an unpaired surrogate"
    if value.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", value):
        return f"path {quote(value)} must be relative to the project folder"
    parts = value.split("/")
    if any(part in ("", "..") for part in parts):
        return f"path {quote(value)} escapes the project folder"
    # Longer names cannot exist on disk; opening one fails with ENAMETOOLONG.
    if len(value.encode("utf-8")) > MAX_PATH_BYTES:
        return f"path {quote(value)} is longer than {MAX_PATH_BYTES} bytes"
    if any(len(part.encode("utf-8")) > MAX_NAME_BYTES for part in parts):
        return f"path {quote(value)} has a name longer than {MAX_NAME_BYTES} bytes"
    return None
