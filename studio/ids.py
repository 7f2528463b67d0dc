"""Ids: the one place new ids are made, random ones for new things (shots, characters,
jobs) and the first free numbered one beside ids already taken (clips, gaps); and
`Places`, which finds an id in a long list without scanning it each time."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any
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


class Places:
    """Where each id was last seen in a list that may change under it (a storyboard's
    shots): a hint, checked on every use. A miss (the list changed, or the id is new to it)
    reads every place again in one pass, so that the next lookups of other ids do not each
    scan the list; from the end, so that of two items with one id the first is found, as a
    scan would."""

    def __init__(self) -> None:
        self._at: dict[str, int] = {}

    def find(
        self, items: Sequence[Any], item_id: str, id_of: Callable[[Any], str] | None = None
    ) -> int:
        """The index of `item_id` in `items` (whose ids `id_of` gives, the items themselves
        by default), or -1."""
        hint = self._at.get(item_id, -1)
        if 0 <= hint < len(items):
            found = items[hint] if id_of is None else id_of(items[hint])
            if found == item_id:
                return hint
        ids = items if id_of is None else list(map(id_of, items))
        self._at = {ids[i]: i for i in range(len(ids) - 1, -1, -1)}
        return self._at.get(item_id, -1)
