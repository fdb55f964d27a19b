"""Secret ballots stay secret: nothing published, exported or stored links a paper to a person.

The story: 30 delegates of 10 organisations in 5 regions vote, each with a choice nobody else
made, so any field that travelled with a paper would give its voter away. Two regions and two
organisation types are under k = 5 voters and must not show.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from itertools import combinations

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import (
    cast_vote,
    create_delegate,
    create_lines,
    create_organisation,
    create_user,
    create_workshop,
    go_to_kind,
    login,
    open_test_ballot,
)
from workshop.errors import Conflict
from workshop.extensions import db
from workshop.vocabulary import REGIONS
from workshop.voting import results, secrecy, services, tally
from workshop.voting.models import Ballot, RegionTally, Vote

K = 5
# (region, organisation type, delegates) of the ten organisations: 30 delegates.
ORGANISATIONS = [
    ("west_africa", "trade_union", 5), ("west_africa", "health_mutual", 5),
    ("asia", "trade_union", 4), ("asia", "womens_org", 4),
    ("latin_america", "trade_union", 3), ("latin_america", "health_mutual", 3),
    ("belgium", "cooperative", 1), ("belgium", "health_mutual", 1),
    ("central_africa", "womens_org", 2), ("central_africa", "trade_union", 2),
]
SMALL_REGIONS = {"belgium", "central_africa"}  # 2 and 4 voters
SMALL_TYPES = {"cooperative", "womens_org"}  # 1 voter; 6 voters hidden with it (complement)


def unique_choices(options: list[int]) -> list[list[int]]:
    """Every non-empty subset of the options: each delegate gets one nobody else has."""
    return [list(c) for size in range(1, len(options) + 1) for c in combinations(options, size)]


@pytest.fixture
def secret_room(app):
    """A closed secret approval ballot of 30 delegates; the facilitator's logged-in client."""
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=5)
    lines = [line.id for line in create_lines(workshop, 6)]
    delegates = []
    for n, (region, org_type, size) in enumerate(ORGANISATIONS):
        org = create_organisation(region=region, org_type=org_type, name=f"Organisation {n}")
        delegates += [create_delegate(workshop, org, name=f"Voter {n}-{i}") for i in range(size)]
    ballot = open_test_ballot(workshop, "approval", actor=facilitator, secret=True)
    choices = unique_choices(lines)
    cast = {}
    for number, delegate in enumerate(delegates):
        result = cast_vote(delegate, ballot, choices[number], secret=f"{number + 1:040x}")
        cast[delegate.id] = (result.receipt, choices[number])
    services.close_ballot(facilitator, workshop, ballot)
    staff = app.test_client()
    login(staff, facilitator)
    return workshop, ballot, delegates, cast, staff


def identifiers(delegates) -> list[str]:
    """What would name a voter: their name and their organisation's name."""
    return [d.name for d in delegates] + sorted({d.organisation.name for d in delegates})


def test_the_published_list_is_receipts_apart_from_choices(secret_room):
    _, ballot, delegates, cast, _ = secret_room
    published = results.published_ballots(ballot)
    receipts = [e for e in published if "receipt" in e]
    papers = [e for e in published if "choice" in e]
    assert all(set(e) == {"receipt"} for e in receipts)
    assert all(set(e) == {"choice", "weight"} for e in papers)
    assert len(receipts) == len(papers) == len(published) / 2 == 30
    # Both lists in their own canonical order, never the order of casting.
    assert [e["receipt"] for e in receipts] == sorted(r for r, _ in cast.values())
    assert papers == sorted(papers, key=lambda e: json.dumps(e, sort_keys=True,
                                                           separators=(",", ":")))
    assert sorted(tuple(p["choice"]) for p in papers) == sorted(tuple(c) for _, c in
                                                                cast.values())
    assert ballot.ballots_hash == tally.ballots_hash(published) == ballot.results["hash"]
    text = json.dumps(published)
    assert not [name for name in identifiers(delegates) if name in text]


def test_frozen_results_hold_no_small_cell(secret_room):
    _, ballot, delegates, _, _ = secret_room
    frozen = ballot.results
    secrecy_block = frozen["secrecy"]
    assert secrecy_block["min_cell"] == K
    assert set(secrecy_block["hidden_regions"]) == SMALL_REGIONS
    assert set(secrecy_block["hidden_org_types"]) == SMALL_TYPES
    shown = {"west_africa", "asia", "latin_america"}
    assert set(frozen["turnout_by_region"]) == shown
    assert {r: t["count"] for r, t in frozen["turnout_by_region"].items()} == {
        "west_africa": 10, "asia": 8, "latin_america": 6}
    assert set(frozen["turnout_by_org_type"]) == {"trade_union", "health_mutual"}
    for standing in frozen["standings"]:
        assert set(standing["by_region"]) == set(standing["region_shares"]) == shown
        assert standing["by_org_type"] == {}
        assert standing["consensus"] == min(standing["region_shares"].values())
    # What is withheld cannot be worked back from the totals: the hidden regions together
    # are at least k voters, the hidden types too.
    assert frozen["turnout"]["count"] - 24 == 6 >= K
    # Outside the `secrecy` block no small region or type is named at all.
    rest = json.dumps({k: v for k, v in frozen.items() if k != "secrecy"})
    assert not [cell for cell in SMALL_REGIONS | SMALL_TYPES if cell in rest]
    assert not [name for name in identifiers(delegates) if name in json.dumps(frozen)]


def test_region_cells_equal_what_the_tally_gives_for_the_same_papers(secret_room):
    _, ballot, delegates, cast, _ = secret_room
    # The test knows who voted what; the server does not. Recount by region from that.
    papers = [tally.Ballot(1.0, d.organisation.region, "", "", cast[d.id][1]) for d in delegates]
    expected = tally.tally_approval(papers, ballot.option_ids)
    for standing in ballot.results["standings"]:
        truth = expected.standing(standing["option"])
        for region, score in standing["by_region"].items():
            assert score == pytest.approx(truth.by_region[region])
            assert standing["region_shares"][region] == pytest.approx(truth.region_shares[region])
        assert standing["score"] == truth.score


def test_pages_show_no_link_and_say_fewer_than_k(secret_room):
    workshop, ballot, delegates, cast, staff = secret_room
    base = f"/w/{workshop.id}/ballots/{ballot.id}"
    page = staff.get(f"{base}/results").get_data(as_text=True)
    assert "fewer than 5" in page
    assert 'id="no-type-breakdown"' in page
    assert 'id="by-type-table"' not in page
    for region in SMALL_REGIONS:
        # The hidden region's row: its name, "fewer than 5", its eligible count, no score.
        row = re.search(rf"<tr class=\"suppressed\"><td>{REGIONS[region]}</td>(.*?)</tr>", page)
        assert row, region
        assert "fewer than 5" in row.group(1)
    receipts = staff.get(f"{base}/receipts").get_data(as_text=True)
    assert 'id="what-a-receipt-proves"' in receipts
    for code, _choice in cast.values():
        assert services.format_receipt(code) in receipts
    titles = services.option_titles(ballot)
    # No row of the page holds a receipt and a choice together.
    for row in re.findall(r"<tr[^>]*>.*?</tr>", receipts, flags=re.S):
        has_code = any(services.format_receipt(c) in row for c, _ in cast.values())
        has_choice = any(title in row for title in titles.values())
        assert not (has_code and has_choice), row
    for html in (page, receipts):
        assert not [name for name in identifiers(delegates) if name in html]
    assert not [label for label in REGIONS.values() if str(label) in receipts]
    # Checking a receipt says "counted", nothing about the paper.
    code, choice = next(iter(cast.values()))
    checked = staff.get(f"{base}/receipts?code={code}").get_data(as_text=True)
    assert "is in the published list" in checked
    found = re.search(r'<tr[^>]*class="found"[^>]*>.*?</tr>', checked, flags=re.S).group(0)
    assert not [titles[o] for o in choice if titles[o] in found]


def test_no_stored_column_links_a_paper_to_a_person_or_a_time(secret_room):
    _, ballot, delegates, cast, _ = secret_room
    engine = db.engine
    inspector = sa.inspect(engine)
    paper_columns = {c["name"]: c for c in inspector.get_columns("ballot_vote")}
    tally_columns = {c["name"]: c for c in inspector.get_columns("ballot_region_tally")}
    assert set(tally_columns) == {"ballot_id", "region", "voters", "sums"}
    for columns in (paper_columns, tally_columns):
        assert not [n for n, c in columns.items() if isinstance(c["type"], sa.DateTime | sa.Date)]
    # Every column of a secret paper that could point at someone is empty.
    rows = db.session.execute(sa.text("SELECT * FROM ballot_vote WHERE ballot_id = :b"),
                              {"b": ballot.id}).mappings().all()
    assert len(rows) == 30
    kept = {"id", "ballot_id", "secret_hash", "receipt", "choices"}
    for row in rows:
        assert {name for name, value in row.items() if value is not None} == kept
    # Nothing that identifies a paper appears anywhere else in the database (no table points
    # at a paper, no audit entry names one), and the region totals are per region, not per
    # paper.
    marks = {str(row[name]) for row in rows for name in ("id", "secret_hash", "receipt")}
    for table in inspector.get_table_names():
        if table == "ballot_vote":
            continue
        for record in db.session.execute(sa.text(f'SELECT * FROM "{table}"')).all():  # noqa: S608
            text = " ".join(str(value) for value in record)
            assert not [mark for mark in marks if mark in text], table
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RegionTally).where(
        RegionTally.ballot_id == ballot.id)) == 5
    # No receipt can be walked back to its voter: receipts and hashes need the phone's secret.
    for delegate in delegates:
        assert secrecy.paper_hash(ballot.id, delegate.id, "") not in marks
    if engine.dialect.name == "sqlite":
        # WITHOUT ROWID: stored in the order of the random keys, not the order of casting.
        stored = [r[0] for r in db.session.execute(sa.text(
            "SELECT id FROM ballot_vote WHERE ballot_id = :b"), {"b": ballot.id})]
        assert stored == sorted(stored)


# --- The small-cell rule ------------------------------------------------------------------


@pytest.mark.parametrize(("counts", "hidden"), [
    ({"a": 9, "b": 9, "c": 6}, set()),
    ({"a": 9, "b": 9, "c": 3}, {"c", "a"}),  # one small cell: the next smallest goes too
    ({"a": 9, "b": 6, "c": 3}, {"c", "b"}),
    ({"a": 9, "b": 2, "c": 2}, {"b", "c", "a"}),  # 2 + 2 < k: add until the hidden reach k
    ({"a": 9, "b": 4, "c": 1}, {"b", "c"}),
    ({"a": 3}, {"a"}),
    ({"a": 0, "b": 10, "c": 10}, {"a", "b"}),  # nobody from a: not shown either
    ({}, set()),
])
def test_hidden_cells(counts, hidden):
    assert secrecy.hidden_cells(counts, K) == hidden


@given(st.dictionaries(st.sampled_from("abcdefg"), st.integers(0, 12)), st.integers(1, 8))
@settings(max_examples=200, deadline=None)
def test_hidden_cells_never_leave_a_small_group_to_subtract(counts, k):
    hidden = secrecy.hidden_cells(counts, k)
    assert {c for c, n in counts.items() if n < k} <= hidden
    if hidden and hidden != set(counts):
        assert len(hidden) >= 2
        assert sum(counts[c] for c in hidden) >= k


def test_a_lone_small_region_takes_the_next_smallest_with_it(app):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=5)
    lines = [line.id for line in create_lines(workshop, 3)]
    ballot = open_test_ballot(workshop, "points", actor=facilitator, secret=True, budget=3)
    for region, size in (("west_africa", 7), ("asia", 6), ("belgium", 1)):
        org = create_organisation(region=region)
        for i in range(size):
            delegate = create_delegate(workshop, org)
            cast_vote(delegate, ballot, {lines[i % 3]: 3}, secret=f"{delegate.id:032x}")
    services.close_ballot(facilitator, workshop, ballot)
    frozen = ballot.results
    assert set(frozen["secrecy"]["hidden_regions"]) == {"belgium", "asia"}
    assert set(frozen["turnout_by_region"]) == {"west_africa"}
    assert all(set(s["by_region"]) == {"west_africa"} for s in frozen["standings"])


def test_k_comes_from_the_configuration_when_the_ballot_opens(app, monkeypatch):
    monkeypatch.setattr(secrecy.settings, "min_cell", 2)
    workshop = create_workshop(steps=5)
    create_lines(workshop, 2)
    ballot = open_test_ballot(workshop, secret=True)
    assert ballot.min_cell == 2
    assert open_test_ballot(workshop).min_cell is None  # named: nothing to hide
    monkeypatch.setattr(secrecy.settings, "min_cell", 9)
    assert secrecy.min_cell(db.session.get(Ballot, ballot.id)) == 2


def test_tags_are_hmac_sha256_under_a_key_derived_from_the_secret_key(app):
    """The tags stored with papers while a ballot is open are found again by recomputing
    them: their recipe (HMAC-SHA256 of `kind:ballot:value`, hex, under a key derived from
    SECRET_KEY) may not change under a running workshop."""
    raw = app.config["SECRET_KEY"].encode()
    key = hmac.new(raw, b"workshop.voting.secrecy:v1", hashlib.sha256).digest()
    for tag, kind in ((secrecy.owner_tag, "owner"), (secrecy.proxy_tag, "proxy"),
                      (secrecy.org_key, "org")):
        assert tag(12, 345) == hmac.new(key, f"{kind}:12:345".encode(),
                                        hashlib.sha256).hexdigest()
    assert secrecy.owner_tag(12, 345) != secrecy.owner_tag(12, 346)


# --- Live turnout, results before close ---------------------------------------------------


def test_live_turnout_of_a_secret_ballot_hides_small_regions(app):
    workshop = create_workshop(steps=5)
    lines = [line.id for line in create_lines(workshop, 2)]
    west, asia = create_organisation(region="west_africa"), create_organisation(region="asia")
    voters = [create_delegate(workshop, west) for _ in range(6)] + [create_delegate(workshop,
                                                                                    asia)]
    named = open_test_ballot(workshop)
    ballot = open_test_ballot(workshop, secret=True)  # the newest: the vote step shows it
    for delegate in voters:
        cast_vote(delegate, ballot, [lines[0]], secret=f"{delegate.id:032x}")
        cast_vote(delegate, named, [lines[0]])
    # One Asian voter: hiding Asia alone would leave it as the total minus west Africa.
    assert services.turnout(ballot) == {
        "ballot_id": ballot.id, "voted": 7, "eligible": 7, "min_cell": K,
        "by_region": {"west_africa": {"voted": None, "eligible": 6},
                      "asia": {"voted": None, "eligible": 1}}}
    assert services.turnout(named)["by_region"]["asia"] == {"voted": 1, "eligible": 1}
    go_to_kind(workshop, "vote")
    screen = app.test_client()
    screen.get(f"/w/{workshop.id}/projector?key={workshop.projector_key}")
    html = screen.get(f"/w/{workshop.id}/projector/step").get_data(as_text=True)
    assert 'data-fewer="fewer than 5"' in html
    assert re.search(r'data-region="asia"[^>]*>\s*<span class="label">Asia</span>\s*'
                     r'<b class="voted">fewer than 5</b>', html)


def test_a_secret_ballot_is_not_counted_before_close(app, client):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=5)
    lines = [line.id for line in create_lines(workshop, 2)]
    ballot = open_test_ballot(workshop, secret=True, actor=facilitator)
    cast_vote(create_delegate(workshop), ballot, [lines[0]], secret="a" * 32)
    with pytest.raises(Conflict):
        services.show_results(facilitator, workshop, ballot, True)
    db.session.rollback()
    with pytest.raises(Conflict):
        services.current_results(ballot)
    login(client, facilitator)
    page = client.get(f"/w/{workshop.id}/ballots/{ballot.id}/results").get_data(as_text=True)
    assert "shown when the ballot closes" in page
    assert 'id="standings"' not in page


# --- Weightings under secrecy ---------------------------------------------------------------


def test_organisation_weighting_never_lists_the_papers(app):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=5)
    lines = [line.id for line in create_lines(workshop, 2)]
    ballot = open_test_ballot(workshop, secret=True, weighting="organisation", actor=facilitator)
    orgs = [create_organisation(region="west_africa") for _ in range(3)]
    for n in range(9):
        delegate = create_delegate(workshop, orgs[n % 3])
        cast_vote(delegate, ballot, [lines[n % 2]], secret=f"{delegate.id:032x}")
    services.close_ballot(facilitator, workshop, ballot)
    published = results.published_ballots(ballot)
    assert all(set(e) == {"receipt"} for e in published)
    assert len(published) == 9
    assert ballot.results["secrecy"]["region_breakdown"] == "per_delegate"
    assert ballot.results["secrecy"]["choices_listed"] is False
    assert sum(s["score"] for s in ballot.results["standings"]) == pytest.approx(3.0)
    # The database file holds no organisation, only per-ballot keyed hashes.
    assert db.session.scalar(sa.select(sa.func.count(sa.distinct(Vote.org_key)))) == 3
    assert db.session.scalar(sa.select(Vote.organisation_id).where(
        Vote.organisation_id.is_not(None))) is None


def test_region_weighting_lists_papers_only_when_no_weight_group_is_small(app):
    facilitator = create_user("facilitator")
    workshop = create_workshop(facilitator=facilitator, steps=5)
    lines = [line.id for line in create_lines(workshop, 2)]
    big, small = create_organisation(region="west_africa"), create_organisation(region="asia")
    listed = open_test_ballot(workshop, secret=True, weighting="region", actor=facilitator)
    withheld = open_test_ballot(workshop, secret=True, weighting="region", actor=facilitator)
    for n in range(10):
        delegate = create_delegate(workshop, big if n < 5 else small)
        cast_vote(delegate, listed, [lines[0]], secret=f"{delegate.id:032x}")
        if n < 7:  # 5 west Africans, 2 Asians: the Asians' weight (1/2) is theirs alone
            cast_vote(delegate, withheld, [lines[1]], secret=f"{delegate.id:032x}")
    for ballot in (listed, withheld):
        services.close_ballot(facilitator, workshop, ballot)
    assert {e.get("weight") for e in results.published_ballots(listed) if "choice" in e} == {
        0.2}
    assert not [e for e in results.published_ballots(withheld) if "choice" in e]
    assert withheld.results["secrecy"]["choices_listed"] is False


# --- The regional totals follow every change ------------------------------------------------


@pytest.mark.parametrize("method", ["approval", "points", "ranking", "matrix"])
def test_region_totals_follow_changes(app, method):
    workshop = create_workshop(steps=5)
    lines = [line.id for line in create_lines(workshop, 3)]
    ballot = open_test_ballot(workshop, method, secret=True)
    papers = {
        "approval": ([lines[0]], [lines[1], lines[2]]),
        "points": ({lines[0]: 4}, {lines[1]: 2, lines[2]: 3}),
        "ranking": ([lines[0]], [lines[2], lines[1], lines[0]]),
        "matrix": ({lines[0]: [1, 2]}, {lines[1]: [5, 5], lines[2]: [3, 4]}),
    }[method]
    amina = create_delegate(workshop, create_organisation(region="asia"))
    cast_vote(amina, ballot, papers[0], secret="a" * 32)
    cast_vote(amina, ballot, papers[1], secret="a" * 32)  # changed: the first comes off
    row = db.session.get(RegionTally, (ballot.id, "asia"))
    stored = db.session.scalar(sa.select(Vote.choices))
    expected = tally.paper_components(results.stored_choice(method, stored), method,
                                      ballot.option_ids)
    assert (row.voters, row.sums) == (1, expected)


@given(st.lists(st.tuples(st.sampled_from(("a", "b")), st.lists(st.integers(0, 3), unique=True),
                          st.sampled_from((1.0, 0.5))), max_size=12),
       st.sampled_from(("approval", "ranking")))
@settings(max_examples=100, deadline=None)
def test_group_scores_are_the_tallys_breakdown(papers, method):
    options = [0, 1, 2, 3]
    weight = {"a": 1.0, "b": 0.5}
    ballots = [tally.Ballot(weight[r], r, "", "", choice) for r, choice, _ in papers]
    run = tally.tally_approval if method == "approval" else tally.tally_ranking
    expected = run(ballots, options)
    for region in ("a", "b"):
        mine = [b for b in ballots if b.region == region]
        if not mine:
            continue
        parts = [tally.paper_components(b.choice, method, options) for b in mine]
        sums = [[sum(col) for col in zip(*(p[c] for p in parts), strict=True)]
                for c in range(len(parts[0]))]
        scores, shares = tally.group_scores(method, sums, len(mine), weight=weight[region])
        for i, option in enumerate(options):
            standing = expected.standing(option)
            assert scores[i] == pytest.approx(standing.by_region[region])
            assert shares[i] == pytest.approx(standing.region_shares[region])
