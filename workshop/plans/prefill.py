"""What a new plan starts with: only what the workshop's data says, nothing invented.

From the line of work carried forward: its title, theme and level; the context from the texts
of every proposal merged into it, each in every language it exists in; the organisations,
countries and regions that proposed or supported it; the comments that drew the most replies
as points from the discussion; and the vote that carried it (rank, score, consensus, support
by region). Every other field stays empty for the working group to write.
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa

from workshop.agenda.models import Delegate, Organisation
from workshop.extensions import db
from workshop.proposals.models import Comment, Proposal, Support
from workshop.proposals.services import member_ids
from workshop.voting.models import Ballot

#: How many comments become "points from the discussion".
DISCUSSION_POINTS = 8


def row_id() -> str:
    """A stable id for a row of a list or table (merges follow rows by it)."""
    return secrets.token_hex(4)


def _context(members: list[Proposal], orgs: dict[int, Organisation]) -> str:
    blocks = []
    for p in members:
        org = orgs.get(p.organisation_id or 0)
        origin = ", ".join(x for x in (org.name if org else "", p.country) if x)
        versions = [(p.language, p.title, p.description)] + [
            (t.language, t.title, t.description)
            for t in sorted(p.translations, key=lambda t: t.language)
        ]
        lines = []
        for language, title, description in versions:
            head = f"[{language.upper()}] {title}"
            lines.append(f"{head} ({origin})" if origin and language == p.language else head)
            if description.strip():
                lines.append(description.strip())
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _discussion(member_ids_: list[int], orgs: dict[int, Organisation]) -> list[dict[str, str]]:
    comments = list(db.session.scalars(
        sa.select(Comment).where(Comment.proposal_id.in_(member_ids_),
                                 Comment.hidden.is_(False))))
    replies: dict[int, int] = {}
    for c in comments:
        if c.parent_id is not None:
            replies[c.parent_id] = replies.get(c.parent_id, 0) + 1
    top = sorted((c for c in comments if c.parent_id is None),
                 key=lambda c: (-replies.get(c.id, 0), c.created_at, c.id))[:DISCUSSION_POINTS]
    delegates = {d.id: d for d in db.session.scalars(
        sa.select(Delegate).where(Delegate.id.in_([c.delegate_id for c in top
                                                    if c.delegate_id])))}
    out = []
    for c in top:
        delegate = delegates.get(c.delegate_id or 0)
        org = orgs.get(delegate.organisation_id) if delegate else None
        who = f"{c.author_name}, {org.name}" if org else c.author_name
        out.append({"_id": row_id(), "text": f"{c.body.strip()} ({who})"})
    return out


def vote_summary(ballot: Ballot, proposal_id: int) -> dict[str, Any] | None:
    """The line's result in the ballot that carried it forward, as frozen at close."""
    results = ballot.results or {}
    standing = next((s for s in results.get("standings", []) if s["option"] == proposal_id),
                    None)
    if standing is None:
        return None
    return {
        "ballot_id": ballot.id,
        "ballot": ballot.title,
        "method": ballot.method,
        "secret": ballot.secret,
        "rank": standing["rank"],
        "score": standing["score"],
        "consensus": standing["consensus"],
        "region_shares": standing.get("region_shares", {}),
        "options": len(results.get("options", [])),
        "turnout": results.get("turnout", {}),
        "hash": ballot.ballots_hash,
    }


def prefill(proposal: Proposal) -> dict[str, Any]:
    """The starting values of a plan's fields (by key) for a line of work."""
    ids = member_ids(proposal)
    members = list(db.session.scalars(
        sa.select(Proposal).where(Proposal.id.in_(ids)).order_by(Proposal.id)))
    supporter_orgs = set(db.session.scalars(
        sa.select(Delegate.organisation_id).join(Support, Support.delegate_id == Delegate.id)
        .where(Support.proposal_id.in_(ids))))
    proposer_orgs = {p.organisation_id for p in members if p.organisation_id}
    org_ids = proposer_orgs | supporter_orgs
    orgs = {o.id: o for o in db.session.scalars(
        sa.select(Organisation).where(Organisation.id.in_(org_ids)))}
    countries = {p.country for p in members if p.country} | {o.country for o in orgs.values()}
    regions = {p.region for p in members if p.region} | {o.region for o in orgs.values()}
    return {
        "title": proposal.title,
        "theme": proposal.theme,
        "level": [proposal.level] if proposal.level else [],
        "context": _context(members, orgs),
        "discussion": _discussion(ids, orgs),
        "partners": sorted((str(i) for i in orgs), key=int),
        "countries": sorted(countries),
        "regions": sorted(regions),
    }
