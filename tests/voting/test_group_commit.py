"""Group commit: casts that arrive together share one transaction; each caller gets its own
answer only after the commit; a refused cast undoes only its own rows; a failed commit stores
nothing and tells every caller.

Real threads on a real database file (SQLite) or PostgreSQL: the in-memory database of the
other tests is one connection, shared by every thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import IntegrityError

from config import TestConfig
from tests.conftest import app_for
from tests.helpers import (
    create_delegate,
    create_lines,
    create_organisation,
    create_workshop,
    open_test_ballot,
)
from workshop.agenda.models import Delegate, Workshop
from workshop.audit.models import AuditEntry
from workshop.errors import ValidationFailed
from workshop.extensions import db
from workshop.group_commit import GroupCommit, end_callers_reads, insert_later
from workshop.validation import parse
from workshop.voting import casting
from workshop.voting.models import Participation, RegionTally, Vote
from workshop.voting.schemas import CastIn

SECRET_A, SECRET_B = "a" * 32, "b" * 32
WAIT = 10.0


@pytest.fixture
def app(tmp_path, monkeypatch) -> Iterator[Flask]:
    """An app on a database several threads can share (a file, unless PostgreSQL is set)."""
    class FileConfig(TestConfig):
        if TestConfig.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'group.db'}"

    with app_for(FileConfig, monkeypatch) as app:
        yield app


def queued(group: GroupCommit) -> int:
    with group._lock:
        return len(group._queue)


def wait_until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


class Callers:
    """Threads that submit writes one after the other while a first write holds the lead, so
    the writes queued behind it form the next batch, in the order they were started."""

    def __init__(self, app: Flask, group: GroupCommit) -> None:
        self.app, self.group = app, group
        self.outcomes: dict[str, Any] = {}
        self.release = threading.Event()
        self.holding = threading.Event()
        self.threads: list[threading.Thread] = []
        self._start("leader", lambda: group.submit(self._hold))
        assert self.holding.wait(WAIT)  # the leader's batch is running: the queue is empty

    def _hold(self) -> str:
        self.holding.set()
        assert self.release.wait(WAIT)
        return "held"

    def _start(self, name: str, call: Callable[[], Any]) -> None:
        def run() -> None:
            with self.app.app_context():
                try:
                    self.outcomes[name] = call()
                except Exception as exc:  # noqa: BLE001  (the outcome under test)
                    self.outcomes[name] = exc
                finally:
                    db.session.remove()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.threads.append(thread)

    def add(self, name: str, call: Callable[[], Any]) -> None:
        before = queued(self.group)
        self._start(name, call)
        wait_until(lambda: queued(self.group) == before + 1)

    def finish(self) -> dict[str, Any]:
        self.release.set()
        for thread in self.threads:
            thread.join(WAIT)
            assert not thread.is_alive()
        return self.outcomes


@pytest.fixture
def room(app):
    workshop = create_workshop()
    lines = [line.id for line in create_lines(workshop, 3)]
    west = create_organisation(region="west_africa")
    asia = create_organisation(region="asia", country="India")
    people = [create_delegate(workshop, west).id, create_delegate(workshop, west).id,
              create_delegate(workshop, asia).id]
    ballot = open_test_ballot(workshop, "ranking", secret=True)
    db.session.commit()
    return workshop.id, ballot.id, lines, people


def adding(group: GroupCommit, name: str, row: Callable[[], Any]) -> Callable[[], Any]:
    """A caller whose write adds the row `row()` makes and answers `name`."""
    def work() -> str:
        db.session.add(row())
        return name
    return lambda: group.submit(work)


def casting_as(delegate_id: int, ballot_id: int, choices: list, secret: str | None
               ) -> Callable:
    """A cast as the phone's handler makes it: in its own session, through the service."""
    def call() -> Any:
        delegate = db.session.get(Delegate, delegate_id)
        workshop = db.session.get(Workshop, delegate.workshop_id)
        return casting.cast_vote(delegate, workshop, parse(CastIn, {
            "workshop_id": workshop.id, "ballot_id": ballot_id, "choices": choices,
            "secret": secret}))
    return call


def test_casts_queued_together_are_one_batch_and_each_gets_its_own_answer(app, room):
    _workshop_id, ballot_id, lines, (amina, bongani, chitra) = room
    group = casting.casts()
    tally_reads: list[str] = []
    participation_reads: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute",
                    lambda conn, cursor, sql, *args: tally_reads.append(sql)
                    if sql.lstrip().startswith("SELECT") and "ballot_region_tally" in sql
                    else None)
    sa.event.listen(db.engine, "before_cursor_execute",
                    lambda conn, cursor, sql, *args: participation_reads.append(sql)
                    if sql.lstrip().startswith("SELECT ballot_participation.id")
                    else None)
    callers = Callers(app, group)
    callers.add("amina", casting_as(amina, ballot_id, lines, SECRET_A))
    callers.add("bongani", casting_as(bongani, ballot_id, lines[::-1], SECRET_B))
    callers.add("amina again", casting_as(amina, ballot_id, lines[:1], SECRET_B))
    callers.add("chitra", casting_as(chitra, ballot_id, [lines[0], lines[0]], SECRET_A))
    outcomes = callers.finish()

    assert list(group.batches) == [1, 4]
    # The batch of casts ran all at once (the refusals changed nothing), reading the voters'
    # participations in one query rather than one per cast.
    assert list(group.modes) == ["at once", "at once"]
    assert len(participation_reads) == 1
    assert outcomes["amina"].ballot_id == ballot_id
    assert not outcomes["amina"].changed
    assert outcomes["bongani"].receipt != outcomes["amina"].receipt
    # The same delegate's second phone is refused, in the batch that stored her first paper.
    assert isinstance(outcomes["amina again"], casting.VotedElsewhere)
    assert isinstance(outcomes["chitra"], ValidationFailed)
    assert "choices" in outcomes["chitra"].fields
    db.session.expire_all()
    papers = list(db.session.scalars(sa.select(Vote).where(Vote.ballot_id == ballot_id)))
    assert sorted(p.choices for p in papers) == sorted([lines, lines[::-1]])
    assert db.session.scalar(sa.select(sa.func.count(Participation.id))) == 2
    # The batch locked the ballot's running totals once and added both papers to them.
    assert len(tally_reads) == 1
    totals = {t.region: t.voters for t in db.session.scalars(sa.select(RegionTally))}
    assert totals == {"west_africa": 2}


def test_a_batch_of_first_casts_reads_no_paper(app, room):
    """Voters who have not taken part have no paper (a paper is written with its voter's
    participation): the batch does not look for theirs. Bongani's second paper, in the next
    batch, is looked for (and found, and changed)."""
    _workshop_id, ballot_id, lines, (_amina, bongani, chitra) = room
    group = casting.casts()
    paper_reads: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute",
                    lambda conn, cursor, sql, *args: paper_reads.append(sql)
                    if sql.lstrip().startswith("SELECT") and "FROM ballot_vote" in sql else None)
    callers = Callers(app, group)
    callers.add("bongani", casting_as(bongani, ballot_id, lines, SECRET_B))
    callers.add("chitra", casting_as(chitra, ballot_id, lines[::-1], SECRET_A))
    outcomes = callers.finish()
    assert not isinstance(outcomes["bongani"], Exception)
    assert not isinstance(outcomes["chitra"], Exception)
    assert list(group.modes) == ["at once", "at once"]
    assert paper_reads == []
    with app.app_context():
        again = casting_as(bongani, ballot_id, lines[:1], SECRET_B)()
        assert again.changed
        assert len(paper_reads) == 1
        papers = db.session.scalars(sa.select(Vote.choices).where(Vote.ballot_id == ballot_id))
        assert sorted(papers) == sorted([lines[:1], lines[::-1]])


def cast_and_retry(app: Flask, ballot_id: int, lines: list[int], amina: int, bongani: int,
                   secrets: tuple[str | None, str | None]) -> GroupCommit:
    """Amina's paper (`lines`), Bongani's (reversed) and Amina's retry (the first two lines,
    her secret again) in one batch: it runs at once, and the retry changes her paper, whose
    receipt stays hers."""
    group = casting.casts()
    callers = Callers(app, group)
    callers.add("amina", casting_as(amina, ballot_id, lines, secrets[0]))
    callers.add("bongani", casting_as(bongani, ballot_id, lines[::-1], secrets[1]))
    callers.add("amina's retry", casting_as(amina, ballot_id, lines[:2], secrets[0]))
    outcomes = callers.finish()
    assert list(group.modes) == ["at once", "at once"]
    assert not outcomes["amina"].changed
    assert outcomes["amina's retry"].changed
    assert outcomes["amina's retry"].receipt == outcomes["amina"].receipt
    db.session.expire_all()
    return group


def test_a_retry_in_the_same_batch_counts_once(app, room):
    _workshop_id, ballot_id, lines, (amina, bongani, _chitra) = room
    group = cast_and_retry(app, ballot_id, lines, amina, bongani, (SECRET_A, SECRET_B))
    papers = list(db.session.scalars(sa.select(Vote).where(Vote.ballot_id == ballot_id)))
    assert sorted(p.choices for p in papers) == sorted([lines[:2], lines[::-1]])
    assert db.session.scalar(sa.select(sa.func.count(Participation.id))) == 2
    totals = {t.region: t.voters for t in db.session.scalars(sa.select(RegionTally))}
    assert totals == {"west_africa": 2}
    # In a later batch her paper and participation are found among those read for the batch.
    later = Callers(app, group)
    later.add("amina later", casting_as(amina, ballot_id, lines, SECRET_A))
    assert later.finish()["amina later"].changed
    assert list(group.modes)[-1] == "at once"
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 2


def add_flushed(row: dict[str, Any]) -> None:
    """A row written through the ORM, and flushed."""
    db.session.add(AuditEntry(**row))
    db.session.flush()


def add_later(row: dict[str, Any]) -> None:
    """A row queued for the batch's next statement or commit, no ORM object made."""
    insert_later(AuditEntry.__table__, row)


def test_a_named_papers_retry_in_the_same_batch_counts_once(app):
    """A named ballot's paper is found by its voter: the retry, in the batch that inserted the
    first paper, reads it back and changes it (one paper, one participation, its source)."""
    workshop = create_workshop()
    lines = [line.id for line in create_lines(workshop, 3)]
    amina, bongani = create_delegate(workshop).id, create_delegate(workshop).id
    ballot_id = open_test_ballot(workshop, "ranking").id
    db.session.commit()
    cast_and_retry(app, ballot_id, lines, amina, bongani, (None, None))
    papers = {p.delegate_id: p for p in db.session.scalars(
        sa.select(Vote).where(Vote.ballot_id == ballot_id))}
    assert {voter: p.choices for voter, p in papers.items()} == {
        amina: lines[:2], bongani: lines[::-1]}
    assert {p.source for p in papers.values()} == {"phone"}
    assert db.session.scalar(sa.select(sa.func.count(Participation.id))) == 2


@pytest.mark.parametrize("refusals", [(), (ValidationFailed,)], ids=["savepoints", "at once"])
@pytest.mark.parametrize("add", [add_flushed, add_later], ids=["flushed", "inserted later"])
def test_a_refused_write_undoes_only_its_own_rows(app, room, refusals, add):
    """Also when the batch is tried all at once: a refused write that had written a row, or
    queued one with `insert_later`, sends the batch back to one savepoint per write."""
    workshop_id = room[0]
    group = GroupCommit(refusals=refusals)

    def note(operation: str, fail: bool = False) -> Callable:
        def work() -> str:
            add({"workshop_id": workshop_id, "actor_kind": "system", "actor_name": "test",
                 "operation": operation, "details": {}})
            if fail:
                raise ValidationFailed("refused", field="refused")
            return operation
        return lambda: group.submit(work)

    callers = Callers(app, group)
    callers.add("kept", note("kept"))
    callers.add("refused", note("refused", fail=True))
    callers.add("also kept", note("also kept"))
    outcomes = callers.finish()
    assert list(group.batches) == [1, 3]
    if refusals:
        assert list(group.modes) == ["at once", "one by one"]
    assert (outcomes["kept"], outcomes["also kept"]) == ("kept", "also kept")
    assert isinstance(outcomes["refused"], ValidationFailed)
    db.session.expire_all()
    stored = set(db.session.scalars(sa.select(AuditEntry.operation).where(
        AuditEntry.operation.in_(["kept", "refused", "also kept"]))))
    assert stored == {"kept", "also kept"}


def test_a_failed_commit_stores_nothing_and_every_caller_hears_of_it(app, room):
    workshop_id = room[0]

    # The leader's batch commits; the next one, of two writes, fails; the one after commits.
    down = iter([False, True, False])

    def refuse(results: list) -> Callable[[], None]:
        if next(down):
            raise sa.exc.OperationalError("COMMIT", {}, Exception("the database went away"))
        return lambda: None

    group = GroupCommit(refuse)

    def note(operation: str) -> Callable:
        return adding(group, operation, lambda: AuditEntry(
            workshop_id=workshop_id, actor_kind="system", actor_name="test",
            operation=operation, details={}))

    callers = Callers(app, group)
    callers.add("first", note("first"))
    callers.add("second", note("second"))
    outcomes = callers.finish()
    assert isinstance(outcomes["first"], sa.exc.OperationalError)
    assert isinstance(outcomes["second"], sa.exc.OperationalError)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))
                             .where(AuditEntry.operation.in_(["first", "second"]))) == 0
    # The lead was handed back: the next write runs and commits.
    assert note("third")() == "third"


def test_a_write_that_met_a_racing_copy_is_tried_once_more(app, room):
    workshop_id = room[0]
    group = GroupCommit(retry_on=(IntegrityError,))
    attempts = []

    def work() -> str:
        attempts.append(1)
        db.session.add(AuditEntry(workshop_id=workshop_id, actor_kind="system",
                                  actor_name="test", operation="retried", details={}))
        db.session.flush()
        if len(attempts) == 1:
            raise IntegrityError("INSERT", {}, Exception("duplicate key"))
        return "stored"

    assert group.submit(work) == "stored"
    assert len(attempts) == 2
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))
                             .where(AuditEntry.operation == "retried")) == 1


@pytest.mark.parametrize("later", [False, True], ids=["flushed", "inserted later"])
def test_a_batch_whose_flush_fails_runs_again_one_write_at_a_time(app, room, later):
    """Two writes of one row that the database allows once: together their flush fails, so
    the batch runs again with a savepoint each; the first is stored, the second refused.
    The same with rows queued by `insert_later` (written at each savepoint's end)."""
    _workshop_id, ballot_id, _lines, (amina, _bongani, _chitra) = room
    group = GroupCommit(refusals=(ValidationFailed,))
    row = {"ballot_id": ballot_id, "delegate_id": amina, "source": "phone",
           "cast_by_kind": "delegate", "cast_by_id": amina}

    def participate(name: str) -> Callable:
        if not later:
            return adding(group, name, lambda: Participation(**row))

        def work() -> str:
            insert_later(Participation.__table__, dict(row))
            return name
        return lambda: group.submit(work)

    callers = Callers(app, group)
    callers.add("first", participate("first"))
    callers.add("second", participate("second"))
    outcomes = callers.finish()
    assert list(group.modes) == ["at once", "one by one"]
    assert outcomes["first"] == "first"
    assert isinstance(outcomes["second"], IntegrityError)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Participation.id))) == 1


def test_a_batch_that_submits_to_its_own_group_commit_is_told_not_left_waiting(app):
    """A write (or what runs after its commit) submitting to the group commit it runs in would
    wait for itself forever: it is refused at once."""
    group = GroupCommit()

    def nested() -> str:
        return group.submit(lambda: "inner")

    with pytest.raises(RuntimeError, match="submitted to itself"):
        group.submit(nested)
    assert group.submit(lambda: "after") == "after"  # the group commit still works


def test_the_callers_reads_end_before_it_waits_and_no_session_is_made_to_ask(app):
    with app.app_context():  # an event's context: nothing read yet
        end_callers_reads()
        assert not db.session.registry.has()
    with app.app_context():  # a caller that has read: its transaction ends
        db.session.scalar(sa.select(sa.func.count(Workshop.id)))
        assert db.session().in_transaction()
        end_callers_reads()
        assert not db.session().in_transaction()
