"""The bounded store of kept values: newest kept, least recently read pushed out first."""

from __future__ import annotations

from workshop.kept import Kept


def test_a_kept_value_is_made_once_and_the_least_recently_read_goes_first():
    store = Kept(size=2)
    made: list[str] = []

    def make(value: str):
        return lambda: made.append(value) or value

    assert store.get(("a",), make("a")) == "a"
    assert store.get(("b",), make("b")) == "b"
    assert store.get(("a",), make("a again")) == "a"  # kept: not made again
    assert store.get(("c",), make("c")) == "c"  # pushes out b, read least recently
    assert store.get(("a",), make("a again")) == "a"
    assert store.get(("b",), make("b again")) == "b again"
    assert made == ["a", "b", "c", "b again"]
    assert store.made == 4
