"""The HTTP and WebSocket server serve.py runs: gevent's WSGI server with gevent-websocket.

As Flask-SocketIO's own `socketio.run` makes it, except for one thing: Nagle's algorithm is
off on every connection. When a facilitator's action is broadcast to the room, the console's
own socket gets the broadcast and then, at once, the acknowledgement: two small writes in a
row, and with Nagle's algorithm the second waits for the browser's delayed ACK, about 40 ms
on Linux (bench/bench_console.py measured every console event at 44-48 ms before, the bare
framework too). Set on the listening socket, TCP_NODELAY is inherited by each accepted one.
"""

from __future__ import annotations

import socket

from flask import Flask
from gevent import pywsgi
from geventwebsocket.handler import WebSocketHandler

from config import ConfigError
from workshop.extensions import socketio


class Server(pywsgi.WSGIServer):
    """gevent's WSGI server whose connections send small writes at once (TCP_NODELAY)."""

    @classmethod
    def get_listener(cls, address, backlog=None, family=None):  # noqa: ANN001, ANN206
        listener = super().get_listener(address, backlog, family)
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return listener


def make_server(app: Flask, host: str, port: int) -> Server:
    """The server for `app` on host:port (Socket.IO over WebSocket and long-polling), as
    Flask-SocketIO's documentation deploys it with gevent, logging nothing per request (no
    reloader, no debugger: this is the production server).

    :raise ConfigError: Socket.IO is not in gevent mode (SOCKETIO_ASYNC_MODE).
    """
    if socketio.async_mode != "gevent":
        raise ConfigError(f"SOCKETIO_ASYNC_MODE is {socketio.async_mode!r}; serve.py serves "
                          "Socket.IO in gevent mode only (unset it, or set it to gevent).")
    return Server((host, port), app, handler_class=WebSocketHandler, log=None)
