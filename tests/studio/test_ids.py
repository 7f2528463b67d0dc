"""`Places` finds an id in a changing list as a scan would, without scanning each time."""

from __future__ import annotations

from studio.ids import Places


def test_places_follow_a_changing_list_as_a_scan_would():
    ids = ["a", "b", "c", "b"]
    places = Places()
    assert places.find(ids, "b") == 1  # of two items with one id, the first
    assert places.find(ids, "zz") == -1
    ids.insert(0, "new")
    assert [places.find(ids, i) for i in ("new", "a", "b", "c")] == [0, 1, 2, 3]
    ids.remove("a")
    assert places.find(ids, "a") == -1 and places.find(ids, "c") == 2


def test_places_read_ids_through_a_function():
    class Item:
        def __init__(self, name: str) -> None:
            self.name = name

    items = [Item("x"), Item("y")]
    places = Places()
    assert places.find(items, "y", lambda item: item.name) == 1
    items.reverse()
    assert places.find(items, "y", lambda item: item.name) == 0
