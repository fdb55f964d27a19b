"""Every export (each CSV, the ZIP of CSVs, the XLSX, the JSON) read back with the library that
reads it, checked against the database: names in every script, every language version of a
proposal, merge origins, counts, results and the hash of the ballot papers."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from tests.exports.conftest import read_csv, read_xlsx, rows_by_format, staff_client
from workshop.audit.models import AuditEntry
from workshop.exports.tables import TABLES
from workshop.extensions import db
from workshop.proposals.models import Comment, Proposal, ProposalTranslation, Support
from workshop.voting import tally
from workshop.voting.models import Ballot

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("zip", "csv", "xlsx", "json")


def shown(fmt: str, value: str) -> str:
    """How a text cell is written in `fmt`: spreadsheets' formats neutralise, JSON does not."""
    if fmt != "json" and value.startswith(FORMULA_START):
        return "'" + value
    return value


@pytest.fixture
def exported(app, room):
    """The organiser's exports in English, by format and table."""
    return rows_by_format(staff_client(app, room.organiser), room.workshop)


def test_every_format_has_every_table_with_the_same_rows(exported):
    assert list(exported["zip"]) == list(TABLES)  # the organiser gets the audit log too
    for fmt in ("csv", "xlsx", "json"):
        assert list(exported[fmt]) == list(TABLES), fmt
    for name in TABLES:
        zipped = exported["zip"][name]
        assert exported["csv"][name] == zipped, name
        assert exported["xlsx"][name] == zipped, name
        # JSON writes text as it is: the spreadsheets' quote aside, the same rows.
        unquoted = [{k: v[1:] if v.startswith("'") and v[1:].startswith(FORMULA_START) else v
                     for k, v in row.items()} for row in zipped]
        assert exported["json"][name] == unquoted, name


def test_people_and_organisations_in_every_script(exported, room):
    for fmt in FORMATS:
        check_people_and_organisations_in_every_script(exported, room, fmt)


def check_people_and_organisations_in_every_script(exported, room, fmt: str) -> None:
    delegates = {int(r["id"]): r for r in exported[fmt]["delegates"]}
    assert set(delegates) == {d.id for d in room.delegates}
    for d in room.delegates:
        row = delegates[d.id]
        assert row["name"] == d.name  # Adébáyọ̀, सीता शर्मा, សុខា ចាន់ ...
        assert row["organisation"] == shown(fmt, d.organisation.name)
        assert (row["country"], row["region"], row["org_type"]) == (
            d.organisation.country, d.organisation.region, d.organisation.type)
        assert row["joined_at"].endswith("Z")
    names = {r["name"] for r in exported[fmt]["delegates"]}
    assert {"सीता शर्मा", "សុខា ចាន់", "Ñusta Quispe", "Ẹniọlá Àdìsá",
            "Élodie Façonnier"} <= names
    organisations = {r["name"]: r for r in exported[fmt]["organisations"]}
    assert set(organisations) == {shown(fmt, o.name) for o in room.organisations}
    assert organisations["नेपाल स्वास्थ्य सहकारी संघ"]["delegates"] == "2"
    assert organisations["សហជីពកម្មករកម្ពុជា"]["region_label"] == "Asia"
    assert organisations["Coopérative Façon Ẹgbẹ́ Àgbẹ̀"]["org_type_label"] == "Cooperative"


def test_proposals_in_every_language_with_merge_origins(exported, room):
    for fmt in FORMATS:
        check_proposals_in_every_language_with_merge_origins(exported, room, fmt)


def check_proposals_in_every_language_with_merge_origins(exported, room, fmt: str) -> None:
    rows = {(int(r["id"]), r["language"]): r for r in exported[fmt]["proposals"]}
    proposals = db.session.scalars(sa.select(Proposal).where(
        Proposal.workshop_id == room.workshop.id)).all()
    translations = db.session.scalars(sa.select(ProposalTranslation)).all()
    assert set(rows) == ({(p.id, p.language) for p in proposals}
                         | {(t.proposal_id, t.language) for t in translations})
    for p in proposals:
        row = rows[(p.id, p.language)]
        assert row["original"] == "true"
        assert row["title"] == shown(fmt, p.title)
        assert row["description"] == shown(fmt, p.description)
        assert row["merged_into_id"] == (str(p.merged_into_id) if p.merged_into_id else "")
    for t in translations:
        row = rows[(t.proposal_id, t.language)]
        assert (row["original"], row["title"], row["translated_by"]) == (
            "false", shown(fmt, t.title), t.translated_by)
    p1, p2, p3, _p4, p5 = room.proposals
    merged = rows[(room.merged.id, "fr")]
    assert merged["merged_from"] == f"{p1.id}, {p2.id}"
    assert merged["source"] == "merge"
    assert rows[(p1.id, "es")]["line_id"] == str(room.merged.id)
    assert rows[(p1.id, "es")]["title"] == "Protección social para la economía informal"
    assert rows[(p2.id, "en")]["title"] == "सामाजिक सुरक्षा सबैका लागि"
    assert rows[(p3.id, "en")]["title"] == "ការងារសមរម្យសម្រាប់យុវជន"
    assert rows[(p3.id, "en")]["supporters"] == "7"
    assert rows[(p3.id, "en")]["comments"] == "2"
    assert rows[(p5.id, "en")]["hidden"] == "true"
    assert rows[(p3.id, "en")]["theme_label"] == (
        "Decent work and job creation (social and solidarity economy)")


def test_comments_and_supports_match_the_database(exported, room):
    for fmt in FORMATS:
        check_comments_and_supports_match_the_database(exported, room, fmt)


def check_comments_and_supports_match_the_database(exported, room, fmt: str) -> None:
    comments = {int(r["id"]): r for r in exported[fmt]["comments"]}
    stored = db.session.scalars(sa.select(Comment)).all()
    assert set(comments) == {c.id for c in stored}
    for c in stored:
        row = comments[c.id]
        assert (row["body"], row["author"], row["hidden"]) == (
            shown(fmt, c.body), c.author_name, "true" if c.hidden else "false")
        assert row["parent_id"] == (str(c.parent_id) if c.parent_id else "")
    expected = Counter()
    for support in db.session.scalars(sa.select(Support)):
        expected[(support.proposal_id, support.delegate.organisation.region)] += 1
    got = {(int(r["proposal_id"]), r["region"]): int(r["supporters"])
           for r in exported[fmt]["supports"]}
    assert got == dict(expected)
    assert got[(room.proposals[2].id, "west_africa")] == 5


def test_ballots_results_and_audit_match_the_database(exported, room):
    for fmt in FORMATS:
        check_ballots_results_and_audit_match_the_database(exported, room, fmt)


def check_ballots_results_and_audit_match_the_database(exported, room, fmt: str) -> None:
    ballots = {int(r["id"]): r for r in exported[fmt]["ballots"]}
    assert set(ballots) == {room.named.id, room.secret.id, room.open_ballot.id}
    for ballot in (room.named, room.secret):
        row = ballots[ballot.id]
        assert row["hash"] == ballot.ballots_hash
        assert (row["status"], row["secret"]) == ("closed", "true" if ballot.secret else "false")
        assert (row["voted"], row["eligible"]) == (
            str(ballot.results["turnout"]["count"]), str(ballot.results["turnout"]["eligible"]))
    assert (ballots[room.named.id]["voted"], ballots[room.secret.id]["voted"]) == ("13", "12")
    assert ballots[room.open_ballot.id]["status"] == "open"
    assert ballots[room.open_ballot.id]["hash"] == ""

    for ballot in (room.named, room.secret):
        got = {int(r["option_id"]): r for r in exported[fmt]["results"]
               if r["ballot_id"] == str(ballot.id)}
        standings = ballot.results["standings"]
        assert set(got) == {s["option"] for s in standings}
        for s in standings:
            assert int(got[s["option"]]["rank"]) == s["rank"]
            assert float(got[s["option"]]["score"]) == pytest.approx(s["score"])
    # The open ballot has no results, papers or breakdowns yet.
    for name in ("results", "ballot_papers", "breakdowns", "turnout"):
        assert not [r for r in exported[fmt][name]
                    if r["ballot_id"] == str(room.open_ballot.id)], name
    named_regions = {(int(r["option_id"]), r["group"]) for r in exported[fmt]["breakdowns"]
                     if r["ballot_id"] == str(room.named.id) and r["dimension"] == "region"}
    assert named_regions == {(s["option"], region) for s in room.named.results["standings"]
                             for region in s["by_region"]}

    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.workshop_id == room.workshop.id)).all()
    audit = {int(r["id"]): r for r in exported[fmt]["audit"]}
    assert set(audit) == {e.id for e in entries}
    broadcast = next(r for r in audit.values() if r["operation"] == "message.broadcast")
    assert "Pause café ☕" in broadcast["details"]


def test_the_json_papers_recompute_each_ballots_hash(exported, room):
    """Anyone can check the export against the screen: the published list, rebuilt from the
    JSON export alone, hashes to the ballot's hash."""
    papers = exported["document"]["tables"]["ballot_papers"]["rows"]
    for ballot in (room.named, room.secret):
        rows = [r for r in papers if r["ballot_id"] == ballot.id]
        if ballot.secret:
            published = [{"receipt": r["receipt"]} if r["entry"] == "receipt"
                         else {"choice": r["choice"], "weight": r["weight"]} for r in rows]
        else:
            published = [{k: r[k] for k in ("weight", "region", "org_type", "organisation",
                                             "choice", "receipt", "delegate_id", "delegate",
                                             "source")} for r in rows]
        assert tally.ballots_hash(published) == ballot.ballots_hash
    assert db.session.get(Ballot, room.named.id).ballots_hash


def test_headings_and_labels_in_the_readers_language(app, room):
    client = staff_client(app, room.organiser, lang="fr")
    headings, rows = read_csv(client.get(f"/w/{room.workshop.id}/exports/delegates.csv").data)
    with app.test_request_context(), force_locale("fr"):
        labels = [str(c.label) for c in TABLES["delegates"].columns]
        titles = [str(t.title) for t in TABLES.values()]
    assert headings == labels
    assert {"Nom", "Pays", "Région"} <= set(headings)
    assert "Afrique de l'Ouest" in {r[headings.index("Région")] for r in rows}
    sheets = read_xlsx(client.get(f"/w/{room.workshop.id}/exports.xlsx").data)
    assert list(sheets)[:3] == titles[:3] == ["Organisations", "Délégués", "Propositions"]
    assert sheets["Délégués"][0] == labels
    doc = client.get(f"/w/{room.workshop.id}/exports.json").get_json()
    assert doc["language"] == "fr"
    assert [c["label"] for c in doc["tables"]["delegates"]["columns"]] == labels
    assert doc["tables"]["delegates"]["title"] == "Délégués"
    # Keys stay the same in every language, for programs.
    assert [c["key"] for c in doc["tables"]["delegates"]["columns"]] == TABLES["delegates"].keys


def test_file_names_and_headers(app, room):
    client = staff_client(app, room.organiser)
    response = client.get(f"/w/{room.workshop.id}/exports/proposals.csv")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "proposals.csv" in disposition
    assert response.headers["Cache-Control"] == "private, no-store"
    response = client.get(f"/w/{room.workshop.id}/exports.xlsx")
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert ".xlsx" in response.headers["Content-Disposition"]
    assert client.get(f"/w/{room.workshop.id}/exports.zip").mimetype == "application/zip"
    assert client.get(f"/w/{room.workshop.id}/exports.json").mimetype == "application/json"
