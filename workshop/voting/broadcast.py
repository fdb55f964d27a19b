"""Live turnout for the screens that watch a vote, coalesced so a rush of votes stays cheap.

A thousand phones voting within a second would mean a thousand turnout updates; the
facilitator's console and the projector need a couple per second. The first commit of votes
after a quiet spell is announced with that commit (queued on the session like every
broadcast); commits within the next `interval` seconds are announced together once it has
passed, by a background task that reads the committed count. Turnout goes to the staff room and the
projector screens, never to the phones, and never carries results. A secret ballot's turnout
by region goes through the small-cell rule (workshop/voting/turnout.py): a region where fewer
than k delegates voted is sent as `"voted": null`, so the projector does not show whether the
one delegate of a small region has voted.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from workshop.extensions import db, socketio
from workshop.live import after_commit, queue, screen_room, staff_room
from workshop.voting.models import Ballot
from workshop.voting.turnout import turnout

EVENT = "ballot.turnout"


def _rooms(workshop_id: int) -> tuple[str, str]:
    return staff_room(workshop_id), screen_room(workshop_id)


class TurnoutPublisher:
    """Sends `ballot.turnout` at most once per `interval` seconds per ballot (0: every vote)."""

    def __init__(self) -> None:
        self.interval = 0.0
        self.app: Flask | None = None
        self._last: dict[int, float] = {}
        self._pending: set[int] = set()
        self._lock = threading.Lock()

    def configure(self, app: Flask, interval: float) -> None:
        """Bind the app (for background tasks' app context) and the coalescing interval."""
        self.app = app
        self.interval = interval

    def announce(self, session: Session, ballot: Any) -> None:
        """Send the ballot's turnout with this transaction's commit; if one went out less than
        `interval` ago, once the interval has passed instead (read then, so it counts this
        commit and every one before it). Nothing is sent if the transaction rolls back."""
        if self.interval > 0:
            now = time.monotonic()
            with self._lock:
                later = (ballot.id in self._pending
                         or now < self._last.get(ballot.id, 0) + self.interval)
                if not later:
                    self._last[ballot.id] = now
            if later:
                after_commit(session, functools.partial(self._schedule, ballot.id,
                                                        ballot.workshop_id))
                return
        payload = turnout(ballot)
        for room in _rooms(ballot.workshop_id):
            queue(session, EVENT, payload, room)

    def _schedule(self, ballot_id: int, workshop_id: int) -> None:
        """After a commit that was not announced: one update for the ballot, when it is due.

        The pending mark is cleared only by the task, just before it reads the count, so no
        commit is left out of the last update.
        """
        if self.app is None:
            return
        with self._lock:
            if ballot_id in self._pending:
                return
            self._pending.add(ballot_id)
            delay = max(0.0, self._last.get(ballot_id, 0) + self.interval - time.monotonic())
        socketio.start_background_task(self._later, ballot_id, workshop_id, delay)

    def _later(self, ballot_id: int, workshop_id: int, delay: float) -> None:
        socketio.sleep(delay)
        if self.app is None:
            return
        with self.app.app_context():
            try:
                with self._lock:
                    self._pending.discard(ballot_id)
                    self._last[ballot_id] = time.monotonic()
                ballot = db.session.get(Ballot, ballot_id)
                if ballot is not None:
                    payload = turnout(ballot)
                    for room in _rooms(workshop_id):
                        socketio.emit(EVENT, payload, to=room)
            finally:
                db.session.remove()


publisher = TurnoutPublisher()
