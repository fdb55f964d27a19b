"""The lines of work of a workshop as people read them: each proposal not merged into another,
with everything merged into it and its supporters, comments, organisations and regions.

A module of its own because both the services (which queue a changed line's card for every
screen, workshop.proposals.live) and the pages read it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import sqlalchemy as sa

from workshop.agenda.models import Delegate, Organisation, Workshop
from workshop.extensions import db
from workshop.permissions import Actor, require
from workshop.proposals.models import Comment, Proposal, Support


@dataclass
class Line:
    """A proposal as people see it: with what was merged into it, counted once per person."""

    proposal: Proposal
    members: list[Proposal]  # itself and every proposal merged into it, recursively
    supporters: set[int] = field(default_factory=set)
    comment_count: int = 0
    organisations: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    supporter_regions: dict[str, int] = field(default_factory=dict)


def lines_of(actor: Actor, workshop: Workshop, include_hidden: bool = False,
             only: int | Collection[int] | None = None) -> list[Line]:
    """The workshop's lines of work (proposals not merged into another), with their counts.

    :raise PermissionDenied: the actor may not watch this workshop.
    """
    require("workshop.watch", actor, workshop)
    return read_lines(workshop, include_hidden, only)


def read_lines(workshop: Workshop, include_hidden: bool = False,
               only: int | Collection[int] | None = None) -> list[Line]:
    """`lines_of` without asking who reads: for what is sent to everyone watching (counts
    coalesced after the commit, workshop/proposals/live.py). With `only`, just that line or
    those lines, read without reading the rest of the workshop."""
    if isinstance(only, int):
        only = (only,)
    proposals = (_lines_with_members(workshop, only) if only is not None else list(
        db.session.scalars(sa.select(Proposal).where(Proposal.workshop_id == workshop.id)
                           .order_by(Proposal.id))))
    children: dict[int, list[Proposal]] = {}
    for p in proposals:
        if p.merged_into_id is not None:
            children.setdefault(p.merged_into_id, []).append(p)

    def members(p: Proposal) -> list[Proposal]:
        out, stack = [], [p]
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(children.get(current.id, []))
        return out

    tops = [p for p in proposals if p.merged_into_id is None
            and (include_hidden or not p.hidden) and (only is None or p.id in only)]
    lines = [Line(p, members(p)) for p in tops]
    member_of = {m.id: line for line in lines for m in line.members}
    if not member_of:
        return lines
    supports = db.session.execute(
        sa.select(Support.proposal_id, Support.delegate_id, Organisation.region)
        .join(Delegate, Support.delegate_id == Delegate.id)
        .outerjoin(Organisation, Delegate.organisation_id == Organisation.id)
        .where(Support.proposal_id.in_(member_of)))
    org_ids = {p.organisation_id for line in lines for p in line.members if p.organisation_id}
    org_names = dict(db.session.execute(sa.select(Organisation.id, Organisation.name)
                                        .where(Organisation.id.in_(org_ids))).all())
    for proposal_id, delegate_id, region in supports:
        line = member_of[proposal_id]
        if delegate_id not in line.supporters:
            line.supporters.add(delegate_id)
            line.supporter_regions[region or ""] = line.supporter_regions.get(region or "", 0) + 1
    counts = db.session.execute(
        sa.select(Comment.proposal_id, sa.func.count(Comment.id))
        .where(Comment.proposal_id.in_(member_of), Comment.hidden.is_(False))
        .group_by(Comment.proposal_id))
    for proposal_id, n in counts:
        member_of[proposal_id].comment_count += n
    for line in lines:
        orgs = [org_names[m.organisation_id] for m in line.members if m.organisation_id]
        line.organisations = sorted(set(orgs))
        line.regions = sorted({m.region for m in line.members if m.region})
    return lines


def _lines_with_members(workshop: Workshop, proposal_ids: Collection[int]) -> list[Proposal]:
    """These proposals and every proposal merged into them, recursively (one query per level
    of merging): some lines read without reading the workshop's every proposal."""
    found: dict[int, Proposal] = {}
    frontier = list(db.session.scalars(sa.select(Proposal).where(
        Proposal.id.in_(list(proposal_ids)), Proposal.workshop_id == workshop.id)))
    while frontier:
        found.update((p.id, p) for p in frontier)
        frontier = [p for p in db.session.scalars(sa.select(Proposal).where(
            Proposal.merged_into_id.in_([p.id for p in frontier]))) if p.id not in found]
    return sorted(found.values(), key=lambda p: p.id)
