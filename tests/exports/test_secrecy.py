"""A secret ballot's exports carry nothing that names a voter or links a paper to a person, in
every format: each paper row holds a receipt alone or a choice and weight alone, every other
column is empty; no group of fewer than k voters is published; the named ballot beside it does
carry its voters (so these checks can fail)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.exports.conftest import rows_by_format, staff_client
from workshop.exports.tables import IDENTITY_KEYS, TABLES, secret_paper_row
from workshop.extensions import db
from workshop.voting.models import Participation, RegionTally
from workshop.voting.secrecy import min_cell

FORMATS = ("zip", "csv", "xlsx", "json")
BALLOT_TABLES = ("ballot_papers", "results", "breakdowns", "turnout")


def _rows(exported, fmt: str, table: str, ballot) -> list[dict[str, str]]:
    return [r for r in exported[fmt][table] if r["ballot_id"] == str(ballot.id)]


def _identities(room) -> set[str]:
    """Every text that would name a voter or their organisation."""
    people = {d.name for d in room.delegates}
    organisations = {o.name for o in room.organisations}
    return people | organisations | {f"'{o}" for o in organisations}


def test_secret_papers_hold_a_receipt_or_a_choice_and_nothing_else(app, room):
    exported = rows_by_format(staff_client(app, room.organiser), room.workshop)
    receipts = sorted(room.receipts.values())
    for fmt in FORMATS:
        rows = _rows(exported, fmt, "ballot_papers", room.secret)
        assert len(rows) == 24, fmt  # 12 receipts, then 12 choices (k = 5: listed)
        for row in rows:
            assert list(row) == TABLES["ballot_papers"].keys
            filled = {key for key, value in row.items() if value != ""}
            assert filled in ({"ballot_id", "secret", "entry", "receipt"},
                              {"ballot_id", "secret", "entry", "choice", "weight"}), (fmt, row)
            for key in IDENTITY_KEYS:  # delegate, organisation, region, type, source
                assert row[key] == "", (fmt, key, row)
            assert row["secret"] == "true"
        listed = [r["receipt"] for r in rows if r["entry"] == "receipt"]
        # Sorted, not in the order of voting; and each voter's receipt is there.
        assert listed == receipts
        # The choices come after every receipt, in canonical order (not the order of voting).
        entries = [r["entry"] for r in rows]
        assert entries == ["receipt"] * 12 + ["paper"] * 12
        papers = [r["choice"] for r in rows if r["entry"] == "paper"]
        assert papers == sorted(papers)

    # The named ballot beside it does name its voters: the same checks would catch a leak.
    named = _rows(exported, "csv", "ballot_papers", room.named)
    assert {r["delegate"] for r in named} == {d.name for d in room.delegates}
    assert all(r["receipt"] and r["choice"] for r in named)


def test_no_secret_ballot_row_names_or_places_a_voter(app, room):
    exported = rows_by_format(staff_client(app, room.organiser), room.workshop)
    identities = _identities(room)
    delegate_ids = {str(d.id) for d in room.delegates}
    for fmt in FORMATS:
        for table in BALLOT_TABLES:
            for row in _rows(exported, fmt, table, room.secret):
                for key, value in row.items():
                    assert value not in identities, (fmt, table, key)
                    assert not any(name in value for name in identities), (fmt, table, key)
                    if key in ("delegate_id", "delegate", "organisation", "source"):
                        assert value == "", (fmt, table, key)
                    if key == "delegate_id":
                        assert value not in delegate_ids
    # The JSON document as a whole: the secret ballot's part mentions no voter either.
    document = exported["document"]["tables"]
    secret_part = json.dumps({t: [r for r in document[t]["rows"]
                                  if r["ballot_id"] == room.secret.id] for t in BALLOT_TABLES},
                             ensure_ascii=False)
    assert not [name for name in identities if name in secret_part]


def test_small_groups_are_withheld_from_the_secret_ballots_breakdowns(app, room):
    """Secret ballot: West Africa (5 voters) is shown; Latin America (2) and the one voter of
    Belgium are withheld, Central Africa (its one delegate did not vote) too, and Asia (4) with
    them so that together they are at least k; no breakdown by organisation type at all."""
    exported = rows_by_format(staff_client(app, room.organiser), room.workshop)
    k = min_cell(room.secret)
    voters = {row.region: row.voters for row in db.session.scalars(
        sa.select(RegionTally).where(RegionTally.ballot_id == room.secret.id))}
    assert voters == {"west_africa": 5, "latin_america": 2, "asia": 4, "belgium": 1}
    for fmt in FORMATS:
        breakdowns = _rows(exported, fmt, "breakdowns", room.secret)
        assert breakdowns, fmt
        assert {r["dimension"] for r in breakdowns} == {"region"}
        for row in breakdowns:
            assert voters[row["group"]] >= k, (fmt, row)
        turnout = _rows(exported, fmt, "turnout", room.secret)
        shown = [r for r in turnout if r["withheld"] == "false"]
        withheld = [r for r in turnout if r["withheld"] == "true"]
        assert all(int(r["voters"]) >= k for r in shown), fmt
        assert all(r["voters"] == "" and r["weight"] == "" for r in withheld), fmt
        withheld_regions = {r["group"] for r in withheld if r["dimension"] == "region"}
        # Central Africa's one delegate did not vote: 0 is a small cell too.
        assert withheld_regions == {"latin_america", "belgium", "asia", "central_africa"}
        assert {r["group"] for r in shown if r["dimension"] == "region"} == {"west_africa"}
        # What is withheld together holds at least k voters (no subtraction gives one back).
        assert sum(voters.get(r, 0) for r in withheld_regions) >= k
    # The named ballot has its organisation types (the check above can see them).
    assert {r["dimension"] for r in _rows(exported, "csv", "breakdowns", room.named)} == {
        "region", "org_type"}


def test_who_voted_in_a_secret_ballot_is_counted_never_listed(app, room):
    """The participation table says who voted; no export lists it for a secret ballot."""
    exported = rows_by_format(staff_client(app, room.organiser), room.workshop)
    voted = db.session.scalars(sa.select(Participation.delegate_id).where(
        Participation.ballot_id == room.secret.id)).all()
    assert len(voted) == 12
    ballot = next(r for r in exported["csv"]["ballots"] if r["id"] == str(room.secret.id))
    assert (ballot["voted"], ballot["eligible"]) == ("12", "13")
    assert list(ballot) == TABLES["ballots"].keys
    assert not {k for k, v in ballot.items() if v in {d.name for d in room.delegates}}


def test_an_unexpected_secret_entry_is_refused_not_exported():
    """Should the published list ever carry more, the export stops rather than copy it."""
    row = secret_paper_row(1, {"receipt": "ABCD"})
    assert (row["entry"], row["receipt"], row["choice"]) == ("receipt", "ABCD", None)
    row = secret_paper_row(1, {"choice": [3], "weight": 1.0})
    assert (row["entry"], row["receipt"], row["choice"]) == ("paper", "", [3])
    for entry in ({"receipt": "ABCD", "choice": [3]},
                  {"choice": [3], "weight": 1.0, "region": "asia"},
                  {"receipt": "ABCD", "delegate": "Sita"}):
        with pytest.raises(ValueError, match="unexpected secret ballot entry"):
            secret_paper_row(1, entry)
