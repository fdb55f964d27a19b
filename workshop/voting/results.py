"""From stored ballot papers to results: build the tally's input, run it, freeze the output.

The tally (workshop.voting.tally) is pure; this module is the only bridge between it and the
database. The published list of ballot papers is `published_ballots`: each entry is the
tally's canonical ballot plus its receipt code (and, for named ballots, the delegate and how
the ballot came in), and `ballots_hash` is the tally's hash of exactly that list, so anyone
can recompute it from an export.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from workshop.agenda.models import Delegate, Organisation
from workshop.db import utcnow
from workshop.extensions import db
from workshop.proposals.models import Proposal
from workshop.voting import tally
from workshop.voting.models import Ballot, BallotOption, Vote

# Results are frozen as JSON: bump this when their shape changes.
RESULTS_FORMAT = 1


def _choice(method: str, stored: list) -> Any:
    """The tally's form of a stored choice (see services.check_choices for stored forms)."""
    if method == "points":
        return {int(o): int(p) for o, p in stored}
    if method == "matrix":
        return {int(o): (int(a), int(b)) for o, a, b in stored}
    return [int(o) for o in stored]


def _weights(ballot: Ballot, votes: list[Vote]) -> dict[str, float]:
    keys = [v.id for v in votes]
    if ballot.weighting == "organisation":
        return tally.one_organisation_one_vote(
            {v.id: f"org:{v.organisation_id}" if v.organisation_id else f"vote:{v.id}"
             for v in votes})
    if ballot.weighting == "region":
        return tally.regional_balance({v.id: v.region for v in votes})
    return tally.one_delegate_one_vote(keys)


def load_votes(ballot: Ballot) -> list[Vote]:
    """Every ballot paper of a ballot, in the order of their random keys."""
    return list(db.session.scalars(
        sa.select(Vote).where(Vote.ballot_id == ballot.id).order_by(Vote.id)))


def published_ballots(ballot: Ballot, votes: list[Vote] | None = None) -> list[dict[str, Any]]:
    """The list of ballot papers as published: canonical ballot, receipt, weight.

    Secret ballots carry no delegate, no source and no organisation; named ones carry the
    delegate's name and id, their organisation and whether the paper came by phone, proxy or
    on paper.
    """
    votes = load_votes(ballot) if votes is None else votes
    weights = _weights(ballot, votes)
    names: dict[int, str] = {}
    orgs: dict[int, str] = {}
    if not ballot.secret:
        delegate_ids = [v.delegate_id for v in votes if v.delegate_id]
        names = dict(db.session.execute(
            sa.select(Delegate.id, Delegate.name).where(Delegate.id.in_(delegate_ids))).all())
        org_ids = [v.organisation_id for v in votes if v.organisation_id]
        orgs = dict(db.session.execute(
            sa.select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))
        ).all())
    out = []
    for vote in votes:
        paper = tally.Ballot(
            weight=weights[vote.id],
            region=vote.region,
            org_type=vote.org_type,
            organisation="" if ballot.secret else orgs.get(vote.organisation_id or 0, ""),
            choice=_choice(ballot.method, vote.choices),
        )
        entry = {**tally.canonical_ballot(paper, ballot.method), "receipt": vote.receipt}
        if not ballot.secret:
            entry["delegate_id"] = vote.delegate_id
            entry["delegate"] = names.get(vote.delegate_id or 0, "")
            entry["source"] = vote.source
        out.append(entry)
    return out


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


def compute(ballot: Ballot) -> tuple[dict[str, Any], str]:
    """Count a ballot: (results as JSON-ready data, hash of the published ballot papers)."""
    from workshop.voting.services import turnout

    votes = load_votes(ballot)
    options = ballot.option_ids
    weights = _weights(ballot, votes)
    papers = [
        tally.Ballot(weight=weights[v.id], region=v.region, org_type=v.org_type,
                     organisation=str(v.organisation_id or ""),
                     choice=_choice(ballot.method, v.choices))
        for v in votes
    ]
    result = _run_tally(ballot, papers, options)
    titles = dict(db.session.execute(
        sa.select(Proposal.id, Proposal.title)
        .join(BallotOption, BallotOption.proposal_id == Proposal.id)
        .where(BallotOption.ballot_id == ballot.id)).all())
    digest = tally.ballots_hash(published_ballots(ballot, votes))
    live = turnout(ballot)
    data: dict[str, Any] = {
        "format": RESULTS_FORMAT,
        "method": ballot.method,
        "weighting": ballot.weighting,
        "secret": ballot.secret,
        "computed_at": utcnow().isoformat(),
        "options": [{"id": o, "title": titles.get(o, "")} for o in options],
        "standings": [
            {"option": s.option, "rank": s.rank, "score": s.score, "consensus": s.consensus,
             "by_region": dict(s.by_region), "by_org_type": dict(s.by_org_type),
             "region_shares": dict(s.region_shares)}
            for s in result.standings
        ],
        "ranking": [list(group) for group in result.ranking],
        "turnout": {**_turnout(result.turnout), "eligible": live["eligible"]},
        "turnout_by_region": {
            region: {**_turnout(t),
                     "eligible": live["by_region"].get(region, {}).get("eligible", 0)}
            for region, t in result.turnout_by_region.items()
        },
        "turnout_by_org_type": {k: _turnout(t) for k, t in result.turnout_by_org_type.items()},
        "schulze": None,
        "matrix": None,
        "hash": digest,
    }
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
