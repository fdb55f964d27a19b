"""How a request's, socket event's or group read's transaction ends (group_commit.end_reads).

On PostgreSQL one that only read ends with a COMMIT: psycopg forgets the statements it has
prepared on a connection at every ROLLBACK, so with reads ending in one, PostgreSQL planned
every statement each time it ran. Only reads: a transaction that wrote anything, or has an
ORM change or a queued row pending, or met an error, is rolled back as before, so nothing
half-written is ever kept. Elsewhere (SQLite) every ending is as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from tests.helpers import create_workshop
from workshop.agenda.models import Organisation, Workshop
from workshop.extensions import db
from workshop.group_commit import insert_later
from workshop.live import queue


def endings(app, work: Callable[[], None], fails: bool = False) -> list[str]:
    """Run `work` in an app context of its own, as a request or a socket event has one, and
    say how the transactions it began ended (`fails`: it raises RuntimeError)."""
    seen: list[str] = []

    def committed(_connection) -> None:
        seen.append("commit")

    def rolled_back(_connection) -> None:
        seen.append("rollback")

    sa.event.listen(db.engine, "commit", committed)
    sa.event.listen(db.engine, "rollback", rolled_back)
    try:
        with pytest.raises(RuntimeError) if fails else contextlib.nullcontext(), \
                app.app_context():
            work()
    finally:
        sa.event.remove(db.engine, "commit", committed)
        sa.event.remove(db.engine, "rollback", rolled_back)
    return seen


def title_of(workshop_id: int) -> str | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Workshop.title).where(Workshop.id == workshop_id))


@pytest.fixture
def workshop_id(app) -> int:
    workshop = create_workshop()
    workshop.title = "Before"
    db.session.commit()
    return workshop.id


def test_a_transaction_that_only_read_is_committed_on_postgresql(app, workshop_id):
    def read() -> None:
        assert db.session.scalar(sa.select(Workshop.title)) == "Before"
        db.session.scalars(sa.select(Workshop).with_for_update()).all()  # a lock: read too

    expected = "commit" if db.engine.dialect.name == "postgresql" else "rollback"
    assert endings(app, read) == [expected]


def test_reads_after_a_commit_end_alike(app, workshop_id):
    def write_then_read() -> None:
        db.session.get(Workshop, workshop_id).title = "After"
        db.session.commit()
        db.session.scalar(sa.select(Workshop.title))

    expected = "commit" if db.engine.dialect.name == "postgresql" else "rollback"
    assert endings(app, write_then_read) == ["commit", expected]
    assert title_of(workshop_id) == "After"


@pytest.mark.parametrize("how", ["flushed", "pending", "statement", "queued", "queued, written",
                                 "announced"])
def test_a_transaction_that_wrote_is_rolled_back(app, workshop_id, how):
    """Whatever way a change was made and left uncommitted, it is not kept (nor announced)."""

    def write() -> None:
        if how == "flushed":
            db.session.get(Workshop, workshop_id).title = "Half-written"
            db.session.flush()
        elif how == "pending":
            db.session.get(Workshop, workshop_id).title = "Half-written"
        elif how == "statement":
            db.session.execute(sa.update(Workshop).where(Workshop.id == workshop_id)
                               .values(title="Half-written"))
        elif how == "announced":  # a broadcast queued for a change then given up
            db.session.scalar(sa.select(Workshop.id))
            queue(db.session, "workshop.renamed", {"title": "Half-written"}, "nowhere")
        else:  # a row that could be written (by COPY on PostgreSQL), queued and left
            db.session.scalar(sa.select(Workshop.id))
            insert_later(Organisation.__table__, {"name": "Half-written", "country": "Kenya",
                                                  "region": "east_africa", "type": "other"})
            if how == "queued, written":  # by the next statement, past the engine's events
                db.session.scalar(sa.select(Workshop.id))

    assert endings(app, write) == ["rollback"]
    assert title_of(workshop_id) == "Before"
    assert db.session.scalar(sa.select(Organisation.id).where(
        Organisation.name == "Half-written")) is None


def test_a_read_that_failed_is_rolled_back(app, workshop_id):
    def fail() -> None:
        db.session.scalar(sa.select(Workshop.title))
        raise RuntimeError("the request failed")

    assert endings(app, fail, fails=True) == ["rollback"]
    assert title_of(workshop_id) == "Before"


def test_objects_read_stay_readable_after_the_ending(app, workshop_id):
    """A streamed export goes on reading what its view loaded once the request's context
    has ended: the commit of a read expires nothing."""
    kept = []

    def read() -> None:
        kept.append(db.session.get(Workshop, workshop_id))

    endings(app, read)
    assert kept[0].title == "Before"
