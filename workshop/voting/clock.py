"""Closing ballots at their set time: one background task per ballot with a closing time.

A ballot past its closing time refuses votes (checked where they are accepted); this task is
what closes it (a cast that finds the time passed asks for the same close; a page read never
does). A restarted server watches again every open ballot with a closing time (`resume`), so
one whose time came while the server was down closes at once and tells the screens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

from workshop.db import utcnow
from workshop.extensions import db, socketio
from workshop.voting.models import Ballot

POLL_SECONDS = 5.0

_watching: set[int] = set()
_lock = threading.Lock()


#: Closes a ballot whose time has passed (services.close_if_due, given by `configure`): the
#: clock knows when, the ballots' service knows how; arrows run from the service to the clock.
_close: Callable[[Ballot], object] | None = None


def configure(close: Callable[[Ballot], object]) -> None:
    """Give the clock the function that closes a due ballot."""
    global _close
    _close = close


def schedule(app: Flask, ballot_id: int) -> None:
    """Make sure a task closes this ballot at its closing time (no-op in tests)."""
    if app.testing:
        return
    with _lock:
        if ballot_id in _watching:
            return
        _watching.add(ballot_id)
    socketio.start_background_task(_watch, app, ballot_id)


def resume(app: Flask) -> int:
    """At server start: watch every open ballot that has a closing time; how many."""
    with app.app_context():
        try:
            ids = list(db.session.scalars(sa.select(Ballot.id).where(
                Ballot.status == "open", Ballot.closes_at.is_not(None))))
        finally:
            db.session.remove()
    for ballot_id in ids:
        schedule(app, ballot_id)
    return len(ids)


def _watch(app: Flask, ballot_id: int) -> None:
    try:
        while True:
            with app.app_context():
                try:
                    ballot = db.session.get(Ballot, ballot_id)
                    if ballot is None or not ballot.is_open or ballot.closes_at is None:
                        return
                    left = (ballot.closes_at - utcnow()).total_seconds()
                    if left <= 0:
                        if _close is not None:
                            _close(ballot)
                        return
                finally:
                    db.session.remove()
            # Re-read now and then: the facilitator may extend or shorten the ballot.
            socketio.sleep(min(left, POLL_SECONDS))
    except Exception:  # a task must never die silently: log; the next cast closes the ballot
        app.logger.exception("auto-close of ballot %s failed", ballot_id)
    finally:
        with _lock:
            _watching.discard(ballot_id)
