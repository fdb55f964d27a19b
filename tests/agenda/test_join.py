"""Joining from a phone: by code, by invitation, and every way it can go wrong."""

from __future__ import annotations

import sqlalchemy as sa

from tests.helpers import (
    create_delegate,
    create_organisation,
    create_user,
    create_workshop,
    csrf_from,
    invite,
    join,
)
from workshop.agenda.models import Delegate
from workshop.audit.models import AuditEntry
from workshop.extensions import db


def delegate_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Delegate.id)))


def test_join_by_code_logs_the_delegate_in(client):
    workshop = create_workshop()
    org = create_organisation(region="asia", country="Nepal")
    response = join(client, workshop, org, name="Sita")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/d")
    page = client.get("/d").get_data(as_text=True)
    assert "Sita" in page
    assert workshop.title in page
    delegate = db.session.scalar(sa.select(Delegate))
    assert delegate.organisation_id == org.id
    assert delegate.joined_at is not None


def test_join_code_is_forgiving_about_case_and_dashes(client):
    workshop = create_workshop()
    code = workshop.join_code.lower()
    typed = f"{code[:3]}-{code[3:]}"
    page = client.get("/").get_data(as_text=True)
    response = client.post("/", data={"code": typed, "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/j/{workshop.join_code}")


def test_unknown_join_code_says_so_and_creates_nothing(client):
    create_workshop()
    page = client.get("/").get_data(as_text=True)
    response = client.post("/", data={"code": "ZZZZZZ", "csrf_token": csrf_from(page)})
    assert response.status_code == 422
    assert "No workshop has this code" in response.get_data(as_text=True)
    assert client.get("/j/ZZZZZZ").status_code == 404
    assert delegate_count() == 0


def test_empty_and_huge_names_are_refused_with_the_field_named(client):
    workshop = create_workshop()
    org = create_organisation()
    for name, message in (("", "This field is required."),
                          ("   ", "This field is required."),
                          ("x" * 10_000, "Enter at most 120 characters.")):
        response = join(client, workshop, org, name=name)
        assert response.status_code == 422
        body = response.get_data(as_text=True)
        assert 'id="name-error"' in body
        assert message in body
    assert delegate_count() == 0


def test_unknown_organisation_is_refused(client):
    workshop = create_workshop()
    page = client.get(f"/j/{workshop.join_code}").get_data(as_text=True)
    response = client.post(f"/j/{workshop.join_code}", data={
        "name": "Ana", "organisation_id": "9999", "csrf_token": csrf_from(page)})
    assert response.status_code == 422
    assert 'id="organisation_id-error"' in response.get_data(as_text=True)
    response = client.post(f"/j/{workshop.join_code}", data={
        "name": "Ana", "organisation_id": "abc", "csrf_token": csrf_from(page)})
    assert response.status_code == 422
    assert delegate_count() == 0


def test_join_without_csrf_token_is_refused(client):
    workshop = create_workshop()
    org = create_organisation()
    response = client.post(f"/j/{workshop.join_code}",
                           data={"name": "Ana", "organisation_id": str(org.id)})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert delegate_count() == 0


def test_invitation_link_logs_the_delegate_in_as_themselves(client):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    delegate, token = invite(workshop, organiser, name="Jean-Pierre")
    assert delegate.joined_at is None
    response = client.get(f"/i/{token}")
    # The live page at once (no redirect: a round trip less on a slow link), never cached.
    assert response.status_code == 200
    assert "Jean-Pierre" in response.get_data(as_text=True)
    assert 'data-address="/d"' in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Jean-Pierre" in client.get("/d").get_data(as_text=True)
    db.session.refresh(delegate)
    assert delegate.joined_at is not None
    # Opening the link again is the same person, not a new delegate.
    client.get(f"/i/{token}")
    assert delegate_count() == 1


def test_an_invitation_opens_in_the_delegates_language_whatever_the_browser_had(client):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    delegate, token = invite(workshop, organiser, name="Aminata")
    delegate.locale = "fr"
    db.session.commit()
    client.get("/?lang=es")  # the browser was on Spanish before
    page = client.get(f"/i/{token}").get_data(as_text=True)
    assert "Connexion…" in page
    assert '<html lang="fr">' in page


def test_forged_invitation_token_is_refused(client):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    _, token = invite(workshop, organiser)
    for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x", "a" * 300):
        response = client.get(f"/i/{forged}")
        assert response.status_code == 404
        assert "invitation link is not valid" in response.get_data(as_text=True)
    assert client.get("/d").status_code == 302  # still nobody


def test_renewed_invitation_replaces_the_old_link(client):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    delegate, old = invite(workshop, organiser)
    from workshop.agenda.delegates import renew_invitation

    _, new = renew_invitation(organiser, workshop, delegate.id)
    assert client.get(f"/i/{old}").status_code == 404
    assert client.get(f"/i/{new}").status_code == 200


def test_reopening_the_page_keeps_the_identity(client):
    workshop = create_workshop()
    join(client, workshop, create_organisation(), name="Rosa")
    for _ in range(3):
        assert "Rosa" in client.get("/d").get_data(as_text=True)
    assert client.get(f"/j/{workshop.join_code}").headers["Location"].endswith("/d")
    assert delegate_count() == 1


def test_tampered_session_cookie_is_anonymous_not_an_error(client, app):
    workshop = create_workshop()
    join(client, workshop, create_organisation(), name="Rosa")
    cookie = client.get_cookie("session")
    assert cookie is not None
    client.set_cookie("session", cookie.value[:-4] + "AAAA")
    client.delete_cookie("remember_token")
    response = client.get("/d")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/")


def test_join_is_audited(client):
    workshop = create_workshop()
    create_delegate(workshop)
    ops = db.session.scalars(sa.select(AuditEntry.operation)).all()
    assert "delegate.join" in ops
