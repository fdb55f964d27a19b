"""Turnout: who could vote and who has voted, by region and organisation type (never what).

Counted from the participation table, which says who voted and never which paper is theirs.
For a secret ballot the counts by region that screens receive go through the small-cell rule
(secrecy.hidden_cells): a region where fewer than k delegates voted shows "fewer than k", so
the projector does not show whether the one delegate of a small region voted (abstaining can be
a stand too), and the frozen results hide the same regions. The eligible counts stay: who
takes part in the workshop, and from where, is public in the room.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from workshop.agenda.models import Delegate, Organisation, Workshop
from workshop.extensions import db
from workshop.voting.models import Ballot, Participation, ProxyAssignment
from workshop.voting.secrecy import hidden_cells, min_cell


def _eligible(workshop_id: int) -> list[sa.ColumnElement[bool]]:
    """Which delegates can vote: those who joined, and absent ones whose vote a proxy carries;
    where the workshop keeps a voting register, only those admitted to it."""
    proxied = sa.select(ProxyAssignment.absent_delegate_id).where(
        ProxyAssignment.workshop_id == workshop_id
    )
    keeps_register = sa.select(Workshop.voting_register).where(
        Workshop.id == workshop_id).scalar_subquery()
    return [Delegate.workshop_id == workshop_id,
            sa.or_(Delegate.joined_at.is_not(None), Delegate.id.in_(proxied)),
            sa.or_(sa.not_(keeps_register),
                   sa.and_(Delegate.admitted_at.is_not(None), Delegate.rejected_at.is_(None)))]


def eligible_delegates(workshop_id: int) -> sa.Select:
    """The ids of the delegates who can vote (`_eligible`)."""
    return sa.select(Delegate.id).where(*_eligible(workshop_id))


def region_counts(ballot: Ballot) -> dict[str, dict[str, int]]:
    """Region -> {"voted", "eligible"}, unsuppressed (for the count itself, not for screens).

    The eligible are counted with their conditions in the count's own WHERE: as a subquery of
    ids the same count took PostgreSQL 2.3 ms instead of 0.5 for 1,000 delegates (a second
    scan of the table and a hash join), on every batch of re-reads of a ballot."""
    eligible_rows = db.session.execute(
        sa.select(Organisation.region, sa.func.count(Delegate.id))
        .join(Organisation, Delegate.organisation_id == Organisation.id)
        .where(*_eligible(ballot.workshop_id))
        .group_by(Organisation.region)
    )
    voted_rows = db.session.execute(
        sa.select(Organisation.region, sa.func.count(Participation.id))
        .join(Delegate, Participation.delegate_id == Delegate.id)
        .join(Organisation, Delegate.organisation_id == Organisation.id)
        .where(Participation.ballot_id == ballot.id)
        .group_by(Organisation.region)
    )
    by_region: dict[str, dict[str, int]] = {}
    for region, count in eligible_rows:
        by_region.setdefault(region, {"voted": 0, "eligible": 0})["eligible"] = count
    for region, count in voted_rows:
        by_region.setdefault(region, {"voted": 0, "eligible": 0})["voted"] = count
    return by_region


def org_type_counts(ballot: Ballot) -> dict[str, int]:
    """Organisation type -> how many delegates of that type voted (unsuppressed)."""
    rows = db.session.execute(
        sa.select(Organisation.type, sa.func.count(Participation.id))
        .join(Delegate, Participation.delegate_id == Delegate.id)
        .join(Organisation, Delegate.organisation_id == Organisation.id)
        .where(Participation.ballot_id == ballot.id)
        .group_by(Organisation.type)
    )
    return dict(rows.all())


def turnout(ballot: Ballot) -> dict[str, Any]:
    """Who voted so far, overall and by region, against who could (never what they chose).

    A secret ballot's payload also carries `min_cell` (k); a region hidden by the small-cell
    rule has `"voted": None`.
    """
    by_region: dict[str, dict[str, Any]] = dict(region_counts(ballot))
    voted = sum(r["voted"] for r in by_region.values())
    eligible = sum(r["eligible"] for r in by_region.values())
    payload: dict[str, Any] = {"ballot_id": ballot.id, "voted": voted,
                               "eligible": max(eligible, voted), "by_region": by_region}
    if ballot.secret:
        k = min_cell(ballot)
        for region in hidden_cells({r: c["voted"] for r, c in by_region.items()}, k):
            by_region[region] = {"voted": None, "eligible": by_region[region]["eligible"]}
        payload["min_cell"] = k
    return payload
