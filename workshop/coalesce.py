"""Broadcasts coalesced per key, so a rush of changes to one thing stays cheap.

A thousand phones voting, or giving a +1, within a second would each mean a message to every
screen that shows the count: a million messages for a thousand clicks. A screen needs a
couple of updates a second. The first change of a key after a quiet spell is announced as
soon as it is committed (never if it rolls back); the changes committed within the next
`interval` seconds together once it has passed. Each update is read and sent by a background
task after the commit, outside the writer's transaction (a rush of cards is not drawn while
the writers wait) and in order: each reads what is committed then, so updates never go back
and the last counts every change before it. An update also waits while writes are under way in
this process (at most `MAX_DEFER` seconds): in a rush, a thousand phones are answered first
and told the counts once, rather than the counts' message to every phone competing with the
answers (the first update after a quiet spell waits `GRACE` seconds to see whether a rush
follows). Used for a ballot's turnout
(workshop/voting/broadcast.py), a line's supporter and comment counts, and the cards of a
workshop's new or changed lines (workshop/proposals/live.py), where an announcement names
items (lines) and the update covers every item named meanwhile, in one message.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from flask import Flask, current_app
from sqlalchemy.orm import Session

from workshop.extensions import db, socketio
from workshop.group_commit import busy
from workshop.live import after_commit, queue

#: The longest an update waits for writes to pass, and how often it looks (seconds); and how
#: long even the first after a quiet spell waits, to see whether a rush follows its commit.
MAX_DEFER = 2.0
DEFER_STEP = 0.02
GRACE = 0.05

#: What to send for a key and the items announced with it (none: the key alone), read from
#: the database session: (event, payload, room) for each message; none when all is gone.
Messages = Callable[[Hashable, frozenset], list[tuple[str, Any, str]]]


class Coalescer:
    """Sends a key's messages at most once per `interval` seconds (0: with every commit)."""

    def __init__(self, messages: Messages) -> None:
        self.messages = messages
        self.interval = 0.0
        self.app: Flask | None = None
        self._last: dict[Hashable, float] = {}
        self._pending: set[Hashable] = set()
        self._items: dict[Hashable, set[Hashable]] = {}
        self._sending: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def configure(self, app: Flask, interval: float) -> None:
        """Bind the app (for the background task's app context) and the interval."""
        self.app = app
        self.interval = interval

    def announce(self, session: Session, key: Hashable, *items: Hashable) -> None:
        """Send the key's messages (for `items`) once this transaction commits, never if it
        rolls back: read then, by a background task, at once if none went out in the last
        `interval` seconds, else once the interval has passed (so they include this commit
        and every one before it, with every item announced meanwhile). With no interval (the
        tests), read in this transaction and sent with its commit."""
        if self.interval > 0:
            after_commit(session, functools.partial(self._schedule, key, items))
            return
        for event, payload, room in self.messages(key, frozenset(items)):
            queue(session, event, payload, room)

    def _schedule(self, key: Hashable, items: tuple[Hashable, ...] = ()) -> None:
        """After a commit: one update for the key, when it is due (at once after a quiet
        spell).

        The pending mark (and the items) are taken only by the task, just before it reads, so
        no commit is left out of the last update.
        """
        if self.app is None:
            return
        with self._lock:
            if items:
                self._items.setdefault(key, set()).update(items)
            if key in self._pending:
                return
            self._pending.add(key)
            delay = max(0.0, self._last.get(key, 0) + self.interval - time.monotonic())
        try:
            socketio.start_background_task(self._later, key, delay)
        except Exception:
            with self._lock:  # never left pending with no task to send it
                self._pending.discard(key)
            raise

    def _later(self, key: Hashable, delay: float) -> None:
        socketio.sleep(max(delay, GRACE))
        deadline = time.monotonic() + MAX_DEFER
        while busy() and time.monotonic() < deadline:
            socketio.sleep(DEFER_STEP)
        if self.app is None:
            return
        with self._lock:
            sending = self._sending.setdefault(key, threading.Lock())
        # One update of a key at a time: a later one reads (newer) after this one is sent.
        with sending, self.app.app_context():
            items: frozenset = frozenset()
            try:
                with self._lock:
                    self._pending.discard(key)
                    self._last[key] = time.monotonic()
                    items = frozenset(self._items.pop(key, ()))
                for event, payload, room in self.messages(key, items):
                    socketio.emit(event, payload, to=room)
            except Exception:  # noqa: BLE001  (the database down, say: logged, not lost)
                with self._lock:  # its items go with the key's next announcement
                    self._items.setdefault(key, set()).update(items)
                current_app.logger.exception("a coalesced broadcast failed")
            finally:
                db.session.remove()
