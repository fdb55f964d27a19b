"""A reader's state (state.sync, a socket's connection) takes the steps' part kept per state
version; any change of a step bumps the version, announced or not; a writer keeps nothing."""

from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface

from tests.agenda.test_events import staff_and_phone
from tests.helpers import create_delegate, create_organisation
from workshop.agenda.models import Delegate
from workshop.agenda.state import announce, snapshot
from workshop.db import utcnow
from workshop.extensions import db
from workshop.kept import kept


def sync(sock, workshop) -> dict:
    ack = sock.emit("state.sync", {"workshop_id": workshop.id}, callback=True)
    assert ack["ok"], ack
    return ack["state"]


def test_readers_share_the_steps_part_until_a_step_changes(app):
    workshop, staff, phone = staff_and_phone(app)
    store = kept("agendas")
    first = sync(phone, workshop)
    made = store.made
    assert sync(staff, workshop)["agenda"] == first["agenda"]
    assert sync(phone, workshop) == first
    assert store.made == made  # kept: nothing drawn again
    step = workshop.steps[1]
    step.title = "Renamed without telling anyone"  # no announce: the flush hook bumps
    db.session.commit()
    renamed = sync(phone, workshop)
    assert renamed["version"] > first["version"]
    assert renamed["agenda"] != first["agenda"]
    assert store.made == made + 1


def test_the_current_step_moved_is_seen_by_a_reader(app):
    workshop, _staff, phone = staff_and_phone(app)
    sync(phone, workshop)
    workshop.current_step_id = workshop.steps[2].id  # behind the services' back
    db.session.commit()
    assert sync(phone, workshop)["step"]["id"] == workshop.steps[2].id


def test_a_timer_is_counted_when_asked_not_when_kept(app):
    workshop, staff, phone = staff_and_phone(app)
    assert staff.emit("agenda.goto", {"workshop_id": workshop.id,
                                      "step_id": workshop.steps[1].id}, callback=True)["ok"]
    assert staff.emit("timer.start", {"workshop_id": workshop.id, "seconds": 600},
                      callback=True)["ok"]
    first = sync(phone, workshop)["timer"]
    assert first["status"] == "running"
    assert sync(phone, workshop)["timer"]["remaining_ms"] <= first["remaining_ms"]
    assert staff.emit("timer.pause", {"workshop_id": workshop.id}, callback=True)["ok"]
    assert sync(phone, workshop)["timer"]["status"] == "paused"


def test_a_writer_that_rolls_back_leaves_nothing_kept(app):
    workshop, _staff, phone = staff_and_phone(app)
    sync(phone, workshop)
    workshop.steps[0].title = "Never committed"
    announce(db.session, workshop)  # a writer's state: drawn from its own rows, never kept
    rolled_back = workshop.state_version
    db.session.rollback()
    # Another change reaches the same version number: readers must see this one.
    workshop.steps[0].title = "Committed"
    announce(db.session, workshop)
    db.session.commit()
    assert workshop.state_version == rolled_back
    expected = snapshot(db.session, workshop, writing=True)
    assert sync(phone, workshop)["agenda"] == expected["agenda"]


def test_a_join_rolled_back_leaves_no_count_kept(app):
    workshop, _staff, phone = staff_and_phone(app)
    before = sync(phone, workshop)["joined"]
    db.session.add(Delegate(workshop_id=workshop.id, name="Never joined", locale="en",
                            organisation_id=create_organisation(region="asia").id,
                            joined_at=utcnow()))
    announce(db.session, workshop)  # the flush bumps the joined version; nothing is kept
    rolled_back = workshop.joined_version
    db.session.rollback()
    create_delegate(workshop, create_organisation(region="west_africa"))  # the same version
    assert workshop.joined_version == rolled_back
    after = sync(phone, workshop)["joined"]
    assert after["total"] == before["total"] + 1
    assert "asia" not in after["by_region"]
    assert after["by_region"]["west_africa"] == before["by_region"].get("west_africa", 0) + 1


def test_a_socket_event_does_not_decode_the_handshake_cookie_again(app, monkeypatch):
    workshop, _staff, phone = staff_and_phone(app)
    decoded = []
    original = SecureCookieSessionInterface.open_session

    def counting(self, app_, request):
        decoded.append(request.path)
        return original(self, app_, request)

    monkeypatch.setattr(SecureCookieSessionInterface, "open_session", counting)
    for _ in range(3):
        assert sync(phone, workshop)["workshop_id"] == workshop.id
    assert decoded == []  # the socket's own session, made at connection, is given at once
    assert app.test_client().get("/").status_code == 200
    assert decoded == ["/"]  # a page still opens its cookie
