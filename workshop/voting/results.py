"""From stored ballot papers to results: build the tally's input, run it, freeze the output.

The tally (workshop.voting.tally) is pure; this module is the only bridge between it and the
database, including the running regional totals of secret ballots (`add_to_region`). The
published list of ballot papers is `published_ballots`, and `ballots_hash` is the tally's hash
of exactly that list, so anyone can recompute it from an export.

A named ballot publishes each paper whole: canonical ballot, receipt, delegate, source. A
secret ballot publishes two lists with no link between them: the receipt codes (a voter finds
theirs: the paper was counted) and the papers' choices and weights in a canonical order (anyone
can recount), the latter only when no group of papers of equal weight is smaller than k and
never under one organisation one vote (see workshop/voting/secrecy.py). Its frozen results are
already suppressed (small cells withheld), so everything built from them inherits it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa

from workshop.agenda.models import Delegate, Organisation
from workshop.db import utcnow
from workshop.extensions import db
from workshop.group_commit import add_later, held, held_row, hold_rows
from workshop.proposals.models import Proposal
from workshop.vocabulary import REGIONS
from workshop.voting import tally
from workshop.voting.models import Ballot, BallotOption, RegionTally, Vote
from workshop.voting.secrecy import hidden_cells, min_cell
from workshop.voting.turnout import org_type_counts, region_counts

# Results are frozen as JSON: bump this when their shape changes. 2: secret ballots carry
# `secrecy` and only the cells that may be published.
RESULTS_FORMAT = 2


def stored_choice(method: str, stored: list) -> Any:
    """The tally's form of a stored choice (see services.check_choices for stored forms)."""
    if method == "points":
        return {int(o): int(p) for o, p in stored}
    if method == "matrix":
        return {int(o): (int(a), int(b)) for o, a, b in stored}
    return [int(o) for o in stored]


def _weights(ballot: Ballot, votes: list[Vote]) -> dict[str, float]:
    keys = [v.id for v in votes]
    if ballot.weighting == "organisation":
        return tally.one_organisation_one_vote({v.id: _organisation_of(v) for v in votes})
    if ballot.weighting == "region":
        return tally.regional_balance({v.id: v.region or "" for v in votes})
    return tally.one_delegate_one_vote(keys)


def _organisation_of(vote: Vote) -> str:
    if vote.org_key:
        return f"key:{vote.org_key}"
    if vote.organisation_id:
        return f"org:{vote.organisation_id}"
    return f"vote:{vote.id}"


def load_votes(ballot: Ballot) -> list[Vote]:
    """Every ballot paper of a ballot, in the order of their random keys."""
    return list(db.session.scalars(
        sa.select(Vote).where(Vote.ballot_id == ballot.id).order_by(Vote.id)))


# --------------------------------------------------------------------------------------------
# Running totals per region of a secret ballot


def add_to_region(ballot: Ballot, region: str, stored: list, sign: int = 1) -> None:
    """Add a secret paper to its region's totals (`sign` -1: take it off), in this transaction.

    The region's row is locked first, so two papers of one region never lose an update; a
    transaction that locked it already (a batch of casts) uses the row it holds. The papers
    of one transaction are added up in plain numbers and the row changed once, before the
    next flush (group_commit.add_later): a batch of 200 casts changes it once, not 200 times.
    """
    key = (ballot.id, region)
    row = held_row("region_tally", key, lambda: (
        sa.select(RegionTally)
        .where(RegionTally.ballot_id == ballot.id, RegionTally.region == region)
        .with_for_update().execution_options(populate_existing=True)))
    parts = tally.paper_components(stored_choice(ballot.method, stored), ballot.method,
                                   ballot.known_options)
    if row is None:
        row = RegionTally(ballot_id=ballot.id, region=region, voters=0,
                          sums=[[0] * len(part) for part in parts])
        db.session.add(row)
        held("region_tally")[key] = row
    added = add_later(("region_tally", key), partial(_add_up, row),
                      lambda: _Added(0, [[0] * len(totals) for totals in row.sums]))
    added.voters += sign
    # Totals begun before a component was added (a ranking's consensus part) keep the
    # components they have; the tally reads such totals by its earlier definition.
    for totals, part in zip(added.sums, parts[:len(added.sums)], strict=True):
        totals[:] = [total + sign * value for total, value in zip(totals, part, strict=True)]


@dataclass
class _Added:
    """What a transaction's papers added to a region's totals (see add_to_region)."""

    voters: int
    sums: list[list[int]]


def _add_up(row: RegionTally, added: _Added) -> None:
    """Change a region's totals by what a transaction's papers added up (see add_to_region)."""
    row.voters = (row.voters or 0) + added.voters
    row.sums = [[total + value for total, value in zip(totals, more, strict=True)]
                for totals, more in zip(row.sums, added.sums, strict=True)]


def hold_regions(ballot: Ballot) -> None:
    """Lock a secret ballot's running totals in every region at once and keep them for
    `add_to_region` (a region without totals yet is kept as None: its first paper adds them).
    The caller holds the ballot's own lock, so two transactions never lock them in turn."""
    hold_rows("region_tally", ((ballot.id, region) for region in REGIONS),
              db.session.scalars(
                  sa.select(RegionTally).where(RegionTally.ballot_id == ballot.id)
                  .order_by(RegionTally.region).with_for_update()
                  .execution_options(populate_existing=True)),
              lambda row: (row.ballot_id, row.region))


def region_tallies(ballot: Ballot) -> dict[str, RegionTally]:
    """Region -> the secret ballot's running totals there (regions with papers only)."""
    rows = db.session.scalars(sa.select(RegionTally).where(RegionTally.ballot_id == ballot.id))
    return {row.region: row for row in rows if row.voters > 0}


# --------------------------------------------------------------------------------------------
# The published list


def _serialised(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def choices_listed(ballot: Ballot, weights: dict[str, float]) -> bool:
    """Whether a secret ballot's papers may be listed: every group of papers of one weight
    holds at least k of them, and the weighting is not by organisation."""
    if ballot.weighting == "organisation":
        return False
    k = min_cell(ballot)
    return all(n >= k for n in Counter(weights.values()).values())


def published_ballots(ballot: Ballot, votes: list[Vote] | None = None) -> list[dict[str, Any]]:
    """The list of ballot papers as published after close; `ballots_hash` hashes exactly it.

    Named: one entry per paper, the canonical ballot with its receipt, the delegate's name and
    id, their organisation and how the paper came in (phone, proxy, paper).
    Secret: `{"receipt"}` entries, sorted, then (if `choices_listed`) `{"choice", "weight"}`
    entries in canonical order; no entry holds both, none a region, type or organisation.
    """
    votes = load_votes(ballot) if votes is None else votes
    weights = _weights(ballot, votes)
    if ballot.secret:
        out: list[dict[str, Any]] = [{"receipt": code} for code in sorted(v.receipt for v in votes)]
        if choices_listed(ballot, weights):
            papers = [{"choice": tally.canonical_choice(stored_choice(ballot.method, v.choices),
                                                        ballot.method),
                       "weight": float(weights[v.id])} for v in votes]
            out += sorted(papers, key=_serialised)
        return out
    delegate_ids = [v.delegate_id for v in votes if v.delegate_id]
    names = dict(db.session.execute(
        sa.select(Delegate.id, Delegate.name).where(Delegate.id.in_(delegate_ids))).all())
    org_ids = [v.organisation_id for v in votes if v.organisation_id]
    orgs = dict(db.session.execute(
        sa.select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))
    ).all())
    named = []
    for vote in votes:
        paper = tally.Ballot(
            weight=weights[vote.id],
            region=vote.region or "",
            org_type=vote.org_type or "",
            organisation=orgs.get(vote.organisation_id or 0, ""),
            choice=stored_choice(ballot.method, vote.choices),
        )
        named.append({**tally.canonical_ballot(paper, ballot.method), "receipt": vote.receipt,
                      "delegate_id": vote.delegate_id,
                      "delegate": names.get(vote.delegate_id or 0, ""), "source": vote.source})
    return named


# --------------------------------------------------------------------------------------------
# Counting


def _turnout(t: tally.Turnout) -> dict[str, Any]:
    return {"count": t.count, "weight": t.weight}


def _run_tally(ballot: Ballot, papers: list[tally.Ballot], options: list[int]
               ) -> tally.TallyResult:
    if ballot.method == "approval":
        return tally.tally_approval(papers, options, max_approvals=ballot.max_approvals)
    if ballot.method == "points":
        return tally.tally_points(papers, options, budget=ballot.budget,
                                  max_per_option=ballot.max_per_option)
    if ballot.method == "ranking":
        return tally.tally_ranking(papers, options)
    return tally.tally_matrix(papers, options)


def _named_breakdowns(result: tally.TallyResult, counts: dict[str, dict[str, int]]
                      ) -> dict[str, Any]:
    return {
        "standings": [
            {"option": s.option, "rank": s.rank, "score": s.score, "consensus": s.consensus,
             "by_region": dict(s.by_region), "by_org_type": dict(s.by_org_type),
             "region_shares": dict(s.region_shares)}
            for s in result.standings
        ],
        "turnout_by_region": {
            region: {**_turnout(t), "eligible": counts.get(region, {}).get("eligible", 0)}
            for region, t in result.turnout_by_region.items()
        },
        "turnout_by_org_type": {k: _turnout(t) for k, t in result.turnout_by_org_type.items()},
    }


def _region_weight(ballot: Ballot, voters: int) -> float | None:
    """What a region's papers weigh together (unknown per region under organisation weights)."""
    if ballot.weighting == "delegate":
        return float(voters)
    if ballot.weighting == "region":
        return 1.0
    return None


def _secret_breakdowns(ballot: Ballot, result: tally.TallyResult,
                       counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Breakdowns of a secret ballot from its regional totals, small cells withheld.

    Region cells come from RegionTally (papers do not know their region); a region is shown
    only if `hidden_cells` keeps it, and consensus is the minimum share over the shown regions
    (None when none is shown). No choices by organisation type (see secrecy.py); turnout by
    type is counted from the participation table and withheld the same way. Hidden regions and
    types are listed under `secrecy` with nothing about them but the region's eligible count.
    """
    k = min_cell(ballot)
    tallies = region_tallies(ballot)
    voters = {r: 0 for r in counts} | {r: row.voters for r, row in tallies.items()}
    hidden = hidden_cells(voters, k)
    shown = sorted(r for r in tallies if r not in hidden)
    by_region: dict[str, list[float]] = {}
    shares: dict[str, list[float]] = {}
    for region in shown:
        row = tallies[region]
        weight = 1.0 / row.voters if ballot.weighting == "region" else 1.0
        by_region[region], shares[region] = tally.group_scores(
            ballot.method, row.sums, row.voters, weight=weight, budget=ballot.budget,
            max_per_option=ballot.max_per_option)
    index = {o: i for i, o in enumerate(result.options)}
    standings = []
    for s in result.standings:
        i = index[s.option]
        region_shares = {r: shares[r][i] for r in shown}
        standings.append({
            "option": s.option, "rank": s.rank, "score": s.score,
            "consensus": min(region_shares.values()) if region_shares else None,
            "by_region": {r: by_region[r][i] for r in shown}, "by_org_type": {},
            "region_shares": region_shares})
    type_counts = org_type_counts(ballot)
    hidden_types = hidden_cells(type_counts, k)
    return {
        "standings": standings,
        "turnout_by_region": {
            r: {"count": tallies[r].voters, "weight": _region_weight(ballot, tallies[r].voters),
                "eligible": counts.get(r, {}).get("eligible", 0)} for r in shown},
        "turnout_by_org_type": {t: {"count": n, "weight": None}
                                for t, n in sorted(type_counts.items()) if t not in hidden_types},
        "secrecy": {
            "min_cell": k,
            "hidden_regions": {r: {"eligible": counts.get(r, {}).get("eligible", 0)}
                               for r in sorted(hidden)},
            "hidden_org_types": sorted(hidden_types),
            "region_breakdown": "per_delegate" if ballot.weighting == "organisation"
            else "weighted",
            "by_org_type": False,
        },
    }


def compute(ballot: Ballot) -> tuple[dict[str, Any], str]:
    """Count a ballot: (results as JSON-ready data, hash of the published ballot papers).

    A secret ballot's results are counted without any paper's region, type or organisation,
    and hold only the cells the small-cell rule lets out.
    """
    votes = load_votes(ballot)
    options = ballot.option_ids
    weights = _weights(ballot, votes)
    secret = ballot.secret
    papers = [
        tally.Ballot(weight=weights[v.id], region="" if secret else v.region or "",
                     org_type="" if secret else v.org_type or "",
                     organisation="" if secret else str(v.organisation_id or ""),
                     choice=stored_choice(ballot.method, v.choices))
        for v in votes
    ]
    result = _run_tally(ballot, papers, options)
    titles = dict(db.session.execute(
        sa.select(Proposal.id, Proposal.title)
        .join(BallotOption, BallotOption.proposal_id == Proposal.id)
        .where(BallotOption.ballot_id == ballot.id)).all())
    published = published_ballots(ballot, votes)
    digest = tally.ballots_hash(published)
    counts = region_counts(ballot)
    eligible = sum(c["eligible"] for c in counts.values())
    data: dict[str, Any] = {
        "format": RESULTS_FORMAT,
        "method": ballot.method,
        "weighting": ballot.weighting,
        "secret": secret,
        "computed_at": utcnow().isoformat(),
        "options": [{"id": o, "title": titles.get(o, "")} for o in options],
        "ranking": [list(group) for group in result.ranking],
        "turnout": {**_turnout(result.turnout), "eligible": max(eligible, result.turnout.count)},
        "schulze": None,
        "matrix": None,
        "hash": digest,
    }
    if secret:
        data.update(_secret_breakdowns(ballot, result, counts))
        data["secrecy"]["choices_listed"] = choices_listed(ballot, weights)
    else:
        data.update(_named_breakdowns(result, counts))
    if result.schulze is not None:
        s = result.schulze
        data["schulze"] = {
            "ranking": [list(group) for group in s.ranking],
            "ranks": {str(o): r for o, r in s.ranks.items()},
            "winners": list(s.winners),
            "condorcet_winner": s.condorcet_winner,
        }
    if result.matrix is not None:
        data["matrix"] = [
            {"option": p.option, "first": p.first, "second": p.second,
             "combined": p.combined, "raters": p.raters}
            for p in result.matrix
        ]
    return data, digest
