"""Broadcasts queued on the session: sent after the commit, dropped with a rollback; a
rolled-back savepoint drops only what was queued inside it."""

from __future__ import annotations

import pytest

from workshop.extensions import db, socketio
from workshop.live import queue


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
    db.session.commit()
    assert [name for name, _room in sent] == ["before", "kept", "after"]
