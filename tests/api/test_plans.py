"""Action plans through the API: list, one plan with its fields, and edits by version."""

from __future__ import annotations

from tests.api.conftest import bearer
from tests.helpers import edit_plan
from workshop.extensions import db
from workshop.plans.models import PlanChange


def _field(plan, key):
    db.session.refresh(plan)
    return next(f for f in plan.fields if f.key == key)


def test_list_and_get_a_plan(client, world):
    auth = bearer(world.facilitator)
    listed = client.get(f"/api/v1/workshops/{world.workshop.id}/plans", headers=auth).get_json()
    assert [p["id"] for p in listed][0] == world.plan.id
    assert listed[0]["total"] > listed[0]["filled"] > 0
    plan = client.get(f"/api/v1/workshops/{world.workshop.id}/plans/{world.plan.id}",
                      headers=auth).get_json()
    assert plan["fields"]["title"]["value"] == world.plan.title
    assert plan["fields"]["title"]["version"] == 1
    assert plan["fields"]["objective"] == {"value": "", "version": 0, "by": "", "at": None}
    keys = {f["key"] for s in plan["sections"] for f in s["fields"]}
    assert set(plan["fields"]) <= keys
    assert "objective" in keys
    assert plan["vote"]["rank"] == 1


def test_edit_a_field_then_merge_then_conflict(client, world):
    url = f"/api/v1/workshops/{world.workshop.id}/plans/{world.plan.id}/edits"
    auth = bearer(world.organiser)
    first = client.post(url, headers=auth, json={
        "field": "objective", "base_version": 0, "value": "Decent work for all by 2031.",
        "edit_id": "api-edit-0001"})
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["version"] == 1
    assert _field(world.plan, "objective").value == "Decent work for all by 2031."
    change = db.session.query(PlanChange).filter_by(edit_id="api-edit-0001").one()
    assert change.author_name == world.organiser.name

    # The same edit again (a retry) is stored once.
    retry = client.post(url, headers=auth, json={
        "field": "objective", "base_version": 0, "value": "Decent work for all by 2031.",
        "edit_id": "api-edit-0001"})
    assert retry.get_json()["duplicate"] is True

    # Someone else wrote meanwhile, elsewhere in the text: both changes are kept.
    edit_plan(world.facilitator, world.plan, "objective", "Decent work for all by 2031. Now.")
    merged = client.post(url, headers=auth, json={
        "field": "objective", "base_version": 1, "value": "Social protection for all by 2031."})
    assert merged.get_json()["merged"] is True
    assert _field(world.plan, "objective").value == "Social protection for all by 2031. Now."

    # The same words changed two ways: nothing is stored, both versions are in the answer.
    conflict = client.post(url, headers=auth, json={
        "field": "objective", "base_version": 1, "value": "Decent jobs for all by 2031."})
    assert conflict.status_code == 409
    assert conflict.mimetype == "application/problem+json"
    assert conflict.get_json()["current"]["value"] == "Social protection for all by 2031. Now."
    assert conflict.get_json()["errors"] == {"value": "Changed by someone else meanwhile."}


def test_edit_with_a_wrong_body_names_the_field(client, world):
    url = f"/api/v1/workshops/{world.workshop.id}/plans/{world.plan.id}/edits"
    response = client.post(url, headers=bearer(world.organiser),
                           json={"field": "objective", "value": 12})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors["base_version"] == "This field is required."
    # `value` is text or a list: the shared schema layer names the field with each shape.
    assert {path.split(".")[0] for path in errors} == {"base_version", "value"}
    unknown = client.post(url, headers=bearer(world.organiser),
                          json={"field": "nope", "base_version": 0, "value": "x"})
    assert unknown.get_json()["errors"] == {"field": "This plan has no such field."}
