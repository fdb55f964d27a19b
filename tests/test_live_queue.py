"""Broadcasts and calls queued on the session: run after the commit, dropped with a rollback;
a rolled-back savepoint drops only what was queued inside it."""

from __future__ import annotations

import pytest

from tests.helpers import create_lines, create_workshop, open_test_ballot
from workshop.auth.models import User
from workshop.extensions import db, socketio
from workshop.live import after_commit, queue
from workshop.voting import clock, services


@pytest.fixture
def sent(app, monkeypatch) -> list[tuple]:
    out: list[tuple] = []
    monkeypatch.setattr(socketio, "emit", lambda name, payload, to: out.append((name, to)))
    return out


def test_queued_events_go_out_after_the_commit_only(sent):
    queue(db.session, "one", {}, "room")
    assert sent == []
    db.session.commit()
    assert sent == [("one", "room")]


def test_a_rollback_sends_nothing(sent):
    queue(db.session, "one", {}, "room")
    db.session.rollback()
    db.session.commit()
    assert sent == []


def undone_in_a_savepoint() -> None:
    with db.session.begin_nested():
        queue(db.session, "undone", {}, "room")
        raise RuntimeError


def test_a_rolled_back_savepoint_drops_only_its_own_events(sent):
    queue(db.session, "before", {}, "room")
    with db.session.begin_nested():
        queue(db.session, "kept", {}, "room")
    with pytest.raises(RuntimeError):
        undone_in_a_savepoint()
    with db.session.begin_nested():
        queue(db.session, "after", {}, "room")
    assert sent == []  # a released savepoint is not a commit: nothing goes out yet
    db.session.commit()
    assert [name for name, _room in sent] == ["before", "kept", "after"]


def test_calls_after_commit_run_once_committed_and_never_after_a_rollback(app):
    ran: list[str] = []
    after_commit(db.session, lambda: ran.append("committed"))
    db.session.commit()
    after_commit(db.session, lambda: ran.append("rolled back"))
    db.session.rollback()
    db.session.commit()
    assert ran == ["committed"]


def test_opening_or_extending_a_timed_ballot_has_the_clock_watch_it_after_the_commit(
        app, monkeypatch):
    watched: list[int] = []
    monkeypatch.setattr(clock, "schedule", lambda app, ballot_id: watched.append(ballot_id))
    workshop = create_workshop()
    create_lines(workshop, 2)
    untimed = open_test_ballot(workshop, "approval")
    timed = open_test_ballot(workshop, "approval", closes_in_minutes=5)
    assert watched == [timed.id]
    facilitator = db.session.get(User, workshop.created_by_id)
    services.extend_ballot(facilitator, workshop, untimed, 3)  # now it has a closing time
    assert watched == [timed.id, untimed.id]
