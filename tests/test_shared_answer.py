"""An answer many sockets share (validation.SharedAnswer): read-only, acknowledged alike, and
its JSON made once and sent as the standard encoder would have written it."""

from __future__ import annotations

import json

import pytest
import socketio

from workshop import validation
from workshop.extensions import socketio as flask_socketio
from workshop.validation import SharedAnswer, SocketJSON, SocketPacket

ANSWER = {"ballot": {"id": 7, "title": "Rang des lignes \u00e9t\u00e9 \u2014 \u201cA\u201d",
                     "options": [1, 2, 3]},
          "turnout": {"voted": 12, "by_region": {"asia": {"voted": None, "eligible": 4}}}}


def test_a_shared_answer_goes_out_as_the_standard_encoder_writes_it():
    shared = SharedAnswer(ANSWER).acknowledgement()
    packet = SocketPacket(socketio.packet.ACK, data=[shared], id=3)
    plain = socketio.packet.Packet(socketio.packet.ACK, data=[{"ok": True, **ANSWER}], id=3)
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


BINARY_OR_NOT = [b"x", [1, {"a": [bytearray(b"y")]}], {"a": {"b": b"z"}}, [], {}, [1, "b", None],
                 {"a": [1, 2, {"c": "d"}]}, "bytes", 3, None, [[[[b""]]]]]


@pytest.mark.parametrize("data", BINARY_OR_NOT)
def test_our_packets_find_binary_parts_as_python_socketio_does(data):
    assert SocketPacket.data_is_binary(data) is socketio.packet.Packet.data_is_binary(data)


def test_a_shared_answer_is_not_searched_for_binary_parts(monkeypatch):
    searched: list = []
    original = SocketPacket.data_is_binary.__func__
    monkeypatch.setattr(SocketPacket, "data_is_binary", classmethod(
        lambda cls, data: searched.append(data) or original(cls, data)))
    shared = SharedAnswer(ANSWER).acknowledgement()
    packet = SocketPacket(socketio.packet.ACK, data=[shared], id=1)
    assert packet.packet_type == socketio.packet.ACK  # not BINARY_ACK
    assert searched == [[shared], shared]  # the list and the answer, nothing inside it


def test_the_app_sends_our_packets(app):
    assert flask_socketio.server.packet_class is SocketPacket
    assert SocketPacket.json is SocketJSON


def test_a_copy_of_a_shared_answer_is_a_plain_dict_to_change():
    import copy
    import pickle

    shared = SharedAnswer(ANSWER)
    for copied in (shared.copy(), copy.copy(shared), copy.deepcopy(shared),
                   pickle.loads(pickle.dumps(shared))):  # noqa: S301 (our own bytes)
        assert type(copied) is dict
        assert copied == ANSWER
        copied["changed"] = True
    deep = copy.deepcopy(shared)
    deep["ballot"]["options"].append(99)
    assert shared["ballot"]["options"] == [1, 2, 3]
