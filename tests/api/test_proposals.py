"""Proposals through the API: lines of work as staff see them, and file imports."""

from __future__ import annotations

import io

import sqlalchemy as sa

from tests.api.conftest import bearer
from tests.helpers import create_delegate, create_proposal
from tests.proposals.test_import import GOOD, HEADER, csv_bytes, xlsx_bytes
from workshop.extensions import db
from workshop.proposals.models import Proposal
from workshop.proposals.schemas import MergeIn
from workshop.proposals.services import hide_proposal, merge_proposals, set_support


def _count(workshop) -> int:
    return db.session.scalar(sa.select(sa.func.count(Proposal.id)).where(
        Proposal.workshop_id == workshop.id))


def test_list_and_get_lines_of_work(client, world):
    a = create_proposal(world.workshop, title="Living wages")
    b = create_proposal(world.workshop, title="Minimum wages")
    supporter = create_delegate(world.workshop)
    set_support(supporter, world.workshop, a.id, True)
    merged = merge_proposals(world.organiser, world.workshop, MergeIn(
        proposal_ids=[a.id, b.id], title="Wages"))
    hide_proposal(world.organiser, world.workshop, world.plan.proposal_id, True, "off topic")
    auth = bearer(world.facilitator)

    lines = client.get(f"/api/v1/workshops/{world.workshop.id}/proposals", headers=auth)
    assert lines.status_code == 200
    by_id = {line["id"]: line for line in lines.get_json()}
    assert a.id not in by_id
    assert b.id not in by_id
    assert sorted(by_id[merged.id]["members"]) == sorted([merged.id, a.id, b.id])
    assert by_id[merged.id]["supporters"] == 1
    assert by_id[world.plan.proposal_id]["hidden"] is True
    assert by_id[world.plan.proposal_id]["hidden_reason"] == "off topic"

    one = client.get(f"/api/v1/workshops/{world.workshop.id}/proposals/{a.id}", headers=auth)
    assert one.status_code == 200
    assert one.get_json()["id"] == merged.id
    missing = client.get(f"/api/v1/workshops/{world.workshop.id}/proposals/999999",
                         headers=auth)
    assert missing.status_code == 404


def test_import_a_csv_file(client, world):
    before = _count(world.workshop)
    response = client.post(
        f"/api/v1/workshops/{world.workshop.id}/proposals/import", headers=bearer(world.organiser),
        data={"file": (io.BytesIO(csv_bytes([HEADER, GOOD[0]])), "input.csv")})
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"imported": 1}
    assert _count(world.workshop) == before + 1
    imported = db.session.scalar(sa.select(Proposal).where(
        Proposal.title == "Social protection floors"))
    assert (imported.source, imported.country, imported.region) == ("import", "Nepal", "asia")


def test_import_an_xlsx_file(client, world):
    response = client.post(
        f"/api/v1/workshops/{world.workshop.id}/proposals/import", headers=bearer(world.organiser),
        data={"file": (io.BytesIO(xlsx_bytes([HEADER, GOOD[0]])), "input.xlsx")})
    assert response.status_code == 201
    assert response.get_json() == {"imported": 1}


def test_a_file_with_one_bad_row_imports_nothing(client, world):
    before = _count(world.workshop)
    bad = ["No theme", "", "not_a_theme", "national", "", "Nepal", "en"]
    response = client.post(
        f"/api/v1/workshops/{world.workshop.id}/proposals/import", headers=bearer(world.organiser),
        data={"file": (io.BytesIO(csv_bytes([HEADER, GOOD[0], bad])), "input.csv")})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == {"3.theme": "Choose one of the offered values."}
    assert _count(world.workshop) == before


def test_import_needs_a_file(client, world):
    response = client.post(f"/api/v1/workshops/{world.workshop.id}/proposals/import",
                           headers=bearer(world.organiser), data={})
    assert response.status_code == 422
    assert "file" in response.get_json()["errors"]
