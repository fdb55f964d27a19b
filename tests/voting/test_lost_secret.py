"""A secret vote whose secret is lost can be replaced, and that rule breaks no secrecy.

The rule (workshop/voting/secrecy.py, "A lost secret"): while the ballot is open a secret paper
carries a keyed hash of its voter; a voter who has voted and asks to replace their paper from a
phone without its secret has that paper withdrawn and the new one counted; the close erases the
tags, so nothing stored links a paper to its voter afterwards.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import (
    cast_vote,
    create_delegate,
    create_lines,
    create_organisation,
    create_user,
    create_workshop,
    csrf_from,
    go_to_kind,
    join,
    open_test_ballot,
)
from tests.voting.test_ballots import SECRET_A, SECRET_B, audit_ops, counts
from workshop.audit.models import AuditEntry
from workshop.extensions import db
from workshop.voting import services
from workshop.voting.casting import VotedElsewhere
from workshop.voting.models import RegionTally, Vote

SECRET_C = "c" * 32


@pytest.fixture
def room(app):
    """A facilitator, an open secret approval ballot of four lines, two delegates of two regions."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=5)
    ids = [line.id for line in create_lines(workshop, 4)]
    amina = create_delegate(workshop, create_organisation(region="west_africa"))
    bongani = create_delegate(workshop, create_organisation(region="asia", country="India"))
    ballot = open_test_ballot(workshop, "approval", actor=facilitator, secret=True)
    return workshop, facilitator, ballot, ids, amina, bongani


def region_sums(ballot) -> dict[str, list]:
    db.session.expire_all()
    rows = db.session.scalars(sa.select(RegionTally).where(RegionTally.ballot_id == ballot.id))
    return {row.region: (row.voters, row.sums) for row in rows}


def test_without_asking_a_phone_without_the_secret_is_refused_and_nothing_changes(room):
    _, _, ballot, ids, amina, _ = room
    cast_vote(amina, ballot, [ids[0]], secret=SECRET_A)
    with pytest.raises(VotedElsewhere) as exc:
        cast_vote(amina, ballot, [ids[1]], secret=SECRET_B)
    db.session.rollback()
    assert exc.value.to_dict()["error"] == "voted_elsewhere"
    assert exc.value.status == 409
    assert "replace it here" in str(exc.value.message)
    assert list(db.session.scalars(sa.select(Vote.choices))) == [[ids[0]]]


def test_the_voter_replaces_their_paper_from_another_phone(room):
    workshop, _, ballot, ids, amina, _ = room
    first = cast_vote(amina, ballot, [ids[0]], secret=SECRET_A)
    assert region_sums(ballot) == {"west_africa": (1, [[1, 0, 0, 0]])}
    second = cast_vote(amina, ballot, [ids[1], ids[2]], secret=SECRET_B, replace_lost=True)
    assert second.changed is True
    assert second.receipt != first.receipt
    # One paper, the new one; the old one is off the totals, its receipt gone from the list.
    assert counts(ballot) == (1, 1)
    assert list(db.session.scalars(sa.select(Vote.choices))) == [[ids[1], ids[2]]]
    assert region_sums(ballot) == {"west_africa": (1, [[0, 1, 1, 0]])}
    receipts = set(db.session.scalars(sa.select(Vote.receipt)))
    assert receipts == {second.receipt}
    # The new phone's secret now finds the paper; the old phone's finds nothing.
    cast_vote(amina, ballot, [ids[3]], secret=SECRET_B)
    with pytest.raises(VotedElsewhere):
        cast_vote(amina, ballot, [ids[0]], secret=SECRET_A)
    db.session.rollback()
    # The audit says who replaced a paper, never what either said.
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.workshop_id == workshop.id, AuditEntry.operation == "ballot.cast"))
    assert entry.details["replaced_lost"] is True
    assert entry.details["delegate_id"] == amina.id
    assert not {"choices", "choice", "before", "after"} & set(entry.details)
    assert audit_ops(workshop).count("ballot.cast") == 1


def test_asking_to_replace_reaches_only_the_senders_own_paper(room):
    _, _, ballot, ids, amina, bongani = room
    cast_vote(amina, ballot, [ids[0]], secret=SECRET_A)
    # Bongani has not voted: asking to replace casts his first paper and leaves Amina's alone.
    mine = cast_vote(bongani, ballot, [ids[3]], secret=SECRET_A, replace_lost=True)
    assert mine.changed is False
    assert counts(ballot) == (2, 2)
    assert sorted(db.session.scalars(sa.select(Vote.choices))) == [[ids[0]], [ids[3]]]
    # Bongani replacing "his lost paper" replaces his, never hers.
    cast_vote(bongani, ballot, [ids[2]], secret=SECRET_C, replace_lost=True)
    assert sorted(db.session.scalars(sa.select(Vote.choices))) == [[ids[0]], [ids[2]]]


def test_the_close_erases_every_owner_tag(room):
    workshop, facilitator, ballot, ids, amina, bongani = room
    cast_vote(amina, ballot, [ids[0]], secret=SECRET_A)
    cast_vote(bongani, ballot, [ids[1]], secret=SECRET_B)
    assert db.session.scalar(sa.select(sa.func.count()).where(Vote.owner_tag.is_not(None))) == 2
    services.close_ballot(facilitator, workshop, ballot)
    db.session.expire_all()
    assert list(db.session.scalars(sa.select(Vote.owner_tag))) == [None, None]


def test_a_named_ballot_ignores_the_request(app):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=5)
    ids = [line.id for line in create_lines(workshop, 2)]
    amina = create_delegate(workshop, create_organisation())
    ballot = open_test_ballot(workshop, "approval", actor=facilitator)
    cast_vote(amina, ballot, [ids[0]])
    again = cast_vote(amina, ballot, [ids[1]], replace_lost=True)
    assert again.changed is True
    assert list(db.session.scalars(sa.select(Vote.choices))) == [[ids[1]]]
    assert db.session.scalar(sa.select(Vote.owner_tag)) is None


def test_the_phone_form_without_javascript_can_replace(app, room):
    workshop, _, ballot, ids, _, _ = room
    phone = app.test_client()
    organisation = create_organisation(region="asia", country="Nepal")
    join(phone, workshop, organisation, name="Chitra")
    go_to_kind(workshop, "vote")
    page = phone.get("/d").get_data(as_text=True)
    assert 'name="replace_lost"' not in page  # nothing to replace before a first vote
    token = csrf_from(page)
    url = f"/d/ballots/{ballot.id}/vote"
    phone.post(url, data={"csrf_token": token, "choice": [str(ids[0])]})
    assert 'name="replace_lost"' in phone.get("/d").get_data(as_text=True)
    # Another browser of Chitra's would be a new phone: without a secret the form makes one,
    # so a second plain send is refused and a send with the box ticked replaces the paper.
    refused = phone.post(url, data={"csrf_token": token, "choice": [str(ids[1])]},
                         follow_redirects=True).get_data(as_text=True)
    assert "replace it here" in refused
    phone.post(url, data={"csrf_token": token, "choice": [str(ids[1])], "replace_lost": "1"})
    assert list(db.session.scalars(sa.select(Vote.choices))) == [[ids[1]]]
