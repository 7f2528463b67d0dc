"""Ids: the one place new ids are made, random ones for new things (shots, characters,
jobs) and the first free numbered one beside ids already taken (clips, gaps)."""

from __future__ import annotations

from collections.abc import Collection
from uuid import uuid4


def new_id(prefix: str = "", length: int = 10) -> str:
    """A random id of `length` hex digits, as `prefix-…` when given a prefix."""
    token = uuid4().hex[:length]
    return f"{prefix}-{token}" if prefix else token


def fresh_id(base: str, used: Collection[str], *, start: int = 1, bare: bool = False) -> str:
    """`base` itself when `bare` and free, else the first `base-n` (n from `start`) that is
    not in `used`."""
    if bare and base not in used:
        return base
    n = start
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"
