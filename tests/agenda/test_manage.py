"""Organisers' and facilitators' pages: forms, permissions, bad input."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.helpers import (
    create_delegate,
    create_organisation,
    create_user,
    create_workshop,
    csrf_from,
    join,
    login,
)
from workshop.agenda.models import Organisation, Step, Workshop
from workshop.extensions import db


def post_form(client, page_url: str, url: str, data: dict):
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_organiser_creates_a_workshop_and_its_agenda(client):
    login(client, create_user("organiser"))
    response = post_form(client, "/workshops/new", "/workshops/new", {
        "title": "Asia regional", "kind": "virtual", "starts_on": "2027-02-01",
        "ends_on": "2027-02-03", "default_locale": "fr"})
    assert response.status_code == 302
    workshop = db.session.scalar(sa.select(Workshop))
    assert workshop.title == "Asia regional"
    assert len(workshop.join_code) == 6
    manage = f"/w/{workshop.id}/manage"
    response = post_form(client, manage, f"/w/{workshop.id}/steps", {
        "kind": "propose", "title": "Proposals", "body": "", "duration_minutes": "20"})
    assert response.status_code == 302
    step = db.session.scalar(sa.select(Step))
    assert (step.kind, step.duration_seconds) == ("propose", 1200)
    assert "Proposals" in client.get(f"/w/{workshop.id}/console").get_data(as_text=True)


def test_bad_workshop_form_names_each_field_and_saves_nothing(client):
    login(client, create_user("organiser"))
    response = post_form(client, "/workshops/new", "/workshops/new", {
        "title": "", "kind": "party", "starts_on": "2027-02-10", "ends_on": "2027-02-01"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    for field in ("title", "kind", "ends_on"):
        assert f'id="{field}-error"' in body, field
    assert "cannot end before it starts" in body
    assert count(Workshop) == 0


def test_bad_step_form_is_refused(client):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser, steps=0)
    login(client, organiser)
    manage = f"/w/{workshop.id}/manage"
    for data, field in (({"kind": "nap", "title": "x"}, "kind"),
                        ({"kind": "vote", "title": "x" * 201}, "title"),
                        ({"kind": "vote", "title": "x", "duration_minutes": "-5"},
                         "duration_minutes"),
                        ({"kind": "vote", "title": "x", "duration_minutes": "soon"},
                         "duration_minutes")):
        response = post_form(client, manage, f"/w/{workshop.id}/steps", data)
        assert response.status_code == 422
        assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert count(Step) == 0


def test_forms_without_csrf_token_change_nothing(client):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser, steps=2)
    login(client, organiser)
    response = client.post(f"/w/{workshop.id}/goto/{workshop.steps[1].id}")
    assert response.status_code == 400
    response = client.post(f"/w/{workshop.id}/steps", data={"kind": "vote", "title": "x"})
    assert response.status_code == 400
    db.session.expire_all()
    assert workshop.current_step_id is None
    assert len(workshop.steps) == 2


def test_facilitator_drives_but_cannot_prepare(client):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    login(client, facilitator)
    console = f"/w/{workshop.id}/console"
    assert client.get(console).status_code == 200
    response = post_form(client, console, f"/w/{workshop.id}/goto/{workshop.steps[2].id}", {})
    assert response.status_code == 302
    db.session.expire_all()
    assert workshop.current_step_id == workshop.steps[2].id
    assert client.get(f"/w/{workshop.id}/manage").status_code == 403
    assert client.get(f"/w/{workshop.id}/audit").status_code == 403
    response = post_form(client, console, f"/w/{workshop.id}/steps",
                         {"kind": "vote", "title": "Sneaky"})
    assert response.status_code == 403
    assert client.get("/workshops/new").status_code == 403


def test_unassigned_facilitator_and_delegates_are_kept_out(client, app):
    workshop = create_workshop(facilitator=create_user("facilitator"))
    login(client, create_user("facilitator"))
    assert client.get(f"/w/{workshop.id}/console").status_code == 403
    phone = app.test_client()
    join(phone, workshop, create_organisation())
    assert phone.get(f"/w/{workshop.id}/console").status_code == 403
    assert phone.get("/workshops").status_code == 403
    assert phone.get(f"/w/{workshop.id}/projector").status_code == 403


def test_anonymous_staff_pages_redirect_to_login(client):
    workshop = create_workshop()
    response = client.get(f"/w/{workshop.id}/console")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_timer_form_fallback_and_unknown_action(client):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator)
    login(client, facilitator)
    console = f"/w/{workshop.id}/console"
    post_form(client, console, f"/w/{workshop.id}/goto/{workshop.steps[0].id}", {})
    response = post_form(client, console, f"/w/{workshop.id}/timer/start", {"seconds": "300"})
    assert response.status_code == 302
    db.session.expire_all()
    assert workshop.steps[0].timer_ends_at is not None
    response = post_form(client, console, f"/w/{workshop.id}/timer/start", {"seconds": "many"})
    assert response.status_code == 422
    response = post_form(client, console, f"/w/{workshop.id}/timer/explode", {})
    assert response.status_code == 404


def test_projector_key_opens_the_projector_only_for_its_workshop(client):
    workshop = create_workshop()
    other = create_workshop()
    assert client.get(f"/w/{workshop.id}/projector?key=wrong").status_code == 403
    page = client.get(f"/w/{workshop.id}/projector?key={workshop.projector_key}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert workshop.join_code in html
    assert "<svg" in html
    assert client.get(f"/w/{other.id}/projector").status_code == 403
    assert client.get(f"/w/{other.id}/projector?key={workshop.projector_key}").status_code == 403


def test_login_with_wrong_password_is_refused(client):
    user = create_user("organiser")
    response = login(client, user, password="wrong password")
    assert response.status_code == 422
    assert "Wrong e-mail or password" in response.get_data(as_text=True)
    assert client.get("/workshops").status_code == 302


def test_login_next_cannot_leave_the_site(client):
    user = create_user("organiser")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": "correct horse battery",
                                           "next": "//evil.example/x", "csrf_token": token})
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]


def test_duplicate_organisation_name_is_refused(client):
    login(client, create_user("organiser"))
    create_organisation(name="CNTS")
    response = post_form(client, "/organisations", "/organisations", {
        "name": "CNTS", "country": "Senegal", "region": "west_africa", "type": "trade_union"})
    assert response.status_code == 422
    assert 'id="name-error"' in response.get_data(as_text=True)
    assert count(Organisation) == 1


def test_user_text_is_escaped_on_every_page(client, app):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    evil = "<script>alert(1)</script>"
    create_delegate(workshop, name=evil)
    login(client, organiser)
    for url in (f"/w/{workshop.id}/console", f"/w/{workshop.id}/manage"):
        html = client.get(url).get_data(as_text=True)
        assert evil not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_audit_log_lists_actions_for_organisers(client):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser, steps=1)
    login(client, organiser)
    html = client.get(f"/w/{workshop.id}/audit").get_data(as_text=True)
    assert "workshop.create" in html
    assert "agenda.edit" in html


def test_the_projector_speaks_the_workshops_language_and_each_screen_can_switch(client):
    workshop = create_workshop()
    workshop.default_locale = "fr"
    db.session.commit()
    projector = f"/w/{workshop.id}/projector?key={workshop.projector_key}"
    english_browser = {"Accept-Language": "en-GB,en;q=0.9"}

    html = client.get(projector, headers=english_browser).get_data(as_text=True)
    assert "Rejoignez l'atelier sur" in html
    assert "Join at" not in html

    html = client.get(projector + "&lang=es", headers=english_browser).get_data(as_text=True)
    assert "Únase en" in html
    # The switch holds for this screen (its step part too), not for the browser's own pages.
    step = client.get(f"/w/{workshop.id}/projector/step", headers=english_browser)
    assert step.status_code == 200
    again = client.get(projector, headers=english_browser).get_data(as_text=True)
    assert "Únase en" in again
    landing = client.get("/", headers=english_browser).get_data(as_text=True)
    assert 'lang="en"' in landing


def test_the_console_opens_the_projector_in_any_of_the_four_languages(client):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=1)
    login(client, facilitator)
    html = client.get(f"/w/{workshop.id}/console").get_data(as_text=True)
    links = dict(re.findall(r'<a href="([^"]*projector\?[^"]*)"[^>]*data-lang="(\w+)"', html))
    assert sorted(links.values()) == ["en", "es", "fr", "nl"]
    french = next(url for url, lang in links.items() if lang == "fr").replace("&amp;", "&")
    assert f"key={workshop.projector_key}" in french
    screen = client.application.test_client()
    assert "Rejoignez l'atelier sur" in screen.get(french).get_data(as_text=True)
