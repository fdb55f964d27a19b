"""The indexed client managers (workshop/rooms.py) keep rooms exactly as python-socketio's own
managers do: the same random life of sockets gives the same rooms, socket by socket."""

from __future__ import annotations

import itertools
import random
from types import SimpleNamespace

import pytest
import socketio

from workshop import rooms

NAMESPACES = ("/", "/other")


def fake_server() -> SimpleNamespace:
    ids = itertools.count(1)
    return SimpleNamespace(eio=SimpleNamespace(generate_id=lambda: f"sid{next(ids)}"),
                           packet_class=socketio.packet.Packet)


def managers() -> tuple[socketio.Manager, rooms.Manager]:
    theirs, ours = socketio.Manager(), rooms.Manager()
    for manager in (theirs, ours):
        manager.set_server(fake_server())
        manager.initialize()
    return theirs, ours


def live(manager) -> list[tuple[str, str]]:
    return [(ns, sid) for ns, by_room in manager.rooms.items() for sid in by_room.get(None, {})]


def same(theirs, ours) -> None:
    assert ours.rooms == theirs.rooms
    for namespace, sid in live(theirs):
        assert sorted(ours.get_rooms(sid, namespace), key=str) == sorted(
            theirs.get_rooms(sid, namespace), key=str)
    assert set(ours.rooms_of) == {(ns, sid) for ns, by_room in ours.rooms.items()
                                  for room in by_room.values() for sid in room}


@pytest.mark.parametrize("seed", range(20))
def test_a_random_life_of_sockets_gives_the_same_rooms(seed):
    chance = random.Random(seed)
    theirs, ours = managers()
    eio_ids = itertools.count(1)
    for _ in range(400):
        sockets = live(theirs)
        action = chance.choice(["connect", "connect", "enter", "enter", "leave", "disconnect",
                                "close"] if sockets else ["connect"])
        if action == "connect":
            eio = f"eio{next(eio_ids)}"
            namespace = chance.choice(NAMESPACES)
            for manager in (theirs, ours):
                manager.connect(eio, namespace)
        elif action == "close":
            room, namespace = f"room{chance.randrange(6)}", chance.choice(NAMESPACES)
            for manager in (theirs, ours):
                manager.close_room(room, namespace)
        else:
            namespace, sid = chance.choice(sockets)
            room = f"room{chance.randrange(6)}"
            for manager in (theirs, ours):
                if action == "enter":
                    manager.enter_room(sid, namespace, room)
                elif action == "leave":
                    manager.leave_room(sid, namespace, room)
                else:
                    manager.disconnect(sid, namespace)
        same(theirs, ours)


def test_a_disconnect_forgets_pending_callbacks_and_connections():
    _theirs, ours = managers()
    sid = ours.pre_connect("eio1", "/")  # not yet through the connect handler
    ours.callbacks[sid] = {0: itertools.count(1)}
    ours.disconnect(sid, "/")
    assert sid not in ours.callbacks
    assert "/" not in ours.pending_connect
    assert ours.rooms_of == {}
    assert ours.rooms == {}


def test_a_disconnect_forgets_a_pending_disconnect():
    theirs, ours = managers()
    for manager in (theirs, ours):
        sid = manager.connect("eio1", "/")
        manager.enter_room(sid, "/", "w1")
        manager.pending_disconnect["/"] = [sid]
        manager.disconnect(sid, "/")
    assert ours.pending_disconnect == theirs.pending_disconnect == {}
    same(theirs, ours)


def test_each_configuration_gets_an_indexed_manager():
    assert isinstance(rooms.client_manager(None), rooms.Manager)
    on_redis = rooms.client_manager("redis://127.0.0.1:6399/0")  # connects on first use
    assert isinstance(on_redis, rooms.RedisManager)
    assert on_redis.channel == "flask-socketio"
    assert rooms.client_manager("amqp://127.0.0.1//") is None  # Flask-SocketIO's own


def test_the_app_serves_its_sockets_with_the_indexed_manager(app):
    assert isinstance(app.extensions["socketio"].server.manager, rooms.Manager)


def test_a_socket_told_its_session_ended_is_closed_by_its_process():
    sent: list[tuple[str, str]] = []
    closed: list[str] = []
    manager = rooms.Manager()
    server = fake_server()
    server._send_eio_packet = lambda eio_sid, pkt: sent.append((eio_sid, pkt.data))
    server.disconnect = lambda sid, namespace, ignore_queue: (
        closed.append(sid), sent.append(("closed", sid)))
    manager.set_server(server)
    manager.initialize()
    ended, other = manager.connect("eio1", "/"), manager.connect("eio2", "/")
    manager.enter_room(ended, "/", "s1")
    manager.enter_room(other, "/", "s2")
    manager.emit("state", {}, "/", to="s1")
    assert closed == []  # any other event closes nothing
    manager.emit("session.ended", {}, "/", to="s1")
    assert [eio for eio, _data in sent] == ["eio1", "eio1", "closed"]
    assert "session.ended" in sent[1][1]  # the event itself first, then the close
    assert closed == [ended]


def test_a_socket_skipped_by_the_event_is_not_closed():
    closed: list[str] = []
    manager = rooms.Manager()
    server = fake_server()
    server._send_eio_packet = lambda eio_sid, pkt: None
    server.disconnect = lambda sid, namespace, ignore_queue: closed.append(sid)
    manager.set_server(server)
    manager.initialize()
    kept, ended = manager.connect("eio1", "/"), manager.connect("eio2", "/")
    for sid in (kept, ended):
        manager.enter_room(sid, "/", "s1")
    manager.emit("session.ended", {}, "/", to="s1", skip_sid=kept)
    assert closed == [ended]
