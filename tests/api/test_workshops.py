"""Workshops, agenda, organisations and delegates through the API, checked in the database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.api.conftest import bearer
from tests.helpers import create_organisation
from workshop.agenda.delegates import accept_invitation
from workshop.agenda.models import Delegate, Organisation, Step, Workshop
from workshop.audit.models import AuditEntry
from workshop.extensions import db

NEW_WORKSHOP = {"title": "Dakar 2027", "kind": "face_to_face", "starts_on": "2027-05-03",
                "ends_on": "2027-05-05", "default_locale": "fr", "place": "Dakar"}


@pytest.fixture
def org_auth(world):
    return bearer(world.organiser)


def test_list_workshops_shows_what_the_token_reaches(client, world, org_auth):
    ids = [w["id"] for w in client.get("/api/v1/workshops", headers=org_auth).get_json()]
    assert set(ids) == {world.workshop.id, world.other.id}
    facilitator = client.get("/api/v1/workshops", headers=bearer(world.facilitator)).get_json()
    assert [w["id"] for w in facilitator] == [world.workshop.id]
    limited = client.get("/api/v1/workshops",
                         headers=bearer(world.organiser, world.other)).get_json()
    assert [w["id"] for w in limited] == [world.other.id]


def test_create_workshop(client, world, org_auth):
    response = client.post("/api/v1/workshops", json=NEW_WORKSHOP, headers=org_auth)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    stored = db.session.get(Workshop, body["id"])
    assert (stored.title, stored.place, stored.default_locale) == ("Dakar 2027", "Dakar", "fr")
    assert stored.created_by_id == world.organiser.id
    assert body["join_code"] == stored.join_code
    assert body["join_url"].endswith(f"/j/{stored.join_code}")
    assert db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.operation == "workshop.create", AuditEntry.workshop_id == stored.id))


def test_get_and_update_workshop(client, world, org_auth):
    url = f"/api/v1/workshops/{world.workshop.id}"
    assert client.get(url, headers=org_auth).get_json()["title"] == world.workshop.title
    response = client.put(url, json={**NEW_WORKSHOP, "title": "Renamed", "voting_register": True},
                          headers=org_auth)
    assert response.status_code == 200, response.get_json()
    db.session.refresh(world.workshop)
    assert world.workshop.title == "Renamed"
    assert world.workshop.voting_register


def test_agenda_list_add_edit_and_go_to(client, world, org_auth):
    base = f"/api/v1/workshops/{world.workshop.id}/steps"
    steps = client.get(base, headers=org_auth).get_json()
    assert [s["id"] for s in steps] == [s.id for s in world.workshop.steps]

    added = client.post(base, json={"kind": "vote", "title": "Final vote",
                                    "duration_minutes": 20}, headers=org_auth)
    assert added.status_code == 201
    step = db.session.get(Step, added.get_json()["id"])
    assert (step.title, step.duration_seconds, step.position) == ("Final vote", 1200, 7)

    edited = client.put(f"{base}/{step.id}", json={"kind": "results", "title": "Results"},
                        headers=org_auth)
    assert edited.get_json()["kind"] == "results"
    db.session.refresh(step)
    assert (step.kind, step.duration_seconds) == ("results", None)

    # A facilitator drives the workshop: going to a step is theirs too.
    moved = client.post(f"{base}/{step.id}/goto", headers=bearer(world.facilitator))
    assert moved.status_code == 200
    assert moved.get_json()["current"] is True
    db.session.refresh(world.workshop)
    assert world.workshop.current_step_id == step.id


def test_unknown_step_is_404(client, world, org_auth):
    response = client.post(f"/api/v1/workshops/{world.workshop.id}/steps/999999/goto",
                           headers=org_auth)
    assert response.status_code == 404
    assert response.get_json()["errors"] == {"step_id": "Unknown step."}


def test_organisations_list_and_create(client, world, org_auth):
    listed = client.get("/api/v1/organisations", headers=bearer(world.facilitator)).get_json()
    assert world.organisation.id in [o["id"] for o in listed]
    created = client.post("/api/v1/organisations", headers=org_auth, json={
        "name": "CGT Senegal", "country": "Senegal", "region": "west_africa",
        "type": "trade_union"})
    assert created.status_code == 201
    assert db.session.get(Organisation, created.get_json()["id"]).name == "CGT Senegal"
    again = client.post("/api/v1/organisations", headers=org_auth, json={
        "name": "CGT Senegal", "country": "Senegal", "region": "west_africa",
        "type": "trade_union"})
    assert again.status_code == 409
    assert again.get_json()["errors"] == {"name": "This name is taken."}


def test_delegates_list_and_invite_one(client, world, org_auth):
    base = f"/api/v1/workshops/{world.workshop.id}/delegates"
    names = [d["name"] for d in client.get(base, headers=bearer(world.facilitator)).get_json()]
    assert "Sita" in names
    response = client.post(base, headers=org_auth, json={
        "name": "Kofi", "organisation_id": world.organisation.id, "locale": "fr"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["invite_url"].endswith(f"/i/{body['token']}")
    delegate = accept_invitation(body["token"])  # the link works
    assert delegate.id == body["delegate"]["id"]
    assert delegate.name == "Kofi"
    assert delegate.admitted
    assert delegate.locale == "fr"


def test_bulk_import_invites_everyone(client, world, org_auth):
    second = create_organisation(region="west_africa")
    rows = [{"name": f"Invitee {i}", "organisation_id": (world.organisation.id, second.id)[i % 2]}
            for i in range(5)]
    response = client.post(f"/api/v1/workshops/{world.workshop.id}/delegates/import",
                           json=rows, headers=org_auth)
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert [m["delegate"]["name"] for m in made] == [r["name"] for r in rows]
    assert len({m["token"] for m in made}) == 5
    stored = db.session.scalars(sa.select(Delegate).where(
        Delegate.workshop_id == world.workshop.id, Delegate.name.like("Invitee %"))).all()
    assert len(stored) == 5
    assert all(d.invite_token_hash for d in stored)


def test_bulk_import_with_bad_rows_invites_nobody(client, world, org_auth):
    before = db.session.scalar(sa.select(sa.func.count(Delegate.id)))
    rows = [{"name": "Fine", "organisation_id": world.organisation.id},
            {"name": "", "organisation_id": world.organisation.id},
            {"name": "Unknown org", "organisation_id": 987654},
            {"name": "Extra", "organisation_id": world.organisation.id, "email": "x@y.z"}]
    response = client.post(f"/api/v1/workshops/{world.workshop.id}/delegates/import",
                           json=rows, headers=org_auth)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == {
        "1.name": "This field is required.",
        "3.email": "This field is not expected.",
    }
    # Shape first; once every row has the right shape, unknown organisations are named too.
    rows = [rows[0], rows[2]]
    response = client.post(f"/api/v1/workshops/{world.workshop.id}/delegates/import",
                           json=rows, headers=org_auth)
    assert response.get_json()["errors"] == {
        "1.organisation_id": "Choose an organisation from the list."}
    assert db.session.scalar(sa.select(sa.func.count(Delegate.id))) == before


def test_bulk_import_needs_a_list(client, world, org_auth):
    url = f"/api/v1/workshops/{world.workshop.id}/delegates/import"
    for payload in ({"name": "x"}, []):
        response = client.post(url, json=payload, headers=org_auth)
        assert response.status_code == 422
        assert "payload" in response.get_json()["errors"]


def test_exports_asked_for_in_no_language_are_in_the_workshops(client, world, org_auth):
    world.workshop.default_locale = "fr"
    db.session.commit()
    url = f"/api/v1/workshops/{world.workshop.id}/exports/all.json"
    doc = client.get(url, headers=org_auth).get_json()  # a script: no Accept-Language
    assert doc["language"] == "fr"
    assert doc["tables"]["delegates"]["title"] == "Délégués"
    english = client.get(url, headers={**org_auth, "Accept-Language": "en"}).get_json()
    assert english["language"] == "en"
    # Each table alone too (a CSV starts with its headings).
    assert client.get(f"/api/v1/workshops/{world.workshop.id}/exports/delegates.csv",
                      headers=org_auth).data.decode("utf-8-sig").startswith("Identifiant,Nom,")
