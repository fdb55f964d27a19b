"""Every socket event runs in a request context of the socket's URL, which is no route of the
app: that context must be freed as soon as the event ends, not left to the garbage collector
(workshop._RequestContext), and must not open the session cookie again when the socket has
its own copy of the session (workshop._Flask)."""

from __future__ import annotations

import gc
import weakref

from werkzeug.exceptions import NotFound
from werkzeug.routing import MapAdapter
from werkzeug.test import EnvironBuilder

from tests.agenda.test_events import connect
from tests.helpers import create_organisation, create_workshop, join


def test_the_context_of_a_url_that_is_no_route_is_freed_without_the_collector(app):
    environ = EnvironBuilder(path="/socket.io/", query_string="EIO=4&transport=websocket")
    gc.disable()
    try:
        context = app.request_context(environ.get_environ())
        with context:
            pass
        assert isinstance(context.request.routing_exception, NotFound)  # kept, as Flask does
        freed = weakref.ref(context)
        del context
        assert freed() is None
    finally:
        gc.enable()


def test_a_url_that_is_no_route_still_answers_not_found(client):
    assert client.get("/no-such-page").status_code == 404


def test_a_socket_event_uses_the_sockets_session_without_opening_the_cookie_again(
        app, client, monkeypatch):
    workshop = create_workshop()
    join(client, workshop, create_organisation())
    sock = connect(app, client, workshop)
    opened = []
    interface = app.session_interface
    original = interface.open_session

    def open_session(app_, request):
        opened.append(request.path)
        return original(app_, request)

    monkeypatch.setattr(interface, "open_session", open_session)
    first = sock.emit("state.sync", {"workshop_id": workshop.id}, callback=True)
    opened.clear()  # the socket's copy is made at its first event
    again = sock.emit("state.sync", {"workshop_id": workshop.id}, callback=True)
    assert first["ok"] is True
    assert again["ok"] is True  # still the delegate, by the socket's own session
    assert opened == []
    assert client.get("/d").status_code == 200  # a page still opens its cookie
    assert opened == ["/d"]


def test_a_sockets_events_reuse_the_url_adapter_and_routing_of_its_connection(
        app, client, monkeypatch):
    """Its first event too: a thousand phones back after the Wi-Fi dropped each send one."""
    workshop = create_workshop()
    join(client, workshop, create_organisation())
    sock = connect(app, client, workshop)  # binds and matches, once
    bound, matched = [], []
    url_map = app.url_map
    bind, match = url_map.bind_to_environ, MapAdapter.match

    def counting_bind(environ, *args, **kwargs):
        bound.append(environ.get("PATH_INFO"))
        return bind(environ, *args, **kwargs)

    def counting_match(adapter, *args, **kwargs):
        matched.append(adapter.path_info)
        return match(adapter, *args, **kwargs)

    monkeypatch.setattr(url_map, "bind_to_environ", counting_bind)
    monkeypatch.setattr(MapAdapter, "match", counting_match)
    answers = [sock.emit("state.sync", {"workshop_id": workshop.id}, callback=True)
               for _ in range(3)]
    assert [answer["ok"] for answer in answers] == [True] * 3
    assert bound == []  # the socket's adapter, kept in its environ
    assert matched == []  # and what its URL matched
    assert client.get("/d").status_code == 200  # a page binds and matches its own URL
    assert bound[-1] == "/d"
    assert matched[-1] == "/d"
