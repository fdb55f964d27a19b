"""Workshop: live workshops where delegates propose, discuss and rank lines of work."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, has_request_context, request, session
from flask.ctx import RequestContext
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from workshop.auth.logins import load_principal
from workshop.db import tune_sqlite
from workshop.errors_http import unauthorized
from workshop.extensions import babel, csrf, db, login_manager, migrate, socketio
from workshop.group_commit import end_reads
from workshop.limits import limiter
from workshop.models import __all__ as _all_models  # noqa: F401  (the whole schema is known)
from workshop.rooms import client_manager
from workshop.validation import IdConverter, JSONProvider, SocketJSON, SocketPacket
from workshop.vocabulary import LANGUAGES

#: Where a request's environ keeps what its URL gave its context: the URL adapter and the
#: routing's outcome. A socket's environ is its handshake's, the same dict for its
#: connection and each of its events: they all reuse what the connection found.
_URL_ADAPTER = "workshop.url_adapter"
_ROUTING = "workshop.routing_exception"


class _RequestContext(RequestContext):
    """Flask's request context, without the reference cycle its unmatched URL makes, and
    without matching the URL again for each event of one socket.

    A Socket.IO event runs in a request context of the socket's first request, whose URL
    (/socket.io/) is no route of the app: Flask keeps the NotFound, whose traceback holds the
    frame that holds the context (as does the traceback of the NoMatch it was raised from,
    through its frames' callers). Every event's context, request and frames were then freed
    only by the garbage collector (88 objects an event; a burst of a thousand events paid
    collections of tens of thousands of objects). The exception is kept, without the traceback
    of where it was made nor the NoMatch (raised, it gets a traceback of its own). A socket's
    URL never changes: its events take the outcome its connection found (a thousand phones
    coming back after the Wi-Fi dropped each send one event first: none matches again).
    """

    def match_request(self) -> None:
        environ = self.request.environ
        known = environ.get(_ROUTING)
        if known is not None:
            self.request.routing_exception = known
            return
        super().match_request()
        failed = self.request.routing_exception
        if failed is not None:  # its traceback's frames, and its context's, hold the context
            failed.__traceback__ = failed.__context__ = None
            environ[_ROUTING] = failed


class _Flask(Flask):
    def request_context(self, environ: dict) -> RequestContext:
        """The request context, with the socket's own session for a Socket.IO event.

        Flask-SocketIO keeps a copy of the session for each socket (`saved_session` in its
        environ, from its first event on) and puts it in place of the cookie's just after the
        push: opening the cookie's first (its signature checked, decoded) was most of the
        cost of every event's context (in-process 54.6 us with a phone's cookie, 15.6 us
        without opening it). Handed in, it is used as it would have been.
        """
        return _RequestContext(self, environ, session=environ.get("saved_session"))

    def create_url_adapter(self, request: Any) -> Any:
        """The URL adapter, made once per request's environ: once per socket, at its
        connection, for its events too (binding one to a request's environ reads its host,
        scheme and path anew: a fifth of each event's context)."""
        environ = getattr(request, "environ", None)
        if environ is None:
            return super().create_url_adapter(request)
        adapter = environ.get(_URL_ADAPTER)
        if adapter is None:
            adapter = environ[_URL_ADAPTER] = super().create_url_adapter(request)
        return adapter


def screen_language_key(workshop_id: int) -> str:
    """Where a projector screen keeps the language chosen for it (in its own session)."""
    return f"screen_lang:{workshop_id}"


def screen_locale(workshop_id: Any) -> str | None:
    """A screen that is nobody's own (the projector) speaks the room's language.

    The workshop's language, unless this screen was switched with `?lang=` (kept for this
    screen only: the person's own pages in the same browser keep theirs).
    """
    if not isinstance(workshop_id, int):
        return None
    key = screen_language_key(workshop_id)
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session[key] = chosen
        return chosen
    if session.get(key) in LANGUAGES:
        return session[key]
    return workshop_language(workshop_id)


def workshop_language(workshop_id: Any) -> str | None:
    """The workshop's own language (None for an unknown workshop)."""
    from workshop.agenda.models import Workshop

    if not isinstance(workshop_id, int):
        return None
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is not None and workshop.default_locale in LANGUAGES:
        return workshop.default_locale
    return None


# The room's screens (the projector's page and its step part); the console's spotlight list,
# served beside them, is the facilitator's own page and speaks the facilitator's language.
SCREEN_ENDPOINTS = frozenset({"projector.projector", "projector.step_fragment"})

# Documents of a workshop (exports, reports, plans as files), on the pages and in the API.
DOCUMENT_BLUEPRINTS = frozenset({"exports", "reports", "plan_exports"})


def _asks_for_a_document() -> bool:
    endpoint = request.endpoint or ""
    return request.blueprint in DOCUMENT_BLUEPRINTS or endpoint.startswith("api.export_")


def select_locale() -> str:
    """The reader's language: a screen's room language, then an explicit choice, then the
    account's, then the browser's."""
    if not has_request_context():
        return "en"
    if request.endpoint in SCREEN_ENDPOINTS:
        room = screen_locale((request.view_args or {}).get("workshop_id"))
        if room:
            return room
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    locale = getattr(current_user, "locale", None)
    if locale in LANGUAGES:
        return locale
    best = request.accept_languages.best_match(LANGUAGES)
    if best:
        return best
    # A document asked for in no language at all (a script, an API client) is written in
    # the workshop's language, as the room's screens are.
    if _asks_for_a_document():
        return workshop_language((request.view_args or {}).get("workshop_id")) or "en"
    return "en"


def create_app(config: Any = None, instance_path: str | None = None) -> Flask:
    """Build the application: config, extensions, blueprints and socket handlers.

    `config` is a config class or a name from config.CONFIGS; the environment variable
    WORKSHOP_CONFIG picks one when none is given, else production (which demands a strong
    SECRET_KEY), so a server started without configuration never runs on a known secret.
    `instance_path` overrides Flask's instance folder (where development keeps its secret).

    :raise config.ConfigError: unknown config name, or no safe SECRET_KEY.
    """
    from config import config_class, settle_secret_key

    if config is None or isinstance(config, str):
        config = config_class(config or os.environ.get("WORKSHOP_CONFIG", "production"))
    app = _Flask(
        __name__,
        static_folder="../static",
        template_folder="../templates",
        instance_relative_config=True,
        instance_path=instance_path,
    )
    # Before any route exists: every `<int:...>` in a URL is a bounded id (404 past it), and
    # request bodies are parsed with bounded nesting (workshop.validation).
    app.url_map.converters["int"] = IdConverter
    app.json = JSONProvider(app)
    app.config.from_object(config)
    os.makedirs(app.instance_path, exist_ok=True)
    settle_secret_key(app.config, app.instance_path)

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            tune_sqlite(engine)

    @app.teardown_appcontext
    def _end_reads(exc: BaseException | None) -> None:
        """A request's or socket event's reads end before Flask-SQLAlchemy removes the
        session (this runs first: teardowns run last registered first), see end_reads;
        anything else is rolled back by that removal, as before."""
        if exc is None and db.session.registry.has():
            try:
                end_reads(db.session())
            except Exception:  # Flask-SQLAlchemy's removal must still run, and rolls back
                app.logger.exception("ending a request's reads")
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "..", "migrations"))
    login_manager.init_app(app)
    login_manager.user_loader(load_principal)
    login_manager.unauthorized_handler(unauthorized)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=os.path.join(app.root_path, "translations"),
    )
    app.jinja_env.globals["get_locale"] = get_locale
    queue = app.config.get("SOCKETIO_MESSAGE_QUEUE")
    manager = client_manager(queue)  # each socket's rooms indexed (see workshop/rooms.py)
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=queue,
        json=SocketJSON,
        serializer=SocketPacket,  # (json above sets its JSON too: the same SocketJSON)
        ping_interval=10,
        ping_timeout=20,
        **({"client_manager": manager} if manager is not None else {}),
    )

    from workshop import api, assets, errors_http, headers, sockets
    from workshop.agenda import console, events, manage, phone, projector
    from workshop.auth import views as auth_views
    from workshop.exports import views as export_views
    from workshop.plans import events as plan_events
    from workshop.plans import exports as plan_exports
    from workshop.plans import steps as _plan_steps  # noqa: F401  (registers)
    from workshop.plans import views as plan_views
    from workshop.proposals import events as proposal_events
    from workshop.proposals import steps as _proposal_steps  # noqa: F401  (registers)
    from workshop.proposals import views as proposal_views
    from workshop.registration import views as registration_views
    from workshop.reports import views as report_views
    from workshop.voting import events as voting_events
    from workshop.voting import steps as _voting_steps  # noqa: F401  (registers)
    from workshop.voting import views as voting_views

    for blueprint in (auth_views.bp, phone.bp, console.bp, manage.bp, projector.bp,
                      proposal_views.bp, voting_views.bp, plan_views.bp,
                      plan_exports.bp, export_views.bp, registration_views.bp,
                      report_views.bp):
        app.register_blueprint(blueprint)
    api.init_app(app)
    assets.init_app(app)
    errors_http.register(app)
    headers.register(app)
    sockets.register(app)
    events.register()
    proposal_events.register(app)
    voting_events.register(app)
    plan_events.register()

    from workshop import cli

    cli.register(app)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:  # outermost, so pages, static files and sockets all see the phone's address
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    return app
