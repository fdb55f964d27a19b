"""Real Socket.IO clients (python-socketio) against the real gevent server."""

from __future__ import annotations

import base64
import contextlib
import gzip
import queue

import pytest
import socketio

from tests.helpers import create_organisation, create_user, create_workshop
from tests.live.clients import Person
from workshop.agenda.models import Workshop
from workshop.extensions import db

pytestmark = pytest.mark.live


@pytest.fixture
def room(live):
    """A workshop with a facilitator and a joined delegate, both with HTTP sessions."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(steps=4, facilitator=facilitator)
    org = create_organisation(region="central_africa", country="Burundi")
    staff = Person(live.url).login(facilitator.email, workshop.id)
    phone = Person(live.url).join(workshop.join_code, org.id, "Aline")
    yield workshop, staff, phone
    staff.close()
    phone.close()


def current_step_id(workshop_id: int) -> int | None:
    db.session.expire_all()
    return db.session.get(Workshop, workshop_id).current_step_id


def test_anonymous_socket_gets_nothing(live, room):
    workshop, staff, _ = room
    stranger = Person(live.url)
    stranger.csrf = staff.csrf  # even a valid-looking token without a session is refused
    with pytest.raises(socketio.exceptions.ConnectionError):
        stranger.connect(workshop.id)
    received = []
    with contextlib.suppress(queue.Empty):
        while True:
            received.append(stranger.events.get(timeout=0.5)[0])
    assert "state" not in received
    assert "connect" not in received


def test_delegate_event_that_needs_a_facilitator_is_refused(room):
    workshop, _, phone = room
    phone.connect(workshop.id)
    assert phone.next_event("state")["workshop_id"] == workshop.id
    ack = phone.call("agenda.goto", {"workshop_id": workshop.id, "step_id": workshop.steps[2].id})
    assert ack["ok"] is False
    assert ack["error"] == "forbidden"
    assert current_step_id(workshop.id) is None


def test_wrong_shape_is_answered_with_the_field(room):
    workshop, staff, _ = room
    staff.connect(workshop.id)
    ack = staff.call("agenda.goto", {"workshop_id": workshop.id, "step_id": "3; drop table"})
    assert ack["ok"] is False
    assert "step_id" in ack["fields"]
    assert current_step_id(workshop.id) is None


def test_facilitator_moves_and_the_phone_follows(room):
    workshop, staff, phone = room
    staff.connect(workshop.id)
    phone.connect(workshop.id)
    phone.next_event("state")
    target = workshop.steps[1].id
    assert staff.call("agenda.goto", {"workshop_id": workshop.id, "step_id": target})["ok"]
    assert phone.next_event("state")["step"]["id"] == target
    assert current_step_id(workshop.id) == target


def test_state_resyncs_after_reconnect(room):
    workshop, staff, phone = room
    staff.connect(workshop.id)
    phone.connect(workshop.id)
    phone.next_event("state")
    phone.sio.disconnect()
    target = workshop.steps[3].id
    assert staff.call("agenda.goto", {"workshop_id": workshop.id, "step_id": target})["ok"]
    phone.drain()
    phone.connect(workshop.id)
    state = phone.next_event("state")
    assert state["step"]["id"] == target
    assert state["joined"]["by_region"] == {"central_africa": 1}


def test_long_polling_only_client_follows(room):
    workshop, staff, phone = room
    staff.connect(workshop.id)
    phone.connect(workshop.id, transports=["polling"])
    assert phone.sio.transport() == "polling"
    phone.next_event("state")
    target = workshop.steps[2].id  # a discuss step: its part comes with the state
    assert staff.call("agenda.goto", {"workshop_id": workshop.id, "step_id": target})["ok"]
    state = phone.next_event("state")
    assert state["step"]["id"] == target
    # Encoded once for the WebSocket staff and the long-polling phone alike (text, not bytes).
    assert state["phone"]["key"] == state["step"]["key"]
    assert "Discuss" in gzip.decompress(base64.b64decode(state["phone"]["gzip"])).decode()


def test_timer_state_reaches_phones(room):
    workshop, staff, phone = room
    staff.connect(workshop.id)
    phone.connect(workshop.id)
    staff.call("agenda.goto", {"workshop_id": workshop.id, "step_id": workshop.steps[0].id})
    while (phone.next_event("state")["step"] or {}).get("id") != workshop.steps[0].id:
        pass  # the connect-time state and the step change, in whatever order they came
    assert staff.call("timer.start", {"workshop_id": workshop.id, "seconds": 120})["ok"]
    timer = phone.next_event("state")["timer"]
    assert timer["status"] == "running"
    assert 118_000 <= timer["remaining_ms"] <= 120_000
    assert staff.call("timer.pause", {"workshop_id": workshop.id})["ok"]
    assert phone.next_event("state")["timer"]["status"] == "paused"
