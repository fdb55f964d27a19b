"""Bounded nesting of JSON bodies and socket payloads (validation.load_json): the walk that
measures depth is skipped only where the text cannot nest deep enough to need it."""

from __future__ import annotations

import json

import pytest

from workshop.validation import MAX_JSON_DEPTH, JSONTooDeep, load_json


def nested(depth: int, inner: object = 1) -> str:
    value: object = inner
    for n in range(depth):
        value = [value] if n % 2 else {"k": value}
    return json.dumps(value)


@pytest.mark.parametrize("as_bytes", [False, True])
def test_as_deep_as_allowed_is_read_one_more_is_refused(as_bytes):
    def load(text: str):
        return load_json(text.encode() if as_bytes else text)

    assert load(nested(MAX_JSON_DEPTH)) is not None
    with pytest.raises(JSONTooDeep):
        load(nested(MAX_JSON_DEPTH + 1))


def test_brackets_inside_strings_neither_hide_nor_invent_depth():
    text = json.dumps({"title": "[{" * 50, "choices": [1, 2]})
    assert load_json(text)["choices"] == [1, 2]  # many brackets, shallow: walked, accepted
    with pytest.raises(JSONTooDeep):  # deep, with few brackets elsewhere
        load_json(nested(MAX_JSON_DEPTH + 1, inner="no brackets here"))


def test_a_vote_sized_payload_is_read():
    payload = {"workshop_id": 1, "ballot_id": 2, "choices": [3, 4, 5], "secret": "s" * 40}
    assert load_json(json.dumps(payload)) == payload
