"""The HTTP and WebSocket server serve.py runs: gevent's WSGI server with gevent-websocket.

As Flask-SocketIO's own `socketio.run` makes it, except for one thing: Nagle's algorithm is
off on every connection. When a facilitator's action is broadcast to the room, the console's
own socket gets the broadcast and then, at once, the acknowledgement: two small writes in a
row, and with Nagle's algorithm the second waits for the browser's delayed ACK, about 40 ms
on Linux (bench/bench_console.py measured every console event at 44-48 ms before, the bare
framework too). Set on the listening socket, TCP_NODELAY is inherited by each accepted one.

And what gevent-websocket does in Python for every frame a phone sends, it does in C here
(`unmask_frames_in_c`, and wsaccel's UTF-8 validator, which it picks up by itself).
"""

from __future__ import annotations

import socket

from flask import Flask
from gevent import pywsgi
from geventwebsocket.handler import WebSocketHandler
from geventwebsocket.websocket import Header
from wsaccel.xormask import XorMaskerSimple

from config import ConfigError
from workshop.extensions import socketio


class Server(pywsgi.WSGIServer):
    """gevent's WSGI server whose connections send small writes at once (TCP_NODELAY)."""

    @classmethod
    def get_listener(cls, address, backlog=None, family=None):  # noqa: ANN001, ANN206
        listener = super().get_listener(address, backlog, family)
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return listener


def _unmask(header: Header, payload: bytes) -> bytes:
    return XorMaskerSimple(header.mask).process(payload)


def unmask_frames_in_c() -> None:
    """Have gevent-websocket unmask the frames phones send with wsaccel's C code.

    A browser masks every frame it sends (RFC 6455, 5.3) and gevent-websocket unmasks it
    byte by byte in Python: 7.0 us for a vote's 147-byte frame, 0.3 us in C. Its UTF-8 check
    of each text frame already runs in C when wsaccel is installed (7.8 -> 0.4 us for that
    frame), which is why wsaccel is a dependency. Safe to call again; the benchmarks' bare
    server calls it too, so the two are served alike.
    """
    Header.mask_payload = Header.unmask_payload = _unmask


def make_server(app: Flask, host: str, port: int) -> Server:
    """The server for `app` on host:port (Socket.IO over WebSocket and long-polling), as
    Flask-SocketIO's documentation deploys it with gevent, logging nothing per request (no
    reloader, no debugger: this is the production server).

    :raise ConfigError: Socket.IO is not in gevent mode (SOCKETIO_ASYNC_MODE).
    """
    if socketio.async_mode != "gevent":
        raise ConfigError(f"SOCKETIO_ASYNC_MODE is {socketio.async_mode!r}; serve.py serves "
                          "Socket.IO in gevent mode only (unset it, or set it to gevent).")
    unmask_frames_in_c()
    return Server((host, port), app, handler_class=WebSocketHandler, log=None)
