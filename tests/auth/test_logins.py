"""Logging out logs out: login sessions are stored (hashed), ended at logout, revocable."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask_login.utils import encode_cookie

from tests.helpers import (
    create_organisation,
    create_user,
    create_workshop,
    csrf_from,
    go_to_kind,
    invite,
    join,
    login,
    refused_once_logins_ended_elsewhere,
)
from workshop.agenda.delegates import renew_invitation
from workshop.agenda.models import Delegate
from workshop.auth.logins import end_all_logins, start_login
from workshop.auth.models import LoginSession
from workshop.extensions import db, socketio

REMEMBER = "remember_token"


def logout(client, page: str) -> None:
    """Press "Log out" on a page (the form posts the page's CSRF token)."""
    token = csrf_from(client.get(page).get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302


def cookie(client, name: str) -> str:
    found = client.get_cookie(name)
    assert found is not None, f"no {name} cookie"
    return found.value


def is_staff_in(client) -> bool:
    return client.get("/workshops").status_code == 200


def is_delegate_in(client) -> bool:
    return client.get("/d").status_code == 200


def login_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(LoginSession.id)))


def connect(app, client, workshop, page: str):
    """A socket in the name of whoever the HTTP client is logged in as."""
    token = csrf_from(client.get(page).get_data(as_text=True))
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"workshop": workshop.id, "csrf": token})
    assert sock.is_connected()
    return sock


# --- Logout ends the login, whatever cookies the browser keeps ---------------------------------


def test_staff_logout_holds_even_if_the_browser_keeps_the_remember_cookie(client):
    organiser = create_user("organiser")
    login(client, organiser)
    assert is_staff_in(client)
    remember = cookie(client, REMEMBER)
    logout(client, "/workshops")
    assert client.get_cookie(REMEMBER) is None  # the response deleted it
    client.set_cookie(REMEMBER, remember)  # a browser that kept it anyway
    assert not is_staff_in(client)
    assert client.get("/workshops").headers["Location"].startswith("/login")
    assert login_count() == 0


def test_delegate_logout_holds_even_if_the_browser_keeps_the_remember_cookie(client):
    workshop = create_workshop()
    join(client, workshop, create_organisation(), name="Amina")
    assert is_delegate_in(client)
    remember = cookie(client, REMEMBER)
    logout(client, "/d")
    client.set_cookie(REMEMBER, remember)
    assert not is_delegate_in(client)
    # Opening the join link again is a new join form, not the old identity.
    assert client.get(f"/j/{workshop.join_code}").status_code == 200


def test_invited_delegate_logout_holds(client):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    _, token = invite(workshop, organiser)
    client.get(f"/i/{token}")
    assert is_delegate_in(client)
    remember = cookie(client, REMEMBER)
    logout(client, "/d")
    client.set_cookie(REMEMBER, remember)
    assert not is_delegate_in(client)


def test_copied_cookies_stop_working_after_logout(app, client):
    facilitator = create_user("facilitator")
    login(client, facilitator)
    session_copy, remember_copy = app.test_client(), app.test_client()
    session_copy.set_cookie("session", cookie(client, "session"))
    remember_copy.set_cookie(REMEMBER, cookie(client, REMEMBER))
    assert is_staff_in(session_copy)
    assert is_staff_in(remember_copy)
    logout(client, "/workshops")
    assert not is_staff_in(session_copy)
    assert not is_staff_in(remember_copy)


def test_logout_ends_only_that_login(app):
    organiser = create_user("organiser")
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, organiser)
    login(phone, organiser)
    logout(laptop, "/workshops")
    assert not is_staff_in(laptop)
    assert is_staff_in(phone)


def test_logging_in_on_a_browser_ends_the_login_it_replaces(app, client):
    workshop = create_workshop()
    join(client, workshop, create_organisation())
    delegate_remember = cookie(client, REMEMBER)
    login(client, create_user("facilitator"))
    stale = app.test_client()
    stale.set_cookie(REMEMBER, delegate_remember)
    assert not is_delegate_in(stale)
    assert login_count() == 1


# --- Tokens: random per login, stored hashed, old ids refused ---------------------------------


def test_login_ids_are_random_per_login_and_stored_hashed(app):
    organiser = create_user("organiser")
    first, second = app.test_client(), app.test_client()
    login(first, organiser)
    login(second, organiser)
    with first.session_transaction() as sess:
        first_id = sess["_user_id"]
    with second.session_transaction() as sess:
        second_id = sess["_user_id"]
    assert first_id != second_id
    assert first_id.startswith("s:")
    assert str(organiser.id) not in (first_id, second_id)
    token = first_id.removeprefix("s:")
    assert len(token) >= 32
    hashes = set(db.session.scalars(sa.select(LoginSession.token_hash)))
    assert hashlib.sha256(token.encode()).hexdigest() in hashes
    assert not any(token in h for h in hashes)


def test_old_style_ids_log_nobody_in(app):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    delegate = Delegate(workshop_id=workshop.id, name="Old", organisation=create_organisation())
    db.session.add(delegate)
    db.session.commit()
    for old_id, page in ((f"u:{organiser.id}", "/workshops"), (f"d:{delegate.id}", "/d"),
                         ("s:", "/workshops"), ("s:" + "x" * 500, "/workshops")):
        by_session = app.test_client()
        with by_session.session_transaction() as sess:
            sess["_user_id"] = old_id
            sess["_fresh"] = True
        assert by_session.get(page).status_code == 302, old_id
        by_remember = app.test_client()
        by_remember.set_cookie(REMEMBER, encode_cookie(old_id))
        assert by_remember.get(page).status_code == 302, old_id


# --- Ending every login of a person -----------------------------------------------------------


def test_ending_every_login_of_a_person_ends_all_of_them(app):
    organiser = create_user("organiser")
    other = create_user("organiser")
    browsers = [app.test_client() for _ in range(3)]
    for browser in browsers:
        login(browser, organiser)
    bystander = app.test_client()
    login(bystander, other)
    db.session.expire_all()
    assert end_all_logins(organiser) == 3
    assert not any(is_staff_in(browser) for browser in browsers)
    assert is_staff_in(bystander)
    assert end_all_logins(organiser) == 0


def test_renewing_an_invitation_logs_out_whoever_used_the_old_link(app):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    delegate, old = invite(workshop, organiser)
    leaked = app.test_client()
    leaked.get(f"/i/{old}")
    assert is_delegate_in(leaked)
    _, new = renew_invitation(organiser, workshop, delegate.id)
    assert not is_delegate_in(leaked)
    assert leaked.get(f"/i/{old}").status_code == 404
    fresh = app.test_client()
    fresh.get(f"/i/{new}")
    assert is_delegate_in(fresh)


# --- Sockets ----------------------------------------------------------------------------------


def test_logout_closes_the_sockets_of_that_login_at_once(app, client):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    login(client, facilitator)
    console = connect(app, client, workshop, f"/w/{workshop.id}/console")
    elsewhere = app.test_client()
    login(elsewhere, facilitator)
    other_login = connect(app, elsewhere, workshop, f"/w/{workshop.id}/console")
    logout(client, f"/w/{workshop.id}/console")
    assert not console.is_connected()
    assert "session.ended" in [m["name"] for m in console.queue]
    assert other_login.is_connected()  # a login of its own, not ended
    assert "session.ended" not in [m["name"] for m in other_login.get_received()]


def test_a_socket_whose_login_ended_elsewhere_is_refused_on_its_next_event(app, client):
    """The login ends where this process cannot disconnect the socket (another server
    process): the socket's next event loads nobody, is refused, and closes the socket."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    login(client, facilitator)
    console = connect(app, client, workshop, f"/w/{workshop.id}/console")
    payload = {"workshop_id": workshop.id, "step_id": workshop.steps[1].id}
    refused_once_logins_ended_elsewhere(console, "agenda.goto", payload)
    db.session.expire_all()
    assert workshop.current_step_id is None


def test_delegate_socket_closed_by_logout_counts_as_offline(app, client):
    workshop = create_workshop()
    join(client, workshop, create_organisation(), name="Rosa")
    phone = connect(app, client, workshop, "/d")
    delegate = db.session.scalar(sa.select(Delegate).where(Delegate.name == "Rosa"))
    db.session.refresh(delegate)
    assert delegate.connections == 1
    logout(client, "/d")
    assert not phone.is_connected()
    db.session.refresh(delegate)
    assert delegate.connections == 0


def test_a_socket_cannot_be_opened_with_an_ended_login(app, client):
    workshop = create_workshop()
    join(client, workshop, create_organisation())
    token = csrf_from(client.get("/d").get_data(as_text=True))
    remember = cookie(client, REMEMBER)
    session_cookie = cookie(client, "session")
    logout(client, "/d")
    client.set_cookie("session", session_cookie)
    client.set_cookie(REMEMBER, remember)
    sock = socketio.test_client(app, flask_test_client=client,
                                auth={"workshop": workshop.id, "csrf": token})
    assert not sock.is_connected()


def test_start_login_attaches_a_fresh_id(app):
    organiser = create_user("organiser")
    first = start_login(organiser)
    assert organiser.get_id() == first
    second = start_login(organiser)
    assert second != first
    assert organiser.get_id() == second
    assert login_count() == 2


def test_passwords_are_stored_as_scrypt_at_the_configured_cost(app):
    """Production keeps Werkzeug's full scrypt cost; only the tests' configuration lowers it,
    and a hash of either cost is checked by what it says it is."""
    from config import Config

    assert Config.PASSWORD_HASH_METHOD == "scrypt"
    user = create_user()
    assert user.password_hash.startswith("scrypt:1024:8:1$")
    user.set_password("a long passphrase")
    assert user.check_password("a long passphrase")
    assert not user.check_password("a long passphrase ")
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    user.set_password("another passphrase")
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    assert user.check_password("another passphrase")


def test_a_phones_step_is_read_with_its_login_in_one_query(app, client):
    """The loader brings the delegate's workshop and its current step with the login: a step
    part with nothing of its own to read (the welcome step) costs one query."""
    workshop = create_workshop(steps=3)
    go_to_kind(workshop, "welcome")
    join(client, workshop, create_organisation(), name="Thandiwe")
    db.session.remove()  # the request starts with nothing held, as on a server
    selects: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = client.get("/d/step")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert page.status_code == 200
    assert len(selects) == 1, selects
