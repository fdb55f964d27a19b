"""Socket events through Flask-SocketIO's test client, sharing the HTTP login session."""

from __future__ import annotations

import sqlalchemy as sa

from tests.helpers import (
    create_organisation,
    create_user,
    create_workshop,
    csrf_from,
    join,
    login,
    received,
)
from workshop.audit.models import AuditEntry
from workshop.extensions import db, socketio


def connect(app, client, workshop, page: str = "/d"):
    """A socket in the name of whoever the HTTP client is logged in as."""
    token = csrf_from(client.get(page).get_data(as_text=True))
    return socketio.test_client(app, flask_test_client=client,
                                auth={"workshop": workshop.id, "csrf": token})


def states(sock) -> list[dict]:
    return received(sock, "state")


def staff_and_phone(app):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    staff_client = app.test_client()
    login(staff_client, facilitator)
    phone_client = app.test_client()
    join(phone_client, workshop, create_organisation())
    staff = connect(app, staff_client, workshop, f"/w/{workshop.id}/console")
    phone = connect(app, phone_client, workshop)
    return workshop, staff, phone


def test_connect_sends_the_current_state(app, client):
    workshop = create_workshop()
    join(client, workshop, create_organisation(region="asia"))
    sock = connect(app, client, workshop)
    assert sock.is_connected()
    [state] = states(sock)
    assert state["workshop_id"] == workshop.id
    assert state["joined"]["by_region"] == {"asia": 1}


def test_anonymous_socket_is_refused(app, client):
    workshop = create_workshop()
    token = csrf_from(client.get("/").get_data(as_text=True))
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"workshop": workshop.id, "csrf": token})
    assert not sock.is_connected()


def test_socket_without_csrf_token_is_refused(app, client):
    workshop = create_workshop()
    join(client, workshop, create_organisation())
    sock = socketio.test_client(app, flask_test_client=client, auth={"workshop": workshop.id})
    assert not sock.is_connected()


def test_delegate_cannot_watch_another_workshop(app, client):
    mine = create_workshop()
    other = create_workshop()
    join(client, mine, create_organisation())
    assert not connect(app, client, other).is_connected()


def test_facilitator_goto_reaches_the_phone(app):
    workshop, staff, phone = staff_and_phone(app)
    phone.get_received()
    ack = staff.emit("agenda.goto", {"workshop_id": workshop.id,
                                     "step_id": workshop.steps[1].id}, callback=True)
    assert ack == {"ok": True, "step_id": workshop.steps[1].id}
    [state] = states(phone)
    assert state["step"]["id"] == workshop.steps[1].id
    assert state["step"]["title"] == "Step 2"


def test_delegate_cannot_drive_and_nothing_changes(app):
    workshop, staff, phone = staff_and_phone(app)
    staff.get_received()
    before = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    ack = phone.emit("agenda.goto", {"workshop_id": workshop.id,
                                     "step_id": workshop.steps[1].id}, callback=True)
    assert ack["ok"] is False
    assert ack["error"] == "forbidden"
    ack = phone.emit("timer.start", {"workshop_id": workshop.id, "seconds": 30}, callback=True)
    assert ack["error"] == "forbidden"
    db.session.expire_all()
    assert workshop.current_step_id is None
    assert states(staff) == []
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == before


def test_wrong_shaped_payloads_name_the_field(app):
    workshop, staff, _ = staff_and_phone(app)
    cases = [
        (None, "workshop_id"),
        ("goto 2", "payload"),
        ([1, 2], "payload"),
        ({"workshop_id": workshop.id}, "step_id"),
        ({"workshop_id": workshop.id, "step_id": "two"}, "step_id"),
        ({"workshop_id": workshop.id, "step_id": 1, "extra": 1}, "extra"),
        ({"workshop_id": 999, "step_id": workshop.steps[0].id}, "workshop_id"),
    ]
    for payload, field in cases:
        ack = staff.emit("agenda.goto", payload, callback=True)
        assert ack["ok"] is False, payload
        assert field in ack["fields"], (payload, ack)
    ack = staff.emit("timer.extend", {"workshop_id": workshop.id, "seconds": 99999},
                     callback=True)
    assert "seconds" in ack["fields"]
    db.session.expire_all()
    assert workshop.current_step_id is None


def test_message_broadcast_reaches_phones(app):
    workshop, staff, phone = staff_and_phone(app)
    phone.get_received()
    ack = staff.emit("message.broadcast", {"workshop_id": workshop.id, "text": "Coffee break"},
                     callback=True)
    assert ack["ok"] is True
    messages = [m["args"][0] for m in phone.get_received() if m["name"] == "notice"]
    assert messages == [{"text": "Coffee break"}]


def test_console_learns_when_a_delegate_joins(app):
    workshop, staff, _ = staff_and_phone(app)
    staff.get_received()
    join(app.test_client(), workshop, create_organisation(), name="Kofi")
    names = [m["args"][0]["name"] for m in staff.get_received() if m["name"] == "delegate"]
    assert "Kofi" in names


def test_state_sync_answers_the_current_state(app):
    workshop, _, phone = staff_and_phone(app)
    ack = phone.emit("state.sync", {"workshop_id": workshop.id}, callback=True)
    assert ack["ok"] is True
    assert ack["state"]["workshop_id"] == workshop.id


def test_socket_closed_while_a_commit_broadcasts_still_counts_the_delegate_offline(app, client):
    """Engine.IO closes a socket whose pings went unanswered from inside `emit`, and runs the
    disconnect handler there, in the greenlet that is committing: the presence update must not
    use that committing session (it raised "session is in 'committed' state" and the count
    stayed one too high)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from workshop.agenda.models import Delegate

    workshop = create_workshop()
    join(client, workshop, create_organisation())
    first = connect(app, client, workshop)
    second = connect(app, client, workshop)
    with app.app_context():
        delegate = db.session.scalars(sa.select(Delegate)).one()
        assert delegate.connections == 2

        closing = [second]

        def close_during_commit(session):
            while closing:
                closing.pop().disconnect()

        event.listen(Session, "after_commit", close_during_commit)
        try:
            delegate.last_seen_at = None
            db.session.commit()
        finally:
            event.remove(Session, "after_commit", close_during_commit)
        db.session.expire_all()
        assert db.session.get(Delegate, delegate.id).connections == 1
    assert first.is_connected()
