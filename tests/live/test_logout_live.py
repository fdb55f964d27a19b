"""Logout on the real gevent server: the login's sockets are told and closed at once."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from tests.helpers import create_organisation, create_user, create_workshop, csrf_from
from tests.live.clients import Person
from workshop.agenda.models import Delegate
from workshop.extensions import db

pytestmark = pytest.mark.live


def connections(delegate_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(Delegate.connections).where(Delegate.id == delegate_id))


def test_logout_closes_the_phone_socket_and_the_cookies_stop_working(live):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    org = create_organisation()
    staff = Person(live.url).login(facilitator.email, workshop.id)
    phone = Person(live.url).join(workshop.join_code, org.id, "Lwazi")
    try:
        staff.connect(workshop.id)
        sio = phone.connect(workshop.id)
        sio.on("session.ended", lambda data: phone.events.put(("session.ended", data)))
        sio.on("disconnect", lambda *args: phone.events.put(("disconnect", args)))
        phone.next_event("state")
        delegate_id = db.session.scalar(sa.select(Delegate.id).where(Delegate.name == "Lwazi"))
        assert connections(delegate_id) == 1
        cookies = phone.http.cookies.copy()

        response = phone.http.post(f"{live.url}/logout", data={"csrf_token": phone.csrf},
                                   allow_redirects=False)
        assert response.status_code == 302
        assert phone.next_event("session.ended") == {}
        phone.next_event("disconnect")
        deadline = time.monotonic() + 5
        while connections(delegate_id) != 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert connections(delegate_id) == 0

        replay = Person(live.url)
        replay.http.cookies.update(cookies)  # session and remember-me cookies kept by a copy
        assert replay.http.get(f"{live.url}/d", allow_redirects=False).status_code == 302
        # The facilitator's own login is untouched.
        ack = staff.call("state.sync", {"workshop_id": workshop.id})
        assert ack["ok"] is True
    finally:
        staff.close()
        phone.close()


def test_a_logout_on_one_process_closes_the_login_socket_on_the_other(live, two_processes):
    """Two processes sharing Redis: the phone's socket is on A, the logout goes through B.
    A closes the socket itself when `session.ended` reaches it through the queue (before, it
    only passed the event on, and the socket went on receiving broadcasts until its next
    event was refused)."""
    (url_a, _proc_a), (url_b, _proc_b) = two_processes
    workshop = create_workshop()
    phone = Person(url_a).join(workshop.join_code, create_organisation().id, "Ama")
    try:
        sio = phone.connect(workshop.id)
        sio.on("session.ended", lambda data: phone.events.put(("session.ended", data)))
        sio.on("disconnect", lambda *args: phone.events.put(("disconnect", args)))
        phone.next_event("state")

        elsewhere = Person(url_b)
        elsewhere.http.cookies.update(phone.http.cookies)  # the same login, through B
        token = csrf_from(elsewhere.http.get(f"{url_b}/d").text)
        response = elsewhere.http.post(f"{url_b}/logout", data={"csrf_token": token},
                                       allow_redirects=False)
        assert response.status_code == 302
        assert phone.next_event("session.ended", timeout=10) == {}
        phone.next_event("disconnect", timeout=10)  # closed by A: this client never leaves
    finally:
        phone.close()
