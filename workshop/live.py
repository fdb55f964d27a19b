"""Rooms and broadcasts: the only module that knows room names.

Services queue broadcasts on the database session; they are sent after the transaction
commits and dropped if it rolls back, so no screen ever shows a change that did not happen.
Ended login sessions are queued the same way: after the commit their sockets are told and
closed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_request_context, render_template, request
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

from workshop.extensions import socketio

_PENDING = "live.pending"
_LOGINS_ENDED = "live.logins_ended"
_SCREENS_ENDED = "live.screens_ended"
_CALLS = "live.calls"
_QUEUES = (_PENDING, _LOGINS_ENDED, _SCREENS_ENDED, _CALLS)
_MARKS = "live.savepoint_marks"
NAMESPACE = "/"


def workshop_room(workshop_id: int) -> str:
    """Every screen of a workshop: phones, projector, console."""
    return f"w{workshop_id}"


def staff_room(workshop_id: int) -> str:
    """Facilitators' and organisers' consoles only."""
    return f"w{workshop_id}:staff"


def screen_room(workshop_id: int) -> str:
    """Projector screens opened with the workshop's projector key."""
    return f"w{workshop_id}:screens"


def delegate_room(delegate_id: int) -> str:
    """All the tabs and phones of one delegate."""
    return f"d{delegate_id}"


def language_room(workshop_id: int, language: str) -> str:
    """The screens of a workshop that read one language (for server-rendered fragments)."""
    return f"w{workshop_id}:{language}"


def discussion_room(line_id: int, language: str) -> str:
    """The screens following one line's discussion live, in one language (`discussion.open`):
    its comments go there only, not to every phone of the workshop."""
    return f"l{line_id}:{language}"


def login_room(login_session_id: int) -> str:
    """The sockets opened under one login session (told and closed when it ends)."""
    return f"s{login_session_id}"


@dataclass(frozen=True)
class Fanout:
    """A broadcast whose payloads are made when it is sent, after the commit: `make()` gives
    the (payload, room) pairs to send instead of one payload to the queued room."""

    make: Callable[[], list[tuple[Any, str]]]


@contextlib.contextmanager
def drawing() -> Iterator[None]:
    """Where fragments are drawn: the request, or outside one (the clock, a batch, a command,
    a test calling a service) a request context of the public address, so that links resolve
    alike. Made once for several drawings (every language's, every card's): making one costs
    about as much as drawing a card."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context(base_url=current_app.config.get("PUBLIC_URL")):
        yield


@contextlib.contextmanager
def for_room(language: str) -> Iterator[None]:
    """Drawing in `language`, for a language's room (in `drawing`'s context)."""
    with drawing(), force_locale(language):
        yield


def from_socket() -> bool:
    """Whether this request is a socket event (Flask-SocketIO names its socket: `sid`)."""
    return has_request_context() and getattr(request, "sid", None) is not None


def render_for_room(template: str, language: str, **context: Any) -> str:
    """A fragment in `language`, for a language's room (see `for_room`)."""
    with for_room(language):
        return render_template(template, **context)


def queue(session: Session, event_name: str, payload: Any, room: str) -> None:
    """Send `event_name` to `room` once the session's transaction commits (a `Fanout`: what
    it makes then)."""
    _pending(session, _PENDING).append((event_name, payload, room))


def after_commit(session: Session, call: Callable[[], None]) -> None:
    """Run `call` once the session's transaction commits (never if it rolls back): what must
    follow a change and is not a broadcast, such as watching a ballot's closing time."""
    _pending(session, _CALLS).append(call)


def has_pending(session: Session) -> bool:
    """Whether anything waits for the session's commit (a broadcast, a call)."""
    return any(session.info.get(key) for key in _QUEUES)


def _pending(session: Session, key: str) -> list:
    """The session's queue under `key`, in a transaction begun now if none was: what is
    queued belongs to a transaction, and goes with its rollback."""
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction():
        session.begin()
    return session.info.setdefault(key, [])


def queue_logins_ended(session: Session, login_session_ids: Iterable[int]) -> None:
    """Once the session's transaction commits, close the sockets of these login sessions.

    Every socket of each login session gets `session.ended` (through the message queue, so in
    every server process; the page then reloads) and is disconnected by the process serving
    it (workshop/rooms.py `ClosesEnded`, with our managers: in memory or on Redis). With
    another kind of queue (Flask-SocketIO's own manager) only this process's sockets are
    disconnected here (`_close_rooms`); those elsewhere, or any the event never reached, are
    refused on their next event.
    """
    _pending(session, _LOGINS_ENDED).extend(login_session_ids)


def queue_screens_ended(session: Session, workshop_id: int) -> None:
    """Once the session's transaction commits, close the projector screens of a workshop that
    were let in by its projector key (the key was replaced): as ended logins are closed."""
    _pending(session, _SCREENS_ENDED).append(workshop_id)


def _close_rooms(rooms: list[str]) -> None:
    """Tell every socket of these rooms that its session ended; disconnect this process's."""
    server = socketio.server
    if server is None:
        return
    local: list[str] = []
    for room in rooms:
        socketio.emit("session.ended", {}, to=room)
        local.extend(sid for sid, _eio_sid in server.manager.get_participants(NAMESPACE, room))
    if not local:
        return
    # The disconnect handler writes presence in an app context of its own (sockets.py).
    for sid in local:
        server.disconnect(sid, namespace=NAMESPACE)


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    # SQLAlchemy also calls this when a savepoint is released: only the real commit sends.
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, [])
    for event_name, payload, room in pending:
        for each_payload, each_room in (payload.make() if isinstance(payload, Fanout)
                                        else [(payload, room)]):
            socketio.emit(event_name, each_payload, to=each_room)
    rooms = [login_room(i) for i in session.info.pop(_LOGINS_ENDED, [])]
    rooms += [screen_room(i) for i in session.info.pop(_SCREENS_ENDED, [])]
    calls = session.info.pop(_CALLS, [])
    session.info.pop(_MARKS, None)
    if rooms:
        _close_rooms(rooms)
    for call in calls:
        call()


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: Any) -> None:
    """Remember how much was queued when a savepoint began (see `_drop_after_rollback`)."""
    if transaction.nested:
        session.info.setdefault(_MARKS, {})[transaction] = {
            key: len(session.info.get(key, ())) for key in _QUEUES}


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction: Any) -> None:
    """A rolled-back transaction sends nothing; a rolled-back savepoint drops only what was
    queued inside it (a batch of casts keeps the broadcasts of the casts that stood)."""
    marks = session.info.get(_MARKS, {}).pop(previous_transaction, None)
    if previous_transaction.nested:
        for key, length in (marks or {}).items():
            if key in session.info:
                del session.info[key][length:]
        return
    for key in (*_QUEUES, _MARKS):
        session.info.pop(key, None)


def plan_room(plan_id: int) -> str:
    """The screens that have an action plan open (its working group and its readers)."""
    return f"p{plan_id}"
