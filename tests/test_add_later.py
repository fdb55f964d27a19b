"""Changes a transaction adds up (group_commit.add_later): applied to their row once, before
the next flush (a query, a commit, a savepoint and its release), and gone with a transaction
or savepoint that ends without them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tests.helpers import create_workshop
from workshop.agenda.models import Workshop
from workshop.extensions import db
from workshop.group_commit import GroupCommit, _unwritten, _Write, add_later, end_reads, flush_all


def _stored_title(workshop_id: int) -> str:
    """The title as the database holds it (a Core read: no object of the session's)."""
    return db.session.execute(sa.select(Workshop.__table__.c.title)
                              .where(Workshop.__table__.c.id == workshop_id)).scalar_one()


def _add_word(workshop: Workshop, word: str) -> list[str]:
    """Queue `word` for the workshop's title, as a batch's writes add to a running total."""
    words = add_later(("title", workshop.id),
                      lambda added: setattr(workshop, "title",
                                            " ".join([workshop.title, *added])),
                      list)
    words.append(word)
    return words


def _workshop() -> Workshop:
    workshop = create_workshop()
    workshop.title = "Plan"
    db.session.commit()
    return workshop


def test_what_a_transaction_adds_up_is_applied_once_before_a_query(app):
    workshop = _workshop()
    assert workshop.title == "Plan"  # read again after the commit, before anything is added
    applied: list[Any] = []
    for word in ("for", "the", "region"):
        add_later("count", applied.append, list).append(word)
        _add_word(workshop, word)
    assert applied == []  # nothing applied while the writes add up
    assert any(_unwritten(db.session()))  # but counted as written later
    assert _stored_title(workshop.id) == "Plan for the region"  # the query flushed first
    assert applied == [["for", "the", "region"]]  # once, with everything added
    db.session.commit()
    assert _stored_title(workshop.id) == "Plan for the region"
    assert applied == [["for", "the", "region"]]


def test_what_is_added_up_is_applied_at_the_commit(app):
    workshop = _workshop()
    _add_word(workshop, "ahead")
    db.session.commit()
    assert _stored_title(workshop.id) == "Plan ahead"


def test_a_flush_of_the_orms_own_changes_applies_it_too(app):
    workshop = _workshop()
    other = create_workshop()
    db.session.commit()
    _add_word(workshop, "ahead")
    other.title = "Changed"
    db.session.flush()  # the ORM has a change of its own: its flush takes ours along
    assert workshop.title == "Plan ahead"
    db.session.rollback()


def test_a_rolled_back_transaction_takes_what_it_added_with_it(app):
    workshop = _workshop()
    _add_word(workshop, "lost")
    db.session.rollback()
    db.session.commit()
    assert _stored_title(workshop.id) == "Plan"
    _add_word(workshop, "kept")  # a new transaction starts from nothing added
    db.session.commit()
    assert _stored_title(workshop.id) == "Plan kept"


def test_a_rolled_back_savepoint_takes_only_what_it_added(app):
    """What was added before the savepoint, applied as a group commit does before each
    write's savepoint, outlives it; what was added inside it goes with it."""
    workshop = _workshop()
    _add_word(workshop, "before")
    flush_all(db.session())
    savepoint = db.session.begin_nested()
    _add_word(workshop, "inside")
    savepoint.rollback()
    db.session.commit()
    assert _stored_title(workshop.id) == "Plan before"


def test_a_released_savepoint_applies_what_it_added(app):
    workshop = _workshop()
    with db.session.begin_nested():
        _add_word(workshop, "inside")
    _add_word(workshop, "after")
    db.session.commit()
    assert _stored_title(workshop.id) == "Plan inside after"


def test_reads_with_something_added_up_are_not_ended_as_reads(app):
    """end_reads commits a transaction that only read (PostgreSQL): one that added up a
    change is not such a transaction, and what it added is not stored by it."""
    workshop = _workshop()
    _add_word(workshop, "unasked")
    assert end_reads(db.session()) is False
    db.session.rollback()
    assert _stored_title(workshop.id) == "Plan"


def test_a_refused_write_that_added_something_runs_the_batch_one_by_one(app):
    """A refusal must leave nothing behind for the batch to run all at once: one that added
    to a total has, so the batch runs again, each write in its savepoint, and the refused
    write's addition is not stored."""
    workshop_id = _workshop().id
    db.session.remove()

    class Refused(Exception):
        pass

    def add(word: str, refuse: bool = False):
        def work() -> str:
            _add_word(db.session.get(Workshop, workshop_id), word)
            if refuse:
                raise Refused(word)
            return word
        return work

    group = GroupCommit(refusals=(Refused,))
    with app.app_context():
        batch = [_Write(add("one")), _Write(add("refused", refuse=True)), _Write(add("two"))]
        group._leading = True
        group._run(batch)
    assert [write.error is None for write in batch] == [True, False, True]
    assert list(group.modes) == ["one by one"]
    assert _stored_title(workshop_id) == "Plan one two"


def test_an_accumulator_whose_start_reads_the_database_is_kept(app):
    """`start` may query (or read an expired row): that applies what was pending, and the
    new accumulator must still be the one the transaction applies and counts."""
    workshop = _workshop()
    _add_word(workshop, "first")
    other = create_workshop()
    db.session.commit()
    other_id = other.id
    applied: list[Any] = []

    def start() -> list:
        _stored_title(other_id)  # a query: flushes, applies "first"
        return []

    add_later("read while starting", applied.append, start).append("kept")
    assert any(_unwritten(db.session()))
    db.session.commit()
    assert applied == [["kept"]]
    assert _stored_title(workshop.id) == "Plan first"
