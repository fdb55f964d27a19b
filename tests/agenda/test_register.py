"""The voting register: only admitted delegates vote and count as eligible; others may follow
and, if the workshop allows, propose and discuss."""

from __future__ import annotations

import pytest

from tests.helpers import (
    cast_vote,
    create_delegate,
    create_lines,
    create_organisation,
    create_proposal,
    create_user,
    create_workshop,
    invite,
    login,
    open_test_ballot,
)
from workshop.agenda.delegates import admit_delegate, waiting_for_admission
from workshop.agenda.schemas import AdmitIn
from workshop.errors import PermissionDenied
from workshop.extensions import db, socketio
from workshop.voting import services as voting


@pytest.fixture
def organiser(app):
    return create_user("organiser")


@pytest.fixture
def workshop(organiser):
    workshop = create_workshop(organiser, steps=4)
    workshop.voting_register = True
    db.session.commit()
    return workshop


def admit(organiser, workshop, delegate, admitted=True):
    return admit_delegate(organiser, workshop, AdmitIn(workshop_id=workshop.id,
                                                       delegate_id=delegate.id,
                                                       admitted=admitted))


def test_a_join_by_code_does_not_vote_until_checked_in(workshop, organiser):
    create_lines(workshop, 3)
    ballot = open_test_ballot(workshop)
    walk_in = create_delegate(workshop)
    with pytest.raises(PermissionDenied, match="voting register"):
        cast_vote(walk_in, ballot, [ballot.option_ids[0]])
    assert voting.turnout(ballot)["eligible"] == 0
    admit(organiser, workshop, walk_in)
    assert voting.turnout(ballot)["eligible"] == 1
    cast_vote(walk_in, ballot, [ballot.option_ids[0]])
    assert voting.turnout(ballot)["voted"] == 1


def test_an_invitation_admits(workshop, organiser):
    create_lines(workshop, 2)
    ballot = open_test_ballot(workshop)
    invited, _token = invite(workshop, organiser)
    invited.joined_at = invited.invited_at
    db.session.commit()
    assert invited.admitted
    cast_vote(invited, ballot, [ballot.option_ids[0]])


def test_rejected_and_unregistered_delegates(workshop, organiser):
    create_lines(workshop, 2)
    ballot = open_test_ballot(workshop)
    first = create_delegate(workshop, name="Amina")
    second = create_delegate(workshop, organisation=first.organisation, name="amina ")
    waiting = waiting_for_admission(organiser, workshop)
    assert [(d.id, twin) for d, twin in waiting] == [(second.id, True), (first.id, True)]
    admit(organiser, workshop, first)
    admit(organiser, workshop, second, admitted=False)
    assert waiting_for_admission(organiser, workshop) == []
    with pytest.raises(PermissionDenied):
        cast_vote(second, ballot, [ballot.option_ids[0]])
    assert voting.turnout(ballot)["eligible"] == 1


def test_participation_of_unadmitted_delegates_follows_the_setting(workshop, organiser):
    walk_in = create_delegate(workshop)
    workshop.open_participation = False
    db.session.commit()
    with pytest.raises(PermissionDenied):
        create_proposal(workshop, walk_in)
    workshop.open_participation = True
    db.session.commit()
    assert create_proposal(workshop, walk_in).id


def test_without_a_register_everyone_who_joined_votes(organiser):
    workshop = create_workshop(organiser)
    create_lines(workshop, 2)
    ballot = open_test_ballot(workshop)
    cast_vote(create_delegate(workshop), ballot, [ballot.option_ids[0]])
    assert voting.turnout(ballot)["eligible"] == 1


def test_only_facilitators_admit(workshop, organiser):
    delegate = create_delegate(workshop)
    with pytest.raises(PermissionDenied):
        admit(delegate, workshop, delegate)
    with pytest.raises(PermissionDenied):
        admit(create_user("facilitator"), workshop, delegate)


def test_console_lists_and_admits_over_the_socket(app, client, workshop, organiser):
    org = create_organisation(region="asia", country="Nepal")
    walk_in = create_delegate(workshop, organisation=org, name="Sita")
    login(client, organiser)
    page = client.get(f"/w/{workshop.id}/console").text
    assert "Waiting to be checked in" in page
    assert "Sita" in page
    from tests.helpers import csrf_from

    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"workshop": workshop.id, "csrf": csrf_from(page)})
    ack = sock.emit("delegate.admit", {"workshop_id": workshop.id, "delegate_id": walk_in.id},
                    callback=True)
    assert ack == {"ok": True, "delegate_id": walk_in.id, "admitted": True}
    bad = sock.emit("delegate.admit", {"workshop_id": workshop.id, "delegate_id": 999999},
                    callback=True)
    assert bad["ok"] is False
    assert "delegate_id" in bad["fields"]
    db.session.refresh(walk_in)
    assert walk_in.admitted
