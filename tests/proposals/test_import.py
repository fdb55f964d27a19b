"""Importing input priorities from real CSV and XLSX files: all rows or none."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import create_organisation, create_user, create_workshop, csrf_from, login
from tests.registration.files import csv_file, xlsx_file
from workshop.errors import PermissionDenied, ValidationFailed
from workshop.extensions import db
from workshop.proposals import importing
from workshop.proposals.models import Proposal

HEADER = ["title", "description", "theme", "level", "organisation", "country", "language"]
GOOD = [
    ["Social protection floors", "Extend coverage", "health_protection", "national", "", "Nepal",
     "en"],
    ["Dialogue social", "Renforcer", "Social dialogue and civic space", "continental",
     "CNTS Sénégal", "", "fr"],
]


# The same real CSV and XLSX bytes the registration tests use.
csv_bytes, xlsx_bytes = csv_file, xlsx_file


def proposal_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Proposal.id)))


@pytest.fixture
def setting(app):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    create_organisation(name="CNTS Sénégal", country="Senegal", region="west_africa")
    return organiser, workshop


@pytest.mark.parametrize(("name", "maker"),
                         [("inputs.csv", csv_bytes), ("inputs.xlsx", xlsx_bytes)])
def test_good_file_imports_every_row(setting, name, maker):
    organiser, workshop = setting
    data = maker([HEADER, *GOOD])
    assert importing.preview(name, data).ok
    assert importing.import_proposals(organiser, workshop, name, data) == 2
    rows = db.session.scalars(sa.select(Proposal).order_by(Proposal.id)).all()
    assert [(p.title, p.region, p.language, p.source) for p in rows] == [
        ("Social protection floors", "asia", "en", "import"),
        ("Dialogue social", "west_africa", "fr", "import"),
    ]
    assert rows[1].theme == "social_dialogue"


@pytest.mark.parametrize(("name", "maker"), [("bad.csv", csv_bytes), ("bad.xlsx", xlsx_bytes)])
def test_bad_rows_are_reported_one_by_one_and_nothing_is_imported(setting, name, maker):
    organiser, workshop = setting
    rows = [HEADER, *GOOD,
            ["", "no title", "decent_work", "national", "", "Peru", "es"],
            ["Unknown theme", "", "astrology", "national", "", "Peru", "es"],
            ["Huge", "x" * 50_000, "decent_work", "national", "", "Peru", "es"],
            ["Nowhere", "", "decent_work", "national", "", "Atlantis", "es"],
            ["Ghost org", "", "decent_work", "national", "No Such Org", "", "es"],
            ["Klingon", "", "decent_work", "national", "", "Peru", "tlh"]]
    data = maker(rows)
    checked = importing.preview(name, data)
    found = {(e.row, e.field) for e in checked.errors}
    assert found == {(4, "title"), (5, "theme"), (6, "description"), (7, "country"),
                     (8, "organisation"), (9, "language")}
    with pytest.raises(ValidationFailed):
        importing.import_proposals(organiser, workshop, name, data)
    assert proposal_count() == 0


def test_wrong_encoding_is_named(setting):
    organiser, workshop = setting
    data = csv_bytes([HEADER, ["Protección social", "", "decent_work", "national", "", "Peru",
                               "es"]], encoding="latin-1")
    checked = importing.preview("latin1.csv", data)
    assert not checked.ok
    assert "UTF-8" in checked.errors[0].message
    assert proposal_count() == 0


def test_missing_columns_and_junk_files(setting):
    checked = importing.preview("x.csv", csv_bytes([["title", "theme"], ["a", "b"]]))
    assert {e.field for e in checked.errors} >= {"level", "language", "organisation"}
    assert not importing.preview("x.xlsx", b"not a zip").ok
    assert not importing.preview("x.pdf", b"%PDF").ok
    assert not importing.preview("x.csv", b"").ok


def test_only_organisers_import(setting):
    _, workshop = setting
    facilitator = create_user("facilitator")
    with pytest.raises(PermissionDenied):
        importing.import_proposals(facilitator, workshop, "a.csv", csv_bytes([HEADER, *GOOD]))
    assert proposal_count() == 0


def test_import_page_previews_then_imports(client, setting):
    organiser, workshop = setting
    login(client, organiser)
    url = f"/w/{workshop.id}/proposals/import"
    token = csrf_from(client.get(url).get_data(as_text=True))
    page = client.post(url, data={"csrf_token": token, "action": "preview",
                                  "file": (io.BytesIO(csv_bytes([HEADER, *GOOD])), "in.csv")},
                       content_type="multipart/form-data")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Social protection floors" in html
    assert proposal_count() == 0
    content = re.search(r'name="content" value="([^"]+)"', html).group(1)
    done = client.post(url, data={"csrf_token": token, "action": "import",
                                  "filename": "in.csv", "content": content})
    assert done.status_code == 302
    assert proposal_count() == 2


def test_import_page_lists_errors(client, setting):
    organiser, workshop = setting
    login(client, organiser)
    url = f"/w/{workshop.id}/proposals/import"
    token = csrf_from(client.get(url).get_data(as_text=True))
    bad = csv_bytes([HEADER, ["", "", "astrology", "national", "", "Peru", "es"]])
    page = client.post(url, data={"csrf_token": token, "action": "import",
                                  "file": (io.BytesIO(bad), "bad.csv")},
                       content_type="multipart/form-data")
    assert page.status_code == 422
    assert 'id="import-errors"' in page.get_data(as_text=True)
    assert proposal_count() == 0


@pytest.mark.parametrize(("written", "country", "region"), [
    ("Népal", "Nepal", "asia"), ("Bolivie", "Bolivia", "latin_america"),
    ("República Dominicana", "Dominican Republic", "latin_america"),
    ("Kameroen", "Cameroon", "central_africa")])
def test_a_consultations_country_may_be_named_in_any_of_the_four_languages(setting, written,
                                                                         country, region):
    organiser, workshop = setting
    data = csv_bytes([HEADER, ["Trabajo decente", "", "decent_work", "national", "", written,
                               "es"]])
    assert importing.import_proposals(organiser, workshop, "inputs.csv", data) == 1
    proposal = db.session.scalars(sa.select(Proposal)).one()
    assert (proposal.country, proposal.region) == (country, region)


def test_the_example_file_offered_on_the_page_imports_as_it_is(setting):
    organiser, workshop = setting
    example = Path(__file__).resolve().parents[2] / "static" / "examples" / "proposals.csv"
    assert importing.import_proposals(organiser, workshop, "proposals.csv",
                                      example.read_bytes()) == 3
    rows = db.session.scalars(sa.select(Proposal).order_by(Proposal.id)).all()
    assert [p.country for p in rows] == ["Nepal", "Senegal", "Bolivia"]
