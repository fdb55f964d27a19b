"""A ballot's closing time survives a server restart: killed while the ballot was open and its
time came meanwhile, the server closes it as soon as it is back, before anyone reads it."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import LiveServer
from tests.helpers import (
    cast_vote,
    create_delegate,
    create_lines,
    create_organisation,
    create_user,
    create_workshop,
    open_test_ballot,
)
from workshop.db import utcnow
from workshop.extensions import db
from workshop.voting.models import Ballot


def status_of(ballot_id: int) -> str:
    db.session.rollback()
    return db.session.scalar(sa.select(Ballot.status).where(Ballot.id == ballot_id))


def test_a_ballot_whose_time_came_while_the_server_was_down_closes_when_it_is_back(
        own_server: LiveServer, tmp_path: Path):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=5)
    lines = create_lines(workshop, 2)
    ballot = open_test_ballot(workshop, "approval", actor=facilitator, closes_in_minutes=10)
    cast_vote(create_delegate(workshop, create_organisation()), ballot, [lines[0].id])
    ballot_id = ballot.id

    own_server.kill()
    # The ten minutes pass while the server is down.
    ballot.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert status_of(ballot_id) == "open"

    own_server.restart(tmp_path / "again.log")
    deadline = time.monotonic() + 20
    while status_of(ballot_id) == "open" and time.monotonic() < deadline:
        time.sleep(0.2)  # the server's own task closes it: nothing here to await but the row
    assert status_of(ballot_id) == "closed"
    closed = db.session.get(Ballot, ballot_id)
    assert closed.results["turnout"]["count"] == 1
    assert closed.ballots_hash
