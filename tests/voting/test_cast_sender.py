"""A phone's vote is checked where it is written: the socket event reads nothing before the
group commit, whose transaction checks the sender's login and right to vote (see
casting.cast_sent_vote and sockets.operation's `checked_in_batch`)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.agenda.test_events import connect, staff_and_phone
from tests.helpers import (
    create_lines,
    create_organisation,
    create_workshop,
    join,
    open_test_ballot,
    reads_among,
    refused_once_logins_ended_elsewhere,
    statements_during,
)
from workshop.agenda.models import Delegate
from workshop.auth.logins import holds_login, start_login
from workshop.auth.models import LoginSession
from workshop.extensions import db
from workshop.voting.casting import casts
from workshop.voting.models import Participation, Vote


@pytest.fixture
def phone(app, client):
    """A delegate's socket on an open approval ballot: (socket, payload, delegate id)."""
    workshop = create_workshop(steps=3)
    lines = create_lines(workshop, 3)
    ballot = open_test_ballot(workshop)
    join(client, workshop, create_organisation(), name="Thandiwe")
    sock = connect(app, client, workshop)
    delegate_id = db.session.scalar(sa.select(Delegate.id).where(Delegate.name == "Thandiwe"))
    payload = {"workshop_id": workshop.id, "ballot_id": ballot.id, "choices": [lines[0].id]}
    return sock, payload, delegate_id


def stored(delegate_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Participation).where(
        Participation.delegate_id == delegate_id))


def test_a_vote_reads_its_login_once_in_its_batch_and_never_by_token(phone):
    sock, payload, delegate_id = phone
    seen, ack = statements_during(lambda: sock.emit("ballot.cast", payload, callback=True))
    assert ack["ok"] is True, ack
    assert stored(delegate_id) == 1
    by_token = [s for s in seen if "WHERE login_session.token_hash" in s]
    assert by_token == []  # the login loader (by token) was not run for the event
    by_id = [s for s in seen if "FROM login_session" in s]
    assert len(by_id) == 1  # the batch's one query for its logins
    assert reads_among(by_id[0], "login_session.id")


def test_a_vote_after_the_login_ended_elsewhere_is_refused_and_stores_nothing(phone):
    """Ended where this process could not close the socket (another server process): the
    batch finds no login, refuses the vote and the socket is closed."""
    sock, payload, delegate_id = phone
    refused_once_logins_ended_elsewhere(sock, "ballot.cast", payload)
    assert stored(delegate_id) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0


def test_a_delegate_taken_off_the_register_after_connecting_cannot_vote(phone):
    sock, payload, delegate_id = phone
    delegate = db.session.get(Delegate, delegate_id)
    delegate.workshop.voting_register = True
    delegate.admitted_at = None  # never admitted
    db.session.commit()
    ack = sock.emit("ballot.cast", payload, callback=True)
    assert ack["ok"] is False
    assert ack["error"] == "forbidden"
    assert "register" in ack["message"]
    assert stored(delegate_id) == 0
    assert sock.is_connected()  # refused, not logged out


def test_a_vote_for_a_workshop_other_than_the_sockets_is_refused_by_name(phone):
    sock, payload, delegate_id = phone
    ack = sock.emit("ballot.cast", {**payload, "workshop_id": payload["workshop_id"] + 1},
                    callback=True)
    assert ack["ok"] is False
    assert ack["error"] == "validation"
    assert "workshop_id" in ack["fields"]
    assert stored(delegate_id) == 0


def test_a_login_counts_only_for_the_person_it_belongs_to(app):
    workshop = create_workshop()
    org = create_organisation()
    amina = Delegate(workshop_id=workshop.id, organisation_id=org.id, name="Amina")
    rosa = Delegate(workshop_id=workshop.id, organisation_id=org.id, name="Rosa")
    db.session.add_all([amina, rosa])
    db.session.commit()
    start_login(amina)
    assert holds_login(amina, amina.login_session_id) is True
    assert holds_login(rosa, amina.login_session_id) is False
    db.session.execute(sa.delete(LoginSession))
    db.session.commit()
    assert holds_login(amina, amina.login_session_id) is False


def test_a_staff_socket_cannot_cast_and_the_batch_is_not_disturbed(app, client, phone):
    """Only delegates vote: a facilitator's socket is refused before any batch."""
    _sock, payload, delegate_id = phone
    workshop, staff, _other_phone = staff_and_phone(app)
    before = len(casts().batches)
    ack = staff.emit("ballot.cast", {**payload, "workshop_id": workshop.id}, callback=True)
    assert ack["ok"] is False
    assert ack["error"] == "forbidden"
    assert len(casts().batches) == before  # refused before the group commit
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0
