"""`state.sync` in groups: the sockets that ask together share one read of their logins,
delegates and workshops, and each is still checked as a lone read was (agenda/sync.py)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from tests.agenda.test_events import staff_and_phone
from tests.helpers import (
    create_delegate,
    create_lines,
    create_organisation,
    create_user,
    create_workshop,
    go_to_kind,
    open_test_ballot,
    reads_among,
    refused_once_logins_ended_elsewhere,
)
from tests.voting import test_group_commit
from tests.voting.test_cast_sender import statements_during
from tests.voting.test_group_commit import WAIT, Callers, queued, wait_until
from workshop.agenda.models import Workshop
from workshop.agenda.sync import Sync, sync, sync_state, syncs
from workshop.auth.logins import Sender, start_login
from workshop.auth.models import LoginSession, User
from workshop.errors import NotFound, NotLoggedIn, PermissionDenied
from workshop.extensions import db
from workshop.sockets import projector_pass
from workshop.voting.resync import BallotSync

#: These tests' app: on a database file that several threads share (SQLite's locks are real).
app = test_group_commit.app


def sender_of(person) -> Sender:
    """A sender as a socket records it at connect: its person and a fresh login."""
    start_login(person)
    return Sender(person.kind, person.id, person.login_session_id)


def version(workshop_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Workshop, workshop_id).state_version


def test_syncs_asked_together_share_one_read_and_are_each_answered(app):
    workshop = create_workshop(steps=2)
    org = create_organisation()
    phones = [sender_of(create_delegate(workshop, org)) for _ in range(2)]
    staff = sender_of(create_user("organiser"))
    facilitator = create_user("facilitator")
    workshop.facilitators.append(facilitator)
    assigned = sender_of(facilitator)
    screen = projector_pass(workshop.projector_key)
    wid = workshop.id
    db.session.commit()
    reads: list[str] = []

    def read(conn, cursor, sql, *args):
        if sql.lstrip().startswith("SELECT"):
            reads.append(sql)

    sa.event.listen(db.engine, "before_cursor_execute", read)
    try:
        group = syncs()
        callers = Callers(app, group)
        for n, sender in enumerate([*phones, staff, assigned]):
            callers.add(f"sync {n}", lambda s=sender: sync_state(s, None, wid))
        callers.add("projector", lambda: sync_state(None, screen, wid))
        outcomes = callers.finish()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", read)
    assert list(group.batches)[-2:] == [1, 5]
    answers = [outcome for name, outcome in outcomes.items() if name != "leader"]
    assert len(answers) == 5
    assert all(answer is answers[0] for answer in answers)  # drawn once, shared (read-only)
    assert all(answer["state"]["workshop_id"] == wid for answer in answers), answers
    assert {answer["state"]["version"] for answer in answers} == {version(wid)}
    assert sum("FROM login_session" in sql for sql in reads) == 1
    assert sum(reads_among(sql, "WHERE delegate.id") for sql in reads) == 1
    assert sum("FROM workshop" in sql for sql in reads) == 1
    assert not any("WHERE login_session.token_hash" in sql for sql in reads)  # none by token


@dataclass(frozen=True)
class _HeldSync(Sync):
    """A sync that, once its batch has read and answered it, waits before the batch ends."""

    reading: threading.Event | None = None
    release: threading.Event | None = None

    def __call__(self) -> dict:
        answer = super().__call__()
        self.reading.set()
        assert self.release.wait(WAIT)
        return answer


def test_a_request_made_while_a_batch_reads_is_answered_by_the_next_read(app):
    """A change committed while a batch runs, then a request: the request waits for the next
    batch and its answer has the change; the running batch's answer does not."""
    workshop = create_workshop(steps=3)
    phone = sender_of(create_delegate(workshop))
    wid = workshop.id
    db.session.commit()
    reading, release = threading.Event(), threading.Event()
    outcomes: dict[str, dict] = {}

    def run(name: str, call) -> None:
        with app.app_context():
            try:
                outcomes[name] = call()
            finally:
                db.session.remove()

    first = threading.Thread(target=run, args=("first", lambda: syncs().submit(
        _HeldSync(phone, None, wid, reading, release))))
    first.start()
    assert reading.wait(WAIT)  # its batch has read the workshop
    go_to_kind(db.session.get(Workshop, wid), "propose")
    db.session.commit()
    changed = version(wid)
    second = threading.Thread(target=run, args=("second", lambda: sync_state(phone, None, wid)))
    second.start()
    wait_until(lambda: queued(syncs()) == 1)
    release.set()
    for thread in (first, second):
        thread.join(WAIT)
    assert outcomes["first"]["state"]["version"] < changed
    assert outcomes["second"]["state"]["version"] == changed


def test_each_request_in_a_batch_is_refused_for_its_own_reason(app):
    workshop = create_workshop()
    other = create_workshop()
    org = create_organisation()
    phone = sender_of(create_delegate(workshop, org))
    ended = sender_of(create_delegate(workshop, org))
    stranger = sender_of(create_delegate(other, org))
    outsider = sender_of(create_user("facilitator"))  # not assigned to this workshop
    removed = sender_of(create_user("facilitator"))
    posing = Sender("user", outsider.id, phone.login_session_id)  # a delegate's login
    old_screen = projector_pass(workshop.projector_key)
    wid, gone = workshop.id, other.id
    db.session.execute(sa.delete(LoginSession).where(
        LoginSession.id == ended.login_session_id))
    db.session.execute(sa.delete(User).where(User.id == removed.id))
    db.session.execute(sa.update(Workshop).where(Workshop.id == wid).values(
        projector_key="a-new-key-for-this-workshop"))
    db.session.commit()
    callers = Callers(app, syncs())
    callers.add("phone", lambda: sync_state(phone, None, wid))
    callers.add("ended", lambda: sync_state(ended, None, wid))
    callers.add("stranger", lambda: sync_state(stranger, None, wid))
    callers.add("outsider", lambda: sync_state(outsider, None, wid))
    callers.add("removed", lambda: sync_state(removed, None, wid))
    callers.add("posing", lambda: sync_state(posing, None, wid))
    callers.add("old screen", lambda: sync_state(None, old_screen, wid))
    callers.add("nobody", lambda: sync_state(None, None, wid))
    callers.add("no workshop", lambda: sync_state(phone, None, gone + 1000))
    outcomes = callers.finish()
    assert outcomes["phone"]["state"]["workshop_id"] == wid
    for name in ("ended", "removed", "posing"):
        assert isinstance(outcomes[name], NotLoggedIn), (name, outcomes[name])
    for name in ("stranger", "outsider", "old screen", "nobody"):
        assert isinstance(outcomes[name], PermissionDenied), (name, outcomes[name])
    assert isinstance(outcomes["no workshop"], NotFound)


def test_a_login_counts_only_for_its_owner(app):
    """A sender naming someone else's open login is refused (the login is not theirs)."""
    workshop = create_workshop()
    org = create_organisation()
    mine = sender_of(create_delegate(workshop, org))
    theirs = create_delegate(workshop, org)
    wid, their_id = workshop.id, theirs.id
    db.session.commit()
    with pytest.raises(NotLoggedIn):
        sync_state(Sender("delegate", their_id, mine.login_session_id), None, wid)


def test_a_socket_asks_without_a_login_read_by_token(app):
    workshop, _staff, phone = staff_and_phone(app)
    wid = workshop.id
    db.session.commit()
    seen, ack = statements_during(lambda: phone.emit(
        "state.sync", {"workshop_id": wid}, callback=True))
    assert ack["ok"] is True, ack
    assert ack["state"]["workshop_id"] == wid
    assert not any("WHERE login_session.token_hash" in sql for sql in seen)
    assert sum("FROM login_session" in sql for sql in seen) == 1
    assert sum("FROM workshop" in sql for sql in seen) == 1


def test_a_socket_whose_login_ended_elsewhere_is_refused_and_closed(app):
    workshop, _staff, phone = staff_and_phone(app)
    refused_once_logins_ended_elsewhere(phone, "state.sync", {"workshop_id": workshop.id})


def test_a_failed_statement_spoils_no_other_request_of_its_batch(app):
    """On PostgreSQL an error ends the batch's transaction: the requests after it are read
    again in a new one (SQLite goes on regardless)."""
    workshop = create_workshop()
    phone = sender_of(create_delegate(workshop))
    wid = workshop.id
    db.session.commit()

    def broken() -> None:
        db.session.execute(sa.text("SELECT no_such_column FROM workshop"))

    callers = Callers(app, syncs())
    callers.add("broken", lambda: syncs().submit(broken))
    callers.add("after", lambda: sync_state(phone, None, wid))
    outcomes = callers.finish()
    assert isinstance(outcomes["broken"], sa.exc.DBAPIError)
    assert outcomes["after"]["state"]["workshop_id"] == wid


def test_a_group_read_waits_for_no_writer_on_sqlite(app):
    """A batch of reads does not begin as a writer: it answers while another connection
    holds SQLite's write lock (a group commit's batch of votes, say)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")
    workshop = create_workshop()
    phone = sender_of(create_delegate(workshop))
    wid = workshop.id
    db.session.commit()
    with db.engine.connect() as writer:
        writer.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            answer = sync_state(phone, None, wid)
        finally:
            writer.exec_driver_sql("ROLLBACK")
    assert answer["state"]["workshop_id"] == wid


# --- ballot.sync: a ballot's state and turnout, through the same group read ------------------


def test_ballot_syncs_asked_together_count_the_turnout_once(app):
    workshop = create_workshop()
    create_lines(workshop, 2)
    ballot = open_test_ballot(workshop)
    elsewhere = create_workshop()
    create_lines(elsewhere, 2)
    other = open_test_ballot(elsewhere)
    org = create_organisation()
    phones = [sender_of(create_delegate(workshop, org)) for _ in range(3)]
    wid, bid, foreign = workshop.id, ballot.id, other.id
    db.session.commit()
    counts: list[str] = []

    def read(conn, cursor, sql, *args):
        if sql.lstrip().startswith("SELECT") and "ballot_participation" in sql:
            counts.append(sql)

    single = BallotSync(phones[0], None, wid, bid)
    sa.event.listen(db.engine, "before_cursor_execute", read)
    try:
        sync(single)
        alone = len(counts)
        counts.clear()
        callers = Callers(app, syncs())
        for n, sender in enumerate(phones):
            callers.add(f"phone {n}", lambda s=sender: sync(BallotSync(s, None, wid, bid)))
        callers.add("foreign", lambda: sync(BallotSync(phones[0], None, wid, foreign)))
        outcomes = callers.finish()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", read)
    assert alone >= 1
    assert len(counts) == alone  # four requests, the turnout counted as for one
    answers = [outcomes[f"phone {n}"] for n in range(3)]
    assert all(a["ballot"]["ballot_id"] == bid for a in answers)
    assert all(a["turnout"]["ballot_id"] == bid for a in answers)
    assert isinstance(outcomes["foreign"], NotFound)  # a ballot of another workshop


def test_a_socket_asks_for_a_ballot_without_a_login_read_by_token(app):
    workshop, _staff, phone = staff_and_phone(app)
    create_lines(workshop, 2)
    ballot = open_test_ballot(workshop)
    payload = {"workshop_id": workshop.id, "ballot_id": ballot.id}
    db.session.commit()
    seen, ack = statements_during(lambda: phone.emit("ballot.sync", payload, callback=True))
    assert ack["ok"] is True, ack
    assert ack["ballot"]["ballot_id"] == payload["ballot_id"]
    assert "voted" in ack["turnout"]
    assert not any("WHERE login_session.token_hash" in sql for sql in seen)
    refused_once_logins_ended_elsewhere(phone, "ballot.sync", payload)
