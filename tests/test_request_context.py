"""Every socket event runs in a request context of the socket's URL, which is no route of the
app: that context must be freed as soon as the event ends, not left to the garbage collector
(workshop._RequestContext)."""

from __future__ import annotations

import gc
import weakref

from werkzeug.exceptions import NotFound
from werkzeug.test import EnvironBuilder


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
