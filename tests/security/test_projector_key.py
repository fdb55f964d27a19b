"""Projector key rotation: a new key from the manage page; the old address and the screens
opened with it stop working at once; audited; organisers only."""

from __future__ import annotations

import sqlalchemy as sa

from tests.agenda.test_events import connect
from tests.helpers import create_organisation, create_user, create_workshop, csrf_from, join, login
from workshop.agenda.services import rotate_projector_key
from workshop.audit.models import AuditEntry
from workshop.extensions import db, socketio


def open_screen(app, workshop, key: str | None = None):
    """A big screen opened with a projector key, and its socket."""
    client = app.test_client()
    response = client.get(f"/w/{workshop.id}/projector?key={key or workshop.projector_key}")
    assert response.status_code == 200
    return client, connect(app, client, workshop, f"/w/{workshop.id}/projector")


def rotate(client, workshop):
    page = client.get(f"/w/{workshop.id}/manage").get_data(as_text=True)
    assert f'action="/w/{workshop.id}/projector-key"' in page
    return client.post(f"/w/{workshop.id}/projector-key", data={"csrf_token": csrf_from(page)})


def test_the_manage_page_gives_a_new_key_and_the_old_address_stops_working(app, client):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    old = workshop.projector_key
    login(client, organiser)
    response = rotate(client, workshop)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/w/{workshop.id}/manage#projector.rotate_key")
    db.session.refresh(workshop)
    new = workshop.projector_key
    assert new != old
    assert len(new) >= 32
    stranger = app.test_client()
    assert stranger.get(f"/w/{workshop.id}/projector?key={old}").status_code == 403
    assert stranger.get(f"/w/{workshop.id}/projector?key={new}").status_code == 200
    # The manage page links the projector with the new key only.
    page = client.get(f"/w/{workshop.id}/manage").get_data(as_text=True)
    assert new in page
    assert old not in page


def test_rotation_is_audited_without_the_key(app, client):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    old = workshop.projector_key
    login(client, organiser)
    rotate(client, workshop)
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.operation == "projector.rotate_key"))
    assert entry.workshop_id == workshop.id
    assert entry.actor_id == organiser.id
    assert old not in str(entry.details)
    assert workshop.projector_key not in str(entry.details)


def test_open_screens_with_the_old_key_are_disconnected(app):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    other = create_workshop(organiser)
    screen_client, screen = open_screen(app, workshop)
    _other_client, other_screen = open_screen(app, other)
    phone_client = app.test_client()
    join(phone_client, workshop, create_organisation())
    phone = connect(app, phone_client, workshop)
    assert screen.is_connected()
    screen.get_received()
    rotate_projector_key(organiser, workshop)
    assert not screen.is_connected()
    # Other screens and the delegates' phones keep following.
    assert other_screen.is_connected()
    assert phone.is_connected()
    # The screen's session no longer opens the page nor a socket.
    assert screen_client.get(f"/w/{workshop.id}/projector").status_code == 403
    token = csrf_from(app.test_client().get("/").get_data(as_text=True))
    again = socketio.test_client(app, flask_test_client=screen_client,
                                 auth={"workshop": workshop.id, "csrf": token})
    assert not again.is_connected()
    # Opened with the new key, it works again.
    _client, fresh = open_screen(app, workshop)
    assert fresh.is_connected()


def test_screens_are_told_before_they_are_disconnected(app):
    # `session.ended` goes through the message queue to every server process (the page
    # reloads and is refused); this process's sockets are also disconnected at once.
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    _client, screen = open_screen(app, workshop)
    screen.get_received()
    rotate_projector_key(organiser, workshop)
    assert "session.ended" in [m["name"] for m in screen.queue]
    assert not screen.is_connected()


def test_only_organisers_rotate_and_only_with_a_csrf_token(app, client):
    organiser = create_user("organiser")
    facilitator = create_user("facilitator")
    workshop = create_workshop(organiser, facilitator=facilitator)
    key = workshop.projector_key
    login(client, facilitator)
    token = csrf_from(client.get(f"/w/{workshop.id}/console").get_data(as_text=True))
    assert client.post(f"/w/{workshop.id}/projector-key",
                       data={"csrf_token": token}).status_code == 403
    phone = app.test_client()
    join(phone, workshop, create_organisation())
    token = csrf_from(phone.get("/d").get_data(as_text=True))
    assert phone.post(f"/w/{workshop.id}/projector-key",
                      data={"csrf_token": token}).status_code == 403
    login(client, organiser)
    assert client.post(f"/w/{workshop.id}/projector-key").status_code == 400  # no token
    assert client.get(f"/w/{workshop.id}/projector-key").status_code == 405
    db.session.refresh(workshop)
    assert workshop.projector_key == key
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.operation == "projector.rotate_key")) == 0
