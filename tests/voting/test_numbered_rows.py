"""A batch's new lines of work are numbered from their sequence before the flush on
PostgreSQL (group_commit.number_new_rows): their INSERT then needs no RETURNING, so psycopg
sends one short statement per row in its pipeline rather than converting a multi-row one.
A batch of casts inserts its papers and participations without the ORM (insert_later), one
statement per table (executed for each row, or a COPY on PostgreSQL)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tests.helpers import create_workshop
from tests.voting import test_group_commit
from tests.voting.test_cast_sender import statements_during
from tests.voting.test_group_commit import SECRET_A, Callers, casting_as
from workshop.extensions import db
from workshop.proposals.models import Proposal
from workshop.voting import casting
from workshop.voting.models import Participation, Vote

#: These tests' app: on a database file that several threads share (a batch runs in its own).
app = test_group_commit.app
room = test_group_commit.room


def flushed_together(rows: list[Any]) -> list[str]:
    """Add `rows` and flush them together: the statements the flush sent (then committed)."""
    db.session.add_all(rows)
    seen, _ = statements_during(db.session.flush)
    db.session.commit()
    return seen


def lines(count: int) -> tuple[list[Proposal], list[str]]:
    """`count` new lines of work flushed together, and the statements the flush sent."""
    workshop = create_workshop()
    db.session.commit()
    rows = [Proposal(workshop_id=workshop.id, title=f"Line {n}", theme="decent_work",
                     level="national", language="en") for n in range(count)]
    return rows, flushed_together(rows)


def inserts(seen: list[str]) -> list[str]:
    return [sql for sql in seen if sql.startswith("INSERT INTO proposal")]


def test_many_new_lines_are_numbered_first_on_postgresql(app):
    rows, seen = lines(5)
    ids = [row.id for row in rows]
    assert len(set(ids)) == 5
    stored = db.session.scalars(sa.select(Proposal.id)).all()
    assert sorted(stored) == sorted(ids)
    numbered = [sql for sql in seen if "nextval" in sql]
    assert inserts(seen)
    if db.engine.dialect.name == "postgresql":
        assert len(numbered) == 1  # one query for the five ids
        assert not any("RETURNING" in sql for sql in inserts(seen))
        assert all(sql.count("VALUES") == 1 and sql.count("%(") <= 20 for sql in inserts(seen))
    else:
        assert numbered == []  # SQLite's inserts are left as they were


def test_a_single_line_is_left_to_the_database(app):
    rows, seen = lines(1)
    assert [sql for sql in seen if "nextval" in sql] == []
    assert rows[0].id is not None
    assert len(inserts(seen)) == 1


def test_numbered_rows_follow_the_sequence(app):
    """Rows numbered first and rows the database numbers never share an id."""
    first, _ = lines(3)
    (single,), _ = lines(1)
    later, _ = lines(3)
    ids = [row.id for row in [*first, single, *later]]
    assert len(set(ids)) == len(ids)
    assert max(row.id for row in first) < single.id < min(row.id for row in later)


def test_a_batch_of_casts_inserts_its_papers_without_the_orm(app, room):
    """The papers' ids are drawn when they are made, the participations' left to the database
    (nothing read back): a batch of casts sends each table's rows in one statement, executed
    for each row on SQLite, a COPY on PostgreSQL (which SQLAlchemy's events do not see), and
    no ORM object is made for them."""
    _workshop_id, ballot_id, lines, people = room
    seen: list[tuple[bool, str]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT"):
            seen.append((executemany, statement))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        callers = Callers(app, casting.casts())
        for n, person in enumerate(people):
            callers.add(f"cast {n}", casting_as(person, ballot_id, lines[:1], SECRET_A))
        outcomes = callers.finish()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert all(not isinstance(outcomes[f"cast {n}"], Exception) for n in range(len(people)))
    for table, model in (("ballot_vote", Vote), ("ballot_participation", Participation)):
        rows = [(many, sql) for many, sql in seen if sql.startswith(f"INSERT INTO {table}")]
        if db.engine.dialect.name == "postgresql":
            assert rows == [], table
        else:
            assert len(rows) == 1, table
            assert rows[0][0] is True  # one statement, executed for each row
        stored = db.session.scalar(sa.select(sa.func.count()).select_from(model)
                                   .where(model.ballot_id == ballot_id))
        assert stored == len(people), table
