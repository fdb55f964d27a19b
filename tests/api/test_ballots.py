"""Ballots and paper ballots through the API, checked in the database."""

from __future__ import annotations

import sqlalchemy as sa

from tests.api.conftest import bearer
from tests.helpers import create_delegate
from workshop.audit.models import AuditEntry
from workshop.extensions import db
from workshop.voting.models import Ballot, Participation, Vote


def test_list_and_get_ballots(client, world):
    auth = bearer(world.facilitator)
    listed = client.get(f"/api/v1/workshops/{world.workshop.id}/ballots", headers=auth)
    assert [b["id"] for b in listed.get_json()] == [world.ballot.id, world.closed_ballot.id]
    one = client.get(f"/api/v1/workshops/{world.workshop.id}/ballots/{world.closed_ballot.id}",
                     headers=auth).get_json()
    assert one["status"] == "closed"
    assert one["hash"] == world.closed_ballot.ballots_hash
    assert one["turnout"]["voted"] > 0


def test_open_a_ballot(client, world):
    lines = world.ballot.option_ids[:2]
    response = client.post(f"/api/v1/workshops/{world.workshop.id}/ballots",
                           headers=bearer(world.facilitator), json={
                               "title": "Which two?", "method": "points", "budget": 5,
                               "scope": "pick", "proposal_ids": lines, "secret": True,
                               "closes_in_minutes": 30})
    assert response.status_code == 201, response.get_json()
    ballot = db.session.get(Ballot, response.get_json()["id"])
    assert (ballot.method, ballot.budget, ballot.secret, ballot.status) == (
        "points", 5, True, "open")
    assert ballot.option_ids == sorted(lines)
    assert ballot.closes_at is not None
    assert ballot.created_by_id == world.facilitator.id


def test_open_refuses_the_path_ids_in_the_body(client, world):
    response = client.post(f"/api/v1/workshops/{world.workshop.id}/ballots",
                           headers=bearer(world.organiser),
                           json={"workshop_id": world.other.id, "title": "x",
                                 "method": "approval"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"workshop_id": "This field is not expected."}


def test_paper_ballot_close_and_results(client, world):
    auth = bearer(world.facilitator)
    base = f"/api/v1/workshops/{world.workshop.id}/ballots/{world.ballot.id}"
    voter = create_delegate(world.workshop)
    choice = world.ballot.option_ids[:1]
    paper = client.post(f"{base}/papers", headers=auth,
                        json={"delegate_id": voter.id, "choices": choice})
    assert paper.status_code == 201, paper.get_json()
    assert len(paper.get_json()["receipt"]) == 14  # ABCD-EFGH-JKLM
    participation = db.session.scalar(sa.select(Participation).where(
        Participation.ballot_id == world.ballot.id, Participation.delegate_id == voter.id))
    assert participation.source == "paper"
    assert participation.cast_by_id == world.facilitator.id
    vote = db.session.scalar(sa.select(Vote).where(Vote.ballot_id == world.ballot.id,
                                                   Vote.delegate_id == voter.id))
    assert vote.choices == choice
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.operation == "ballot.paper"))

    live = client.get(f"{base}/results", headers=auth).get_json()
    assert live["frozen"] is False
    assert live["results"]["turnout"]["count"] == 1

    closed = client.post(f"{base}/close", headers=auth)
    assert closed.status_code == 200
    assert closed.get_json()["status"] == "closed"
    db.session.refresh(world.ballot)
    assert world.ballot.status == "closed"
    assert world.ballot.ballots_hash

    results = client.get(f"{base}/results", headers=auth).get_json()
    assert results["frozen"] is True
    assert results["results"]["hash"] == world.ballot.ballots_hash
    assert results["results"]["ranking"][0] == choice

    again = client.post(f"{base}/close", headers=auth)
    assert again.status_code == 409
    assert again.get_json()["code"] == "conflict"


def test_paper_ballot_with_wrong_choices_names_the_field(client, world):
    voter = create_delegate(world.workshop)
    response = client.post(
        f"/api/v1/workshops/{world.workshop.id}/ballots/{world.ballot.id}/papers",
        headers=bearer(world.facilitator), json={"delegate_id": voter.id, "choices": [999999]})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"choices"}
