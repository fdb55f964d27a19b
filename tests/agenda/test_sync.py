"""`state.sync` in groups: the sockets that ask together share one read of their logins,
delegates and workshops, and each is still checked as a lone read was (agenda/sync.py)."""

from __future__ import annotations

import sqlalchemy as sa

from tests.agenda.test_events import staff_and_phone
from tests.helpers import (
    create_delegate,
    create_organisation,
    create_user,
    create_workshop,
    go_to_kind,
    refused_once_logins_ended_elsewhere,
)
from tests.voting.test_cast_sender import statements_during
from tests.voting.test_group_commit import Callers
from workshop.agenda.models import Workshop
from workshop.agenda.sync import sync_state, syncs
from workshop.auth.logins import Sender, start_login
from workshop.auth.models import LoginSession
from workshop.errors import NotFound, NotLoggedIn, PermissionDenied
from workshop.extensions import db
from workshop.sockets import projector_pass


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
    phones = [sender_of(create_delegate(workshop, org)) for _ in range(3)]
    staff = sender_of(create_user("organiser"))
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
        for n, sender in enumerate([*phones, staff]):
            callers.add(f"sync {n}", lambda s=sender: sync_state(s, None, wid))
        callers.add("projector", lambda: sync_state(None, screen, wid))
        outcomes = callers.finish()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", read)
    assert list(group.batches)[-2:] == [1, 5]
    answers = [outcome for name, outcome in outcomes.items() if name != "leader"]
    assert all(answer["state"]["workshop_id"] == wid for answer in answers), answers
    assert {answer["state"]["version"] for answer in answers} == {version(wid)}
    assert sum("FROM login_session" in sql for sql in reads) == 1
    assert sum("WHERE delegate.id IN" in sql for sql in reads) == 1
    assert sum("FROM workshop" in sql for sql in reads) == 1
    assert not any("WHERE login_session.token_hash" in sql for sql in reads)  # none by token


def test_every_answer_comes_from_a_read_begun_after_its_request(app):
    """A change committed while a batch runs, before a request arrives, is in its answer."""
    workshop = create_workshop(steps=3)
    phone = sender_of(create_delegate(workshop))
    wid = workshop.id
    db.session.commit()
    callers = Callers(app, syncs())  # a batch is running now
    callers.add("before", lambda: sync_state(phone, None, wid))
    go_to_kind(db.session.get(Workshop, wid), "propose")  # committed while it runs
    db.session.commit()
    changed = version(wid)
    callers.add("after", lambda: sync_state(phone, None, wid))
    outcomes = callers.finish()
    assert outcomes["after"]["state"]["version"] == changed
    assert outcomes["before"]["state"]["version"] == changed  # read with the batch, after


def test_each_request_in_a_batch_is_refused_for_its_own_reason(app):
    workshop = create_workshop()
    other = create_workshop()
    org = create_organisation()
    phone = sender_of(create_delegate(workshop, org))
    ended = sender_of(create_delegate(workshop, org))
    stranger = sender_of(create_delegate(other, org))
    outsider = sender_of(create_user("facilitator"))  # not assigned to this workshop
    old_screen = projector_pass(workshop.projector_key)
    wid, gone = workshop.id, other.id
    db.session.execute(sa.delete(LoginSession).where(
        LoginSession.id == ended.login_session_id))
    db.session.execute(sa.update(Workshop).where(Workshop.id == wid).values(
        projector_key="a-new-key-for-this-workshop"))
    db.session.commit()
    callers = Callers(app, syncs())
    callers.add("phone", lambda: sync_state(phone, None, wid))
    callers.add("ended", lambda: sync_state(ended, None, wid))
    callers.add("stranger", lambda: sync_state(stranger, None, wid))
    callers.add("outsider", lambda: sync_state(outsider, None, wid))
    callers.add("old screen", lambda: sync_state(None, old_screen, wid))
    callers.add("nobody", lambda: sync_state(None, None, wid))
    callers.add("no workshop", lambda: sync_state(phone, None, gone + 1000))
    outcomes = callers.finish()
    assert outcomes["phone"]["state"]["workshop_id"] == wid
    assert isinstance(outcomes["ended"], NotLoggedIn)
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
    try:
        sync_state(Sender("delegate", their_id, mine.login_session_id), None, wid)
    except NotLoggedIn:
        pass
    else:
        raise AssertionError("a login was taken for another person's")


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
