"""Socket.IO's client managers, with each socket's rooms indexed.

python-socketio (5.x) finds the rooms of a socket that disconnects by copying and scanning every
room of the namespace, and every socket has a room of its own (here also its delegate's and its
login's): with 3,000 phones connected, each disconnect walked some 9,000 rooms, about 3 ms of a
server's only thread, and a room whose Wi-Fi drops costs seconds in which nothing else is served
(py-spy: a third of a 3,000-phone vote burst's samples were disconnects). These managers keep
which rooms each socket is in, so a disconnect and `get_rooms` cost what the socket's own rooms
do. Everything else, and the message queue's traffic, is python-socketio's.
"""

from __future__ import annotations

from typing import Any

import socketio


class IndexedRooms:
    """Mixed in before a python-socketio manager: keeps `(namespace, sid) -> rooms` beside its
    `rooms` (room -> sids), updated by the only two methods that change membership."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rooms_of: dict[tuple[Any, str], set[Any]] = {}

    def basic_enter_room(self, sid: str, namespace: Any, room: Any,
                         eio_sid: str | None = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # may refuse: raises
        self.rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: Any, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)
        rooms = self.rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self.rooms_of[(namespace, sid)]

    def get_rooms(self, sid: str, namespace: Any) -> list[Any]:
        """The rooms a client is in (not its entry in the namespace's list of sockets)."""
        return [room for room in self.rooms_of.get((namespace, sid), ()) if room is not None]

    def basic_disconnect(self, sid: str, namespace: Any, **kwargs: Any) -> None:
        """python-socketio's, with the socket's rooms taken from the index."""
        if namespace not in self.rooms:
            return
        for room in list(self.rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]


#: Events after which each process closes the sockets it sent them to (see `ClosesEnded`).
CLOSING_EVENTS = frozenset({"session.ended"})


class ClosesEnded(socketio.Manager):
    """Where an emit reaches this process's sockets: a socket told its session ended (logout,
    a replaced invitation link or projector key) is then disconnected by the process that
    serves it. With several processes the message queue brings the emit to each of them, so
    a socket on another process than the one that ended the login is closed at once too,
    rather than going on receiving its rooms' broadcasts until its next event is refused."""

    def emit(self, event: str, data: Any, namespace: Any, room: Any = None,
             skip_sid: Any = None, callback: Any = None, to: Any = None, **kwargs: Any) -> Any:
        target = to or room
        skipped = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        closing = [] if event not in CLOSING_EVENTS or target is None else [
            sid for sid, _eio_sid in self.get_participants(namespace, target)
            if sid not in skipped]
        sent = super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                            callback=callback, to=to, **kwargs)
        for sid in closing:  # after the event itself, on the same socket: it arrives first
            self.server.disconnect(sid, namespace=namespace, ignore_queue=True)
        return sent


class Manager(IndexedRooms, ClosesEnded):
    """One server process: rooms in memory."""


class RedisManager(IndexedRooms, socketio.RedisManager, ClosesEnded):
    """Several server processes sharing Redis (the message queue carries emits and room
    changes between them; each process indexes the rooms of its own sockets, and closes those
    a `session.ended` reaches: `ClosesEnded` sits below the queue, where emits arrive)."""


def client_manager(message_queue: str | None) -> socketio.Manager | None:
    """The manager for this configuration: indexed, on Redis when a Redis URL is given (on the
    channel Flask-SocketIO uses, so an emitter elsewhere still reaches us). None for another
    kind of queue: Flask-SocketIO then picks its own."""
    if not message_queue:
        return Manager()
    if message_queue.startswith(("redis://", "rediss://")):
        return RedisManager(message_queue, channel="flask-socketio")
    return None
