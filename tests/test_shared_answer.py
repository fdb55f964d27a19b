"""An answer many sockets share (validation.SharedAnswer): read-only, acknowledged alike, and
its JSON made once and sent as the standard encoder would have written it."""

from __future__ import annotations

import json

import pytest
import socketio

from workshop import validation
from workshop.validation import SharedAnswer, SocketJSON

ANSWER = {"ballot": {"id": 7, "title": "Rang des lignes \u00e9t\u00e9 \u2014 \u201cA\u201d",
                     "options": [1, 2, 3]},
          "turnout": {"voted": 12, "by_region": {"asia": {"voted": None, "eligible": 4}}}}


def test_a_shared_answer_goes_out_as_the_standard_encoder_writes_it():
    shared = SharedAnswer(ANSWER).acknowledgement()
    packet = socketio.packet.Packet(socketio.packet.ACK, data=[shared], id=3)
    plain = socketio.packet.Packet(socketio.packet.ACK, data=[{"ok": True, **ANSWER}], id=3)
    packet.json = plain.json = SocketJSON
    assert packet.encode() == plain.encode()
    assert SocketJSON.dumps([shared], separators=(",", ":")) == json.dumps(
        [{"ok": True, **ANSWER}], separators=(",", ":"))
    decoded = socketio.packet.Packet(encoded_packet=packet.encode())
    assert decoded.data == [{"ok": True, **ANSWER}]


def test_its_json_is_made_once_for_every_packet(monkeypatch):
    made = []
    encoder = validation._PACKET_ENCODER
    monkeypatch.setattr(validation, "_PACKET_ENCODER", type("Counting", (), {
        "encode": lambda self, value: made.append(1) or encoder.encode(value)})())
    shared = SharedAnswer(ANSWER)
    texts = {SocketJSON.dumps([shared.acknowledgement()], separators=(",", ":"))
             for _ in range(3)}
    assert len(texts) == 1
    assert made == [1]


def test_every_asker_gets_the_same_acknowledgement_with_ok_first():
    shared = SharedAnswer(ANSWER)
    ack = shared.acknowledgement()
    assert ack is shared.acknowledgement()
    assert next(iter(ack)) == "ok"
    assert ack["ok"] is True
    assert {k: v for k, v in ack.items() if k != "ok"} == ANSWER


@pytest.mark.parametrize("change", [
    lambda a: a.__setitem__("x", 1), lambda a: a.__delitem__("ballot"),
    lambda a: a.update(x=1), lambda a: a.pop("ballot"), lambda a: a.popitem(),
    lambda a: a.clear(), lambda a: a.setdefault("x", 1), lambda a: a.__ior__({"x": 1}),
])
def test_a_shared_answer_cannot_be_changed(change):
    shared = SharedAnswer(ANSWER)
    shared.packet_json()
    with pytest.raises(TypeError):
        change(shared)
    assert shared == ANSWER
    assert json.loads(shared.packet_json()) == ANSWER  # what was sent still says the same


def test_anything_else_is_encoded_as_the_standard_library_does():
    for data in ([ANSWER], [SharedAnswer(ANSWER), 1], {"a": SharedAnswer(ANSWER)}):
        assert SocketJSON.dumps(data, separators=(",", ":")) == json.dumps(
            data, separators=(",", ":"))
    assert SocketJSON.dumps([SharedAnswer(ANSWER)]) == json.dumps([ANSWER])
