"""The organiser's dashboard of one workshop: who takes part, what was proposed, how the
ballots went, and every export a click away. Reads only (it never closes a due ballot)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from workshop.agenda.models import Delegate, Organisation, Workshop
from workshop.exports.tables import Table, ballot_turnout, label, tables_for
from workshop.extensions import db
from workshop.permissions import Actor
from workshop.plans.models import Plan
from workshop.proposals.models import Proposal
from workshop.vocabulary import LEVELS, ORG_TYPES, REGIONS, THEMES
from workshop.voting.models import Ballot


@dataclass
class Group:
    """Participation of one region, organisation type or country."""

    code: str
    label: str
    delegates: int = 0
    joined: int = 0
    organisations: int = 0


@dataclass
class ThemeRow:
    """Lines of work of one theme, by level."""

    code: str
    label: str
    by_level: dict[str, int] = field(default_factory=dict)
    total: int = 0


@dataclass
class BallotRow:
    """A ballot and its turnout (who voted, never what)."""

    ballot: Ballot
    voted: int
    eligible: int

    @property
    def share(self) -> float | None:
        """Turnout as a share 0..1 (None when nobody could vote)."""
        return self.voted / self.eligible if self.eligible else None


@dataclass
class Dashboard:
    """Everything the dashboard page shows."""

    delegates: int
    joined: int
    organisations: int
    by_region: list[Group]
    by_org_type: list[Group]
    by_country: list[Group]
    themes: list[ThemeRow]
    levels: dict[str, Any]
    lines: int
    proposals: int
    ballots: list[BallotRow]
    tables: list[Table]
    plans: int


def _groups(rows: list[tuple[str, int, bool]], labels: dict[str, Any] | None,
            keep_all: bool) -> list[Group]:
    """Groups from (group, organisation id, joined) rows: every known group in the
    vocabulary's order when `keep_all`, else only groups with delegates, largest first."""
    groups: dict[str, Group] = {}
    if keep_all and labels:
        groups = {code: Group(code, str(text)) for code, text in labels.items()}
    organisations: dict[str, set[int]] = {}
    for code, org_id, joined in rows:
        group = groups.setdefault(code, Group(code, label(labels, code) if labels else code))
        group.delegates += 1
        group.joined += int(joined)
        organisations.setdefault(code, set()).add(org_id)
    for code, orgs in organisations.items():
        groups[code].organisations = len(orgs)
    out = list(groups.values())
    if not keep_all:
        out.sort(key=lambda g: (-g.delegates, g.label))
    return out


def dashboard(actor: Actor, workshop: Workshop) -> Dashboard:
    """The workshop's figures for its organisers and facilitators.

    :raise PermissionDenied: the actor may not export this workshop.
    """
    tables = tables_for(actor, workshop)
    people = db.session.execute(
        sa.select(Organisation.region, Organisation.type, Organisation.country,
                  Organisation.id, Delegate.joined_at.is_not(None))
        .join(Organisation, Delegate.organisation_id == Organisation.id)
        .where(Delegate.workshop_id == workshop.id)).all()
    by_region = _groups([(r, o, j) for r, _t, _c, o, j in people], REGIONS, keep_all=True)
    by_type = _groups([(t, o, j) for _r, t, _c, o, j in people], ORG_TYPES, keep_all=False)
    by_country = _groups([(c, o, j) for _r, _t, c, o, j in people], None, keep_all=False)

    proposals = db.session.execute(
        sa.select(Proposal.theme, Proposal.level, Proposal.merged_into_id.is_(None),
                  Proposal.hidden).where(Proposal.workshop_id == workshop.id)).all()
    lines = Counter((theme, level) for theme, level, top, hidden in proposals
                    if top and not hidden)
    themes = []
    for code in [*THEMES, *sorted({t for t, _l in lines} - set(THEMES))]:
        row = ThemeRow(code, label(THEMES, code))
        for level in LEVELS:
            row.by_level[level] = lines.get((code, level), 0)
        row.total = sum(n for (theme, _level), n in lines.items() if theme == code)
        themes.append(row)

    ballots = list(db.session.scalars(
        sa.select(Ballot).where(Ballot.workshop_id == workshop.id).order_by(Ballot.id.desc())))
    plans = db.session.scalar(sa.select(sa.func.count(Plan.id)).where(
        Plan.workshop_id == workshop.id, Plan.active.is_(True))) or 0
    return Dashboard(
        delegates=len(people), joined=sum(1 for p in people if p[4]),
        organisations=len({p[3] for p in people}), by_region=by_region,
        by_org_type=by_type, by_country=by_country, themes=themes, levels=LEVELS,
        lines=sum(lines.values()), proposals=len(proposals),
        ballots=[BallotRow(b, *ballot_turnout(b)) for b in ballots], tables=tables,
        plans=plans)
