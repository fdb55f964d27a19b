"""Rows inserted without the ORM (group_commit.insert_later): written when the ORM's own rows
would be flushed and after them, within the transaction, and gone with it when it does not
commit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import create_delegate, create_lines, create_workshop, open_test_ballot
from tests.voting.test_cast_sender import statements_during
from workshop.agenda.models import Delegate, Workshop
from workshop.audit.models import AuditEntry
from workshop.audit.services import record
from workshop.errors import ValidationFailed
from workshop.extensions import db
from workshop.group_commit import GroupCommit, among, insert_later
from workshop.proposals.models import Proposal
from workshop.voting.models import Participation


def entries(operation: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.operation == operation))


def test_a_queued_row_is_written_when_the_orm_would_flush(app):
    workshop = create_workshop()
    db.session.commit()
    record(None, "queued", workshop.id, n=1)
    with db.session.no_autoflush:
        assert entries("queued") == 0  # not yet: nor would the ORM's own rows be
    assert entries("queued") == 1  # a query flushes first
    db.session.commit()
    assert entries("queued") == 1


@pytest.mark.parametrize("written_at", ["a query", "the commit"])
def test_queued_rows_go_after_the_orm_rows_they_refer_to(app, written_at):
    """An entry about a workshop added in the same transaction, its id chosen and not yet
    flushed: whether a query or the commit writes them, the workshop goes in first
    (PostgreSQL checks the entry's key at once; on SQLite the statements' order is read)."""
    added = Workshop(id=4242, title="Added", kind="online", join_code="ADDED424",
                     projector_key="k" * 64)
    db.session.add(added)
    record(None, "about a new workshop", added.id)
    write = (lambda: entries("about a new workshop")) if written_at == "a query" \
        else db.session.commit
    seen, _ = statements_during(write)
    db.session.commit()
    assert entries("about a new workshop") == 1
    inserted = [sql.split()[2] for sql in seen if sql.startswith("INSERT")]
    if db.engine.dialect.name == "sqlite":  # (PostgreSQL's COPY is no statement seen here)
        assert inserted == ["workshop", "audit_entry"]


def test_a_transaction_that_does_not_commit_takes_its_queued_rows_with_it(app):
    workshop = create_workshop()
    db.session.commit()
    record(None, "rolled back", workshop.id)
    db.session.rollback()
    record(None, "closed", workshop.id)
    db.session.close()
    record(None, "kept", workshop.id)
    db.session.commit()
    assert (entries("rolled back"), entries("closed"), entries("kept")) == (0, 0, 1)


def test_rows_of_one_table_with_other_columns_go_in_together_with_their_defaults(app):
    """A named and a secret paper in one batch carry different columns: each goes in, and a
    column a row leaves out gets its default, as an INSERT would give it (also by COPY)."""
    workshop = create_workshop()
    create_lines(workshop, 2)
    ballot = open_test_ballot(workshop)
    amina, bongani = create_delegate(workshop).id, create_delegate(workshop).id
    ballot_id = ballot.id
    db.session.commit()  # (the ids read first: reading them now would write the first row)
    insert_later(Participation.__table__, {"ballot_id": ballot_id, "delegate_id": amina,
                                           "cast_by_id": amina})
    insert_later(Participation.__table__, {"ballot_id": ballot_id, "delegate_id": bongani,
                                           "source": "proxy", "cast_by_kind": "delegate",
                                           "cast_by_id": amina})
    db.session.commit()
    rows = {row.delegate_id: row for row in db.session.scalars(sa.select(Participation))}
    assert (rows[amina].source, rows[amina].cast_by_kind) == ("phone", "delegate")
    assert rows[bongani].source == "proxy"
    assert all(row.created_at is not None and row.id is not None for row in rows.values())


def test_rows_queued_before_a_batchs_savepoints_outlive_a_refused_write(app):
    """A group commit writes what was queued before each write's savepoint: a write that
    fails rolls back its own rows only."""
    workshop_id = create_workshop().id
    db.session.commit()
    group = GroupCommit(prepare=lambda works: record(None, "prepared", workshop_id))

    def refused() -> None:
        record(None, "refused", workshop_id)
        raise ValidationFailed("refused", field="refused")

    with pytest.raises(ValidationFailed):
        group.submit(refused)
    assert list(group.modes) == ["one by one"]
    db.session.remove()
    assert (entries("prepared"), entries("refused")) == (1, 0)


def test_a_batch_reads_among_ids_with_one_array_on_postgresql(app):
    """`among`: the rows whose column is among the values; on PostgreSQL as one array
    parameter (a statement psycopg converts once, whatever the batch's size), elsewhere as
    an IN list; no values, no rows."""
    workshop = create_workshop()
    delegates = [create_delegate(workshop) for _ in range(3)]
    db.session.commit()
    wanted = {delegates[0].id, delegates[2].id}
    query = sa.select(Delegate.id).where(among(Delegate.id, wanted))
    seen, found = statements_during(lambda: set(db.session.scalars(query)))
    assert found == wanted
    if db.engine.dialect.name == "postgresql":
        assert "delegate.id = ANY" in seen[-1]
        assert " IN " not in seen[-1]
    else:
        assert "delegate.id IN" in seen[-1]
    assert db.session.scalars(sa.select(Delegate.id).where(among(Delegate.id, []))).all() == []
    names = {delegates[1].name}
    assert db.session.scalars(sa.select(Delegate.id).where(
        among(Delegate.name, names))).all() == [delegates[1].id]  # text too


def test_queued_rows_of_a_numbered_model_learn_their_ids(app):
    """A new line's row queued without an id has one once written (drawn from the sequence
    first on PostgreSQL, returned by the database elsewhere): the id its row is stored under,
    never one the ORM's rows written beside it get."""
    workshop = create_workshop()
    db.session.commit()
    rows = [{"workshop_id": workshop.id, "title": f"Queued {n}", "theme": "decent_work",
             "level": "national", "language": "en"} for n in range(3)]
    for row in rows:
        insert_later(Proposal.__table__, row)
    db.session.add_all([Proposal(workshop_id=workshop.id, title=f"Added {n}",
                                 theme="decent_work", level="national", language="en")
                        for n in range(2)])
    db.session.commit()
    stored = dict(db.session.execute(sa.select(Proposal.title, Proposal.id)
                                     .where(Proposal.workshop_id == workshop.id)).all())
    assert {row["title"]: row["id"] for row in rows} == {
        title: row_id for title, row_id in stored.items() if title.startswith("Queued")}
    assert len(set(stored.values())) == 5
