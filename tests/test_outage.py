"""A database that cannot be reached for a moment (here SQLite held locked by another writer
past the wait): every door gives one clear answer, `unavailable` with a message and 503 with
Retry-After, stores nothing, and the same action sent again once it is back goes through."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from config import TestConfig
from tests.agenda.test_events import connect
from tests.api.conftest import bearer
from tests.conftest import app_for
from tests.helpers import (
    create_lines,
    create_organisation,
    create_user,
    create_workshop,
    go_to_kind,
    join,
    open_test_ballot,
)
from workshop.extensions import db
from workshop.proposals.models import Proposal
from workshop.voting.models import Vote


@pytest.fixture
def file_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """An app on an SQLite file, whose writers wait 0.2 s for a lock before giving up."""

    class FileConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'workshop.db'}"
        SQLALCHEMY_ENGINE_OPTIONS = {**TestConfig.SQLALCHEMY_ENGINE_OPTIONS,
                                     "connect_args": {"timeout": 0.2}}

    with app_for(FileConfig, monkeypatch) as app:
        yield app


class Locked:
    """Another writer holding the database's write lock until `release`."""

    def __init__(self, app: Flask) -> None:
        self.conn = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"][len("sqlite:///"):],
                                    isolation_level=None)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_socket_action_is_answered_unavailable_and_goes_through_when_sent_again(file_app):
    workshop = create_workshop(steps=3)
    go_to_kind(workshop, "propose")
    client = file_app.test_client()
    join(client, workshop, create_organisation())
    sock = connect(file_app, client, workshop)
    proposal = {"workshop_id": workshop.id, "title": "Clinics run by the mutuals",
                "description": "", "theme": "health_protection", "level": "national",
                "tags": []}
    db.session.commit()  # the test holds no transaction open
    lock = Locked(file_app)
    ack = sock.emit("proposal.create", proposal, callback=True)
    lock.release()
    assert ack["ok"] is False
    assert ack["error"] == "unavailable"
    assert "database just now" in ack["message"]
    assert count(Proposal) == 0
    assert sock.emit("proposal.create", proposal, callback=True)["ok"] is True
    assert count(Proposal) == 1


def test_a_vote_over_http_gets_503_with_retry_after_and_is_stored_once_sent_again(file_app):
    workshop = create_workshop(steps=3)
    lines = [line.id for line in create_lines(workshop, 3)]
    ballot = open_test_ballot(workshop)
    client = file_app.test_client()
    join(client, workshop, create_organisation())
    page = client.get("/d")
    assert page.status_code == 200
    csrf = page.get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    db.session.commit()  # the test holds no transaction open

    def cast():
        return client.post(f"/d/ballots/{ballot.id}/vote", json={"choices": lines[:2]},
                           headers={"X-CSRFToken": csrf, "Accept": "application/json"})

    lock = Locked(file_app)
    refused = cast()
    lock.release()
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert refused.get_json()["error"] == "unavailable"
    assert count(Vote) == 0
    accepted = cast()
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert count(Vote) == 1


def test_the_api_answers_a_problem_with_retry_after(file_app):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser=organiser, steps=3)
    headers = bearer(organiser)
    client = file_app.test_client()
    db.session.commit()  # the test holds no transaction open
    lock = Locked(file_app)
    try:
        response = client.post(f"/api/v1/workshops/{workshop.id}/steps", headers=headers,
                               json={"kind": "vote", "title": "Final vote"})
    finally:
        lock.release()
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["code"] == "unavailable"
