"""Socket.IO plumbing: who is connected, and the one wrapper every event handler goes through.

A socket is authenticated by the same login session as HTTP (the session cookie sent with the
handshake) plus the page's CSRF token, so a foreign page cannot open a socket in a user's name.
Every event runs in a fresh app context (the real server pushes one per event; the tests'
fixture empties `g`), so `current_user` is loaded again through the login-session loader: once
the login session ends, the socket's next event is refused and the socket closed. A vote is the
one exception, and the re-reads (`state.sync`, `ballot.sync`) others: their group commit and
group read check the login in the batch (`operation`'s `checked_in_batch`), with the same outcome.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, current_app, request, session
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, disconnect, emit, join_room, leave_room
from flask_wtf.csrf import ValidationError as CSRFValidationError
from flask_wtf.csrf import validate_csrf
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc

from workshop import screen_locale
from workshop.agenda.models import Workshop
from workshop.agenda.presence import mark_connected, mark_disconnected
from workshop.agenda.state import snapshot
from workshop.auth.logins import Sender
from workshop.errors import (
    NotFound,
    NotLoggedIn,
    TooFast,
    ValidationFailed,
    WorkshopError,
    database_unavailable,
    unavailable,
)
from workshop.extensions import db, one_per_app, socketio
from workshop.live import (
    delegate_room,
    discussion_room,
    language_room,
    login_room,
    screen_room,
    staff_room,
    workshop_room,
)
from workshop.permissions import Actor, ProjectorViewer, facilitates, watches
from workshop.proposals.services import open_discussion
from workshop.steps import page_marks
from workshop.throttle import BudgetFilter, LogBudget, Throttle, where
from workshop.validation import MAX_ID, SharedAnswer, parse, whole_number


def projector_session_key(workshop_id: int) -> str:
    """Session key set when a projector page was opened with the right key."""
    return f"projector:{workshop_id}"


def projector_pass(projector_key: str) -> str:
    """What the session keeps of the projector key it was shown: a digest, so a new key
    (projector.rotate_key) ends every session opened with the old one."""
    return hashlib.sha256(projector_key.encode()).hexdigest()[:32]


def remember_projector_key(workshop: Workshop) -> None:
    """The projector page was opened with the workshop's key: let its socket in too."""
    session[projector_session_key(workshop.id)] = projector_pass(workshop.projector_key)


def shown_projector_key(workshop_id: int) -> str | None:
    """What this session keeps of the projector key it was shown for the workshop, if any."""
    held = session.get(projector_session_key(workshop_id))
    return held if isinstance(held, str) else None


def shows_projector_key(held: str | None, workshop: Workshop) -> bool:
    """True when `held` (see `shown_projector_key`) is the workshop's current projector key."""
    return held is not None and hmac.compare_digest(held, projector_pass(workshop.projector_key))


def holds_projector_key(workshop: Workshop) -> bool:
    """True when this session was opened with the workshop's current projector key."""
    return shows_projector_key(shown_projector_key(workshop.id), workshop)


def socket_actor(workshop: Workshop | None = None) -> Actor:
    """The logged-in user or delegate; else a projector viewer allowed by the session."""
    if current_user.is_authenticated:
        return current_user._get_current_object()
    if workshop is not None and holds_projector_key(workshop):
        return ProjectorViewer(workshop.id)
    return None


def _id_in(auth: Any, key: str) -> int | None:
    """The id `auth` gives under `key` (a number or its digits), or None."""
    if isinstance(auth, dict):
        raw = auth.get(key)
        if isinstance(raw, str):
            raw = whole_number(raw)
        # Bounded like every id: a huge number names nothing (never an overflow).
        if isinstance(raw, int) and not isinstance(raw, bool) and 1 <= raw <= MAX_ID:
            return raw
    return None


def _workshop_from_auth(auth: Any) -> Workshop | None:
    workshop_id = _id_in(auth, "workshop")
    return None if workshop_id is None else db.session.get(Workshop, workshop_id)


def follow_discussion(line_id: int) -> None:
    """This socket follows one line's discussion (leaving the one it followed): the room of
    that line in the socket's language, where its comments are sent."""
    room = discussion_room(line_id, session["socket_language"])
    followed = session.get("socket_discussion")
    if followed is not None and followed != room:
        leave_room(followed)
    join_room(room)
    session["socket_discussion"] = room


def _follow_discussion_at_connect(actor: Actor, workshop: Workshop, auth: Any) -> None:
    """A discussion page's socket follows its line from the start (`auth["line"]`), so a
    comment it sends as it reconnects comes back to it; a line it may not read is ignored."""
    proposal_id = _id_in(auth, "line")
    if proposal_id is not None:
        with contextlib.suppress(NotFound):
            follow_discussion(open_discussion(actor, workshop, proposal_id))


def on_connect(auth: Any = None) -> None:
    """Accept a socket only for someone who may watch the workshop named in `auth`.

    :raise ConnectionRefusedError: no valid CSRF token, no workshop, or no right to watch it.
    """
    token = auth.get("csrf") if isinstance(auth, dict) else None
    try:
        validate_csrf(token)
    except CSRFValidationError:
        raise ConnectionRefusedError("csrf") from None
    workshop = _workshop_from_auth(auth)
    actor = socket_actor(workshop)
    if not watches(actor, workshop):
        raise ConnectionRefusedError("forbidden")
    join_room(workshop_room(workshop.id))
    language = str(get_locale())
    if getattr(actor, "kind", None) == "projector":
        language = screen_locale(workshop.id) or language  # the room's, as its pages
    join_room(language_room(workshop.id, language))
    session["socket_language"] = language  # the fragments it is sent later: discussion.open
    _follow_discussion_at_connect(actor, workshop, auth)
    if facilitates(actor, workshop):
        join_room(staff_room(workshop.id))
    if getattr(actor, "kind", None) == "projector":
        join_room(screen_room(workshop.id))
    login_session_id = getattr(actor, "login_session_id", None)
    if login_session_id is not None:
        join_room(login_room(login_session_id))
        session["socket_login"] = login_session_id
        session["socket_person"] = [actor.kind, actor.id]
    if getattr(actor, "kind", None) == "delegate":
        join_room(delegate_room(actor.id))
        mark_connected(actor)
        session["socket_delegate"] = actor.id
        # Their marks as they are now: a change while this phone slept is not missed.
        emit("marks", page_marks(actor, workshop))
    session["socket_workshop"] = workshop.id
    emit("state", snapshot(db.session, workshop))  # presence committed: a reader


def on_disconnect(reason: Any = None) -> None:
    """Count a delegate's socket as closed, also when it closes because the login ended.

    Engine.IO runs this handler inside whatever sends to a socket whose pings went unanswered,
    often a broadcast after a commit (a batch of votes' turnout, a Go): the presence update
    then gets an app context (so a database session) of its own, never the one that is
    committing. Under gevent it runs in a greenlet of its own, so that the broadcast goes on
    at once and the sockets found closed meanwhile are counted in one batch (presence.py).
    """
    throttle().closed(request.sid)
    delegate_id = session.get("socket_delegate")
    if delegate_id is None:
        return
    app = current_app._get_current_object()

    def count() -> None:
        with app.app_context():
            try:
                mark_disconnected(delegate_id)  # with the sockets closing at the same time
            except Exception as exc:  # noqa: BLE001  (logged; the count stays one too high)
                log_failure("disconnect", exc)

    if socketio.async_mode == "gevent":
        socketio.start_background_task(count)
    else:
        count()


def _limit(spec: str) -> tuple[float, float]:
    rate, _slash, burst = spec.partition("/")
    return float(rate), float(burst or rate)


def throttle() -> Throttle:
    """The process's throttle of socket events, built from the configuration once."""
    config = current_app.config
    return one_per_app("workshop.throttle", lambda: Throttle(
        limits={"write": _limit(config["SOCKET_LIMIT_WRITE"]),
                "typing": _limit(config["SOCKET_LIMIT_TYPING"]),
                "read": _limit(config["SOCKET_LIMIT_READ"])},
        strikes_to_disconnect=config["SOCKET_STRIKES"]))


def _person() -> str | None:
    """Who sends, across their sockets (a phone and a laptop share one person's budget), as
    the socket recorded them when it opened: known without a query."""
    who = sender()
    return None if who is None else f"{who.kind}:{who.id}"


def sender() -> Sender | None:
    """Who opened this socket under a login, as it recorded them (None: no login, as a
    projector's); whether that login is still open is for the batch that runs the event to
    check (a vote's group commit, a state's group read)."""
    person, login_session_id = session.get("socket_person"), session.get("socket_login")
    if person is None or login_session_id is None:
        return None
    return Sender(person[0], person[1], login_session_id)


#: Where failed socket events are logged (the event's name and the error, never its payload).
log = logging.getLogger("workshop.sockets")
#: One budget for the lines of socket failures, ours and the Socket.IO libraries' (a
#: malformed packet is logged by them): a flood is logged as a few lines and a count.
LOG_BUDGET = LogBudget(rate=1.0, burst=20.0)
BUDGETED_LOGGERS = ("workshop.sockets", "socketio.server", "engineio.server")


def log_failure(event: Any, exc: BaseException) -> None:
    """Log a socket event that failed unexpectedly: its name, the error's kind and where it
    was raised; never the payload (a ballot's choices and secret) nor the error's text (a
    database error quotes the values it was given)."""
    name = event if isinstance(event, str) else "?"
    name = "".join(ch for ch in name[:60] if ch.isprintable())
    log.error("socket event %s failed: %s at %s", name, type(exc).__name__, where(exc))


def _budget_the_logs() -> None:
    for name in BUDGETED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, BudgetFilter) for f in logger.filters):
            logger.addFilter(BudgetFilter(LOG_BUDGET))


def login_ended() -> bool:
    """True when the socket was opened under a login session that has since ended."""
    return session.get("socket_login") is not None and not current_user.is_authenticated


def operation(schema: type[BaseModel], *, checked_in_batch: bool = False) -> Callable:
    """Wrap a socket handler: validate the payload, load the actor, answer with an ack.

    The handler receives (actor, workshop, data) (but see `checked_in_batch`). Errors
    become `{"ok": false, ...}` acks that name the wrong field; nothing is committed when the
    handler raises. A socket whose login session has ended is answered `unauthorized` and
    disconnected.

    `checked_in_batch`: an event that checks who sends in the batch that runs it (a vote in
    its group commit, a re-read in its group read: the login still open, the right to act).
    The handler then receives (sender(), workshop id, data) and the event reads nothing
    itself: a thousand votes make no thousand login reads.
    """

    def decorator(handler: Callable[..., dict | None]) -> Callable:
        @functools.wraps(handler)
        def wrapper(payload: Any = None) -> dict:
            # The throttle first: a flood is refused before any database work.
            verdict = throttle().check(request.event["message"], request.sid, _person)
            if verdict != "ok":
                if verdict == "disconnect":
                    disconnect()
                return TooFast(_("Too many actions at once: wait a moment and try again."),
                               ).to_dict()
            if not checked_in_batch and login_ended():
                disconnect()
                return NotLoggedIn(_("Log in first.")).to_dict()
            try:
                data = parse(schema, payload)
                if checked_in_batch:
                    _check_connected_to(data.workshop_id)
                    result = handler(sender(), data.workshop_id, data)
                else:
                    workshop = db.session.get(Workshop, data.workshop_id)
                    _check_connected_to(workshop and workshop.id)
                    result = handler(socket_actor(workshop), workshop, data)
            except NotLoggedIn as exc:  # the batch found the login ended
                db.session.rollback()
                disconnect()
                return exc.to_dict()
            except WorkshopError as exc:
                db.session.rollback()
                return exc.to_dict()
            if isinstance(result, SharedAnswer):  # many askers' answer: its JSON made once
                return result.acknowledgement()
            return {"ok": True, **(result or {})}

        wrapper.schema = schema  # what the event takes (the tests walk every event's ids)
        return wrapper

    return decorator


def _check_connected_to(workshop_id: int | None) -> None:
    """:raise ValidationFailed: the event names a workshop other than the socket's (one it
    was let in to watch when it connected), or (read here) one that no longer exists; a
    batch that runs the event finds a deleted workshop itself."""
    if workshop_id is None or session.get("socket_workshop") != workshop_id:
        raise ValidationFailed(
            _("Some fields need correcting."),
            workshop_id=_("This is not the workshop you are connected to."),
        )


class SocketSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except for a socket's events after its connection.

    Flask-SocketIO runs each event in a request context made from the socket's handshake, so
    Flask would verify and decode the handshake's cookie on every event, only for
    Flask-SocketIO to put the socket's own session (a copy made at connection) in its place:
    that session is given at once instead (a tenth of a vote's time in the server).
    """

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        kept = request.environ.get("saved_session")
        if kept is not None:
            return kept
        return super().open_session(app, request)


def register(app: Flask) -> None:
    """Install the connection handlers and the sessions of socket events."""
    app.session_interface = SocketSessions()
    socketio.on_event("connect", on_connect)
    socketio.on_event("disconnect", on_disconnect)
    _budget_the_logs()

    @socketio.on_error_default
    def _unexpected(exc: Exception) -> dict | bool:
        with contextlib.suppress(sa_exc.SQLAlchemyError):  # the connection may be gone
            db.session.rollback()
        log_failure(request.event.get("message"), exc)
        if request.event.get("message") == "connect":
            return False  # a half-done connection would follow nothing: refuse it
        if database_unavailable(exc):
            return unavailable().to_dict()
        return {"ok": False, "error": "server", "message": _("Something went wrong.")}
