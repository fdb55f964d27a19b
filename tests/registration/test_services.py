"""Registering delegates from real CSV and XLSX files: all rows or none, errors by row and
column, any script in names, links that can be exported safely, withdrawn and re-issued."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import create_delegate, create_organisation, create_user, create_workshop
from tests.registration.files import HEADER, csv_file, xlsx_file
from workshop.agenda import delegates as delegate_services
from workshop.agenda.models import Delegate, Organisation
from workshop.audit.models import AuditEntry
from workshop.auth.models import LoginSession
from workshop.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from workshop.extensions import db
from workshop.registration import documents, services
from workshop.registration.schemas import IssuedLink

GOOD = [
    ["Amina Diallo", "amina@example.org", "cnts sénégal", "", "", "", "fr"],
    ["José Ñandú Pérez", "", "Mutual de Salud Bolivia", "Bolivia", "", "Mutuelle de santé",
     "Español"],
    ["सीता शर्मा", "sita@example.org", "Nepal Women Forum", "Nepal", "Asia",
     "womens_org", "en"],
    ["សុខ ចាន់ធី", "", "Nepal Women Forum", "", "", "", ""],
]


def link(token: str) -> str:
    return f"http://127.0.0.1:5000/i/{token}"


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def setting(app):
    organiser = create_user("organiser")
    workshop = create_workshop(organiser)
    create_organisation(name="CNTS Sénégal", country="Senegal", region="west_africa")
    return organiser, workshop


@pytest.mark.parametrize(("name", "maker"),
                         [("delegates.csv", csv_file), ("delegates.xlsx", xlsx_file)])
def test_a_good_file_invites_everyone_with_a_working_link(setting, name, maker):
    organiser, workshop = setting
    data = maker([HEADER, *GOOD])
    checked = services.preview_file(workshop, name, data)
    assert checked.ok, checked.errors
    assert [r.new_organisation for r in checked.rows] == [False, True, True, True]
    issued = services.import_file(organiser, workshop, name, data)
    assert [i.delegate.name for i in issued] == [row[0] for row in GOOD]
    assert [i.email for i in issued] == ["amina@example.org", "", "sita@example.org", ""]
    assert [i.delegate.locale for i in issued] == ["fr", "es", "en", workshop.default_locale]
    # Matched by name whatever the case; created once from French or Spanish labels.
    assert issued[0].delegate.organisation.name == "CNTS Sénégal"
    bolivia = issued[1].delegate.organisation
    assert (bolivia.country, bolivia.region, bolivia.type) == (
        "Bolivia", "latin_america", "health_mutual")
    assert issued[2].delegate.organisation_id == issued[3].delegate.organisation_id
    assert count(Organisation) == 3
    for item in issued:
        assert item.delegate.admitted
        assert delegate_services.accept_invitation(item.token).id == item.delegate.id
    operations = db.session.scalars(sa.select(AuditEntry.operation)).all()
    assert operations.count("registration.import") == 1
    assert operations.count("delegate.invite") == 4
    assert operations.count("organisation.create") == 2


@pytest.mark.parametrize(("name", "maker"), [("bad.csv", csv_file), ("bad.xlsx", xlsx_file)])
def test_one_bad_row_imports_nothing_and_every_error_names_its_row_and_column(
        setting, name, maker):
    organiser, workshop = setting
    create_delegate(workshop, create_organisation(name="Already Here"), name="Ngozi")
    delegates_before, orgs_before = count(Delegate), count(Organisation)
    rows = [HEADER, *GOOD,                                                          # rows 2-5
            ["", "", "CNTS Sénégal", "", "", "", ""],                                # 6 name
            ["Bad Mail", "not-an-address", "CNTS Sénégal", "", "", "", ""],           # 7 email
            ["No Type", "", "New Org", "Peru", "", "", ""],                          # 8 type
            ["Nowhere", "", "Atlantis Union", "Atlantis", "", "trade_union", ""],     # 9 region
            ["No Country", "", "Ghost Org", "", "asia", "ngo", ""],                   # 10 country
            ["Klingon", "", "CNTS Sénégal", "", "", "", "tlh"],                      # 11 language
            ["amina  diallo", "", "CNTS SÉNÉGAL", "", "", "", ""],                   # 12 twice
            ["Ngozi", "", "already here", "", "", "", ""],                           # 13 present
            ["Other Nepal", "", "Nepal Women Forum", "India", "", "", ""],           # 14 clash
            ["x" * 121, "", "CNTS Sénégal", "", "", "", ""],                         # 15 long
            ["Odd Region", "", "Odd Org", "Peru", "Mars", "ngo", ""]]                # 16 region
    data = maker(rows)
    checked = services.preview_file(workshop, name, data)
    assert {(e.row, e.field) for e in checked.errors} == {
        (6, "name"), (7, "email"), (8, "type"), (9, "region"), (10, "country"),
        (11, "language"), (12, "name"), (13, "name"), (14, "country"), (15, "name"),
        (16, "region")}
    assert "row 2" in next(e.message for e in checked.errors if e.row == 12)
    with pytest.raises(ValidationFailed) as caught:
        services.import_file(organiser, workshop, name, data)
    assert "7.email" in caught.value.fields
    assert (count(Delegate), count(Organisation)) == (delegates_before, orgs_before)
    assert db.session.scalar(sa.select(AuditEntry.id).where(
        AuditEntry.operation == "registration.import")) is None


def test_missing_columns_and_bad_files_are_named(setting):
    _, workshop = setting
    checked = services.preview_file(workshop, "a.csv", csv_file([["email", "country"], ["a"]]))
    assert {(e.row, e.field) for e in checked.errors} == {(1, "name"), (1, "organisation")}
    for filename, data in (("a.csv", b""), ("a.xlsx", b"PK not a zip"), ("a.pdf", b"%PDF"),
                           ("a.csv", csv_file([HEADER])),
                           ("a.csv", "Amina;Org".encode("latin-1") + b"\xe9")):
        checked = services.preview_file(workshop, filename, data)
        assert not checked.ok
        assert [(e.row, e.field) for e in checked.errors] == [(0, "file")]


def test_header_in_french_and_semicolons(setting):
    organiser, workshop = setting
    data = "Nom;Courriel;Organisation;Pays;Région;Type;Langue\n" \
           "Awa Traoré;awa@example.org;Union des Femmes;Mali;;Organisation de femmes;français\n"
    issued = services.import_file(organiser, workshop, "inscrits.csv", data.encode())
    org = issued[0].delegate.organisation
    assert (org.region, org.type, issued[0].delegate.locale) == ("west_africa", "womens_org",
                                                                 "fr")


def test_only_organisers_import(setting):
    _, workshop = setting
    facilitator = create_user("facilitator")
    with pytest.raises(PermissionDenied):
        services.import_file(facilitator, workshop, "a.csv", csv_file([HEADER, *GOOD]))
    assert count(Delegate) == 0


def test_links_csv_neutralises_formulas(setting):
    organiser, workshop = setting
    rows = [HEADER,
            ["=HYPERLINK(\"http://evil.example\",\"Click\")", "", "+Org Plus", "Peru", "",
             "ngo", ""],
            ["@SUM(A1)", "", "-Minus Org", "Peru", "", "ngo", ""],
            ["  \t+cmd|' /C calc'!A0", "", "CNTS Sénégal", "", "", "", ""]]
    issued = services.import_file(organiser, workshop, "f.csv", csv_file(rows))
    text = documents.links_csv(issued, link).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["name", "email", "organisation", "country", "language", "link"]
    assert [r[0] for r in table[1:]] == ["'=HYPERLINK(\"http://evil.example\",\"Click\")",
                                         "'@SUM(A1)", "'+cmd|' /C calc'!A0"]
    assert [r[2] for r in table[1:]] == ["'+Org Plus", "'-Minus Org", "CNTS Sénégal"]
    assert table[1][5] == link(issued[0].token)
    # Stored as written: only the export is neutralised.
    assert issued[0].delegate.name.startswith("=HYPERLINK")


def test_badges_render_every_script(setting, tmp_path):
    organiser, workshop = setting
    issued = services.import_file(organiser, workshop, "d.csv", csv_file([HEADER, *GOOD]))
    pdf = documents.badges_pdf(*documents.badges_html(workshop, issued, link))
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "badges.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    for name in ("Amina Diallo", "José Ñandú", "Mutual de Salud Bolivia", "Nepal"):
        assert name in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout
    assert "Noto-Sans-Devanagari" in fonts
    assert "Noto-Sans-Khmer" in fonts


def test_revoking_a_link_stops_it_and_its_logins(setting, client):
    organiser, workshop = setting
    issued = services.import_file(organiser, workshop, "d.csv", csv_file([HEADER, *GOOD[:2]]))
    amina, token = issued[0].delegate, issued[0].token
    assert client.get(f"/i/{token}").status_code == 200  # logs a phone in
    assert client.get("/d").status_code == 200
    with pytest.raises(PermissionDenied):
        delegate_services.revoke_invitation(create_user("facilitator"), workshop, amina.id)
    delegate_services.revoke_invitation(organiser, workshop, amina.id)
    with pytest.raises(NotFound):
        delegate_services.accept_invitation(token)
    assert client.get("/d").status_code != 200  # that phone's login ended
    assert db.session.scalar(sa.select(sa.func.count(LoginSession.id)).where(
        LoginSession.delegate_id == amina.id)) == 0
    assert amina.admitted  # still the workshop's delegate
    with pytest.raises(Conflict):
        delegate_services.revoke_invitation(organiser, workshop, amina.id)
    with pytest.raises(ValidationFailed) as caught:
        services.verify_links(organiser, workshop, [
            IssuedLink(delegate_id=amina.id, token=token),
            IssuedLink(delegate_id=issued[1].delegate.id, token=issued[1].token)])
    assert set(caught.value.fields) == {"0.token"}
    # A new link works again.
    _delegate, fresh = delegate_services.renew_invitation(organiser, workshop, amina.id)
    assert delegate_services.accept_invitation(fresh).id == amina.id


def test_reissuing_a_batch_is_all_or_nothing(setting):
    organiser, workshop = setting
    issued = services.import_file(organiser, workshop, "d.csv", csv_file([HEADER, *GOOD]))
    ids = [i.delegate.id for i in issued]
    other = create_delegate(create_workshop(organiser))
    with pytest.raises(NotFound):
        delegate_services.renew_invitations(organiser, workshop, [ids[0], other.id])
    assert delegate_services.accept_invitation(issued[0].token).id == ids[0]
    renewed = delegate_services.renew_invitations(organiser, workshop, ids)
    assert [d.id for d, _t in renewed] == ids
    for item in issued:
        with pytest.raises(NotFound):
            delegate_services.accept_invitation(item.token)
    links = [IssuedLink(delegate_id=d.id, token=t) for d, t in renewed]
    assert [i.delegate.id for i in services.verify_links(organiser, workshop, links)] == ids


@pytest.mark.parametrize(("written", "country", "region"), [
    ("Sénégal", "Senegal", "west_africa"), ("senegal", "Senegal", "west_africa"),
    ("Bélgica", "Belgium", "belgium"), ("België", "Belgium", "belgium"),
    ("Camboya", "Cambodia", "asia"), ("Cambodge", "Cambodia", "asia"),
    ("RDC", "DR Congo", "central_africa"), ("Congo-Kinshasa", "DR Congo", "central_africa"),
    ("Haïti", "Haiti", "latin_america"), ("Perú", "Peru", "latin_america"),
])
def test_country_names_in_any_of_the_four_languages(setting, written, country, region):
    organiser, workshop = setting
    data = ("Name,Organisation,Country,Type\n"
            f"Rosa Quispe,Mutual {written},{written},health_mutual\n")
    issued = services.import_file(organiser, workshop, "people.csv", data.encode())
    org = issued[0].delegate.organisation
    assert (org.country, org.region) == (country, region)


def test_an_unknown_country_is_named_in_its_row(setting):
    organiser, workshop = setting
    data = "Name,Organisation,Country,Type\nRosa,Mutual X,Atlantis,health_mutual\n"
    checked = services.preview_file(workshop, "people.csv", data.encode())
    # Not a programme country: its region cannot be known, and the row says which is missing.
    assert [(e.row, e.field) for e in checked.errors] == [(2, "region")]


def test_the_example_file_offered_on_the_page_imports_as_it_is(setting):
    organiser, workshop = setting
    example = Path(__file__).resolve().parents[2] / "static" / "examples" / "delegates.csv"
    issued = services.import_file(organiser, workshop, "delegates.csv", example.read_bytes())
    assert [(i.delegate.name, i.delegate.organisation.country) for i in issued] == [
        ("Awa Traoré", "Mali"), ("Rosa Quispe", "Peru"), ("Sita Sharma", "Nepal"),
        ("Jan Peeters", "Belgium")]
