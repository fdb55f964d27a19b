"""An action sent twice (a lost answer, a double tap, the phone's outbox) is stored once."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.helpers import create_delegate, create_proposal, create_user, create_workshop, go_to_kind
from tests.proposals.test_events import count, received
from tests.proposals.test_events import phones as phones  # noqa: PLC0414  (the fixture)
from workshop.audit.models import AuditEntry
from workshop.errors import Conflict, ValidationFailed
from workshop.extensions import db
from workshop.proposals import services
from workshop.proposals.models import Comment, Proposal
from workshop.proposals.schemas import ProposalIn
from workshop.validation import parse

KEY = "k3y-0f-0ne-act1on"


def idea(**extra) -> ProposalIn:
    return ProposalIn(title="Social protection floors", theme="health_protection",
                      level="national", **extra)


def audited(action: str) -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEntry.id))
                             .where(AuditEntry.operation == action))


@pytest.mark.usefixtures("app")
def test_the_same_key_twice_stores_one_proposal_and_says_so():
    workshop = create_workshop()
    go_to_kind(workshop, "propose")
    delegate = create_delegate(workshop)
    first = services.submit_proposal(delegate, workshop, idea(request_id=KEY))
    assert not first.replayed
    first_id = first.id
    again = services.submit_proposal(delegate, workshop, idea(request_id=KEY))
    assert again.id == first_id
    assert again.replayed
    assert count(Proposal) == 1
    assert audited("proposal.create") == 1
    other = services.submit_proposal(delegate, workshop, idea(request_id=KEY + "-2"))
    assert other.id != first.id


@pytest.mark.usefixtures("app")
def test_without_a_key_each_send_is_a_new_proposal():
    workshop = create_workshop()
    go_to_kind(workshop, "propose")
    delegate = create_delegate(workshop)
    services.submit_proposal(delegate, workshop, idea())
    services.submit_proposal(delegate, workshop, idea())
    assert count(Proposal) == 2


@pytest.mark.usefixtures("app")
def test_someone_elses_key_is_refused_and_names_the_field():
    workshop = create_workshop()
    go_to_kind(workshop, "propose")
    services.submit_proposal(create_delegate(workshop), workshop, idea(request_id=KEY))
    with pytest.raises(Conflict) as refused:
        services.submit_proposal(create_delegate(workshop), workshop, idea(request_id=KEY))
    assert "request_id" in refused.value.fields
    assert count(Proposal) == 1


@pytest.mark.usefixtures("app")
def test_a_comment_sent_twice_is_stored_once_for_delegates_and_staff():
    workshop = create_workshop()
    line = create_proposal(workshop)
    go_to_kind(workshop, "discuss")
    delegate = create_delegate(workshop)
    facilitator = create_user("facilitator")
    workshop.facilitators.append(facilitator)
    db.session.commit()
    for who, key in ((delegate, KEY), (facilitator, KEY + "-staff")):
        first = services.add_comment(who, workshop, line.id, "Yes, and for fishers.",
                                     request_id=key)
        again = services.add_comment(who, workshop, line.id, "Yes, and for fishers.",
                                     request_id=key)
        assert again.id == first.id
        assert again.replayed
    assert count(Comment) == 2
    with pytest.raises(Conflict):
        services.add_comment(facilitator, workshop, line.id, "Mine", request_id=KEY)


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize("key", ["short", "has space in it", "x" * 41, "<script>"])
def test_a_malformed_key_is_refused_by_name(key):
    with pytest.raises(ValidationFailed) as refused:
        parse(ProposalIn, {"title": "T", "theme": "health_protection", "level": "national",
                           "request_id": key})
    assert "request_id" in refused.value.fields


def test_a_resent_socket_event_is_acknowledged_as_a_duplicate_and_not_broadcast(phones):
    workshop, _, (a, b) = phones
    payload = {"workshop_id": workshop.id, "title": "Salud para todos",
               "theme": "health_protection", "level": "national", "request_id": KEY}
    first = a.emit("proposal.create", payload, callback=True)
    b.get_received()
    again = a.emit("proposal.create", payload, callback=True)
    assert first["ok"]
    assert again["ok"]
    assert again["proposal_id"] == first["proposal_id"]
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert received(b, "proposal.card") == []
    assert count(Proposal) == 1


def test_the_form_posted_twice_stores_once(phones):
    workshop, (client, _), _ = phones
    page = client.get("/d").get_data(as_text=True)
    key = re.search(r'name="request_id" value="([^"]+)"', page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "request_id": key, "title": "Trabajo decente",
            "theme": "decent_work", "level": "national"}
    for _ in range(2):
        assert client.post(f"/w/{workshop.id}/proposals", data=form).status_code in (302, 303)
    assert count(Proposal) == 1
