"""Presence: how many sockets each delegate has open, so the console shows who is online.

A socket opening counts in the connection's own transaction. Sockets closing go through a
group commit (workshop/group_commit.py): when a room's Wi-Fi drops, hundreds close within a
second, and each used to read its delegate and organisation, update the count and commit on
its own, while the server had votes to store (py-spy: half of a two-process server's samples
during a 3,000-phone vote were phones leaving). Closings that arrive together now share one
read of their delegates and one commit; each delegate's count is still updated by the
database (sockets of one delegate open and close in several processes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from workshop.agenda.models import Delegate
from workshop.agenda.state import announce_delegate
from workshop.db import utcnow
from workshop.errors import WorkshopError
from workshop.extensions import db, one_per_app
from workshop.group_commit import GroupCommit, held_by_id, hold_by_ids


def count_connection(delegate: Delegate, delta: int) -> None:
    """Add `delta` to the delegate's open sockets (never below 0) and tell the consoles, in
    the caller's transaction (not committed)."""
    count = Delegate.connections + delta
    db.session.flush()
    # The new count comes back with the update, not read again.
    counted = db.session.execute(
        sa.update(Delegate)
        .where(Delegate.id == delegate.id)
        .values(connections=sa.case((count < 0, 0), else_=count), last_seen_at=utcnow())
        .returning(Delegate.connections, Delegate.last_seen_at)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if counted is None:  # removed by another process meanwhile: nobody to count
        return
    connections, seen = counted
    set_committed_value(delegate, "connections", connections)
    set_committed_value(delegate, "last_seen_at", seen)
    announce_delegate(db.session, delegate)


def mark_connected(delegate: Delegate) -> None:
    """Count a delegate's new socket and commit."""
    count_connection(delegate, +1)
    db.session.commit()


@dataclass(frozen=True)
class _Closed:
    """One socket of a delegate closed: counted in the batch's session (by id)."""

    delegate_id: int

    def __call__(self) -> None:
        delegate = held_by_id("delegate", Delegate, self.delegate_id)
        if delegate is not None:  # removed meanwhile: nothing to count
            count_connection(delegate, -1)


def _hold_delegates(works: list[Any]) -> None:
    """Read a batch's delegates and their organisations (the consoles' line) in one query,
    locking their rows in id order (PostgreSQL): two processes' batches closing sockets of the
    same delegates then take turns instead of updating them in opposite orders and
    deadlocking. A vote's rows only share-lock a delegate's key: they do not wait."""
    ids = {work.delegate_id for work in works if isinstance(work, _Closed)}
    hold_by_ids("delegate", Delegate, ids, joinedload(Delegate.organisation),
                lock=lambda query: query.with_for_update(of=Delegate, key_share=True))


def closings() -> GroupCommit:
    """The process's group commit of sockets closing (one per app). Run all at once: a
    closing refuses nothing (`refusals` only says so)."""
    return one_per_app("workshop.presence", lambda: GroupCommit(
        prepare=_hold_delegates, refusals=(WorkshopError,)))


def mark_disconnected(delegate_id: int) -> None:
    """Count a delegate's socket as closed; returns once that is committed."""
    closings().submit(_Closed(delegate_id))
