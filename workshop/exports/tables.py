"""The tables of a workshop's export: one function per table, rows of plain values.

A row is a dict keyed by the table's column keys; values are str, int, float, bool, None,
datetime (naive UTC, as stored), or lists and dicts of those. Labels of the fixed vocabularies
(regions, organisation types, themes, levels, methods) are given in the reader's language next
to their codes. Nothing here knows CSV, XLSX or JSON (see `formats`).

Secret ballots. Every table about ballots is built from what is already published for them
and nothing else: the papers from `results.published_ballots` (after close: the receipt codes
and, apart from them, the choices and weights in canonical order, when the small-cell rule lets
them out), the results, breakdowns and turnout from the frozen results (which hold only the
cells of at least k voters). A secret paper's row carries only its receipt, or only its choice
and weight: every column that could name or place a voter is empty (see `ballot_paper_rows`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased, selectinload

from workshop.agenda.models import Delegate, Organisation, Workshop
from workshop.audit.models import AuditEntry
from workshop.errors import NotFound
from workshop.extensions import db
from workshop.permissions import Actor, can, require
from workshop.proposals.models import Comment, Proposal, Support
from workshop.vocabulary import LEVELS, ORG_TYPES, REGIONS, THEMES
from workshop.voting import results as results_module
from workshop.voting.models import Ballot, ProxyAssignment
from workshop.voting.turnout import turnout as live_turnout
from workshop.voting.views import METHOD_LABELS, WEIGHTING_LABELS

#: Rows fetched from the database at a time while a table streams.
BATCH = 500

Row = dict[str, Any]


@dataclass(frozen=True)
class Column:
    """One column: its key (in JSON and code) and its heading (a lazy, translatable label)."""

    key: str
    label: Any


@dataclass(frozen=True)
class Table:
    """One table of the export: its name (files, sheets, URLs), title, columns and rows.

    `permission` is a rule the reader needs besides `workshop.export` (the audit log is read
    by organisers only, as on its page).
    """

    name: str
    title: Any
    columns: tuple[Column, ...]
    rows: Callable[[Workshop], Iterator[Row]]
    permission: str | None = None

    @property
    def keys(self) -> list[str]:
        """The column keys, in order."""
        return [c.key for c in self.columns]


def label(vocabulary: dict[str, Any], code: str | None) -> str:
    """A vocabulary code's label in the reader's language ('' for none, the code if unknown)."""
    if not code:
        return ""
    return str(vocabulary.get(code, code))


# --- Columns shared by several tables ---------------------------------------------------------

ID = Column("id", _l("Id"))
REGION = Column("region", _l("Region (code)"))
REGION_LABEL = Column("region_label", _l("Region"))
ORG_TYPE = Column("org_type", _l("Organisation type (code)"))
ORG_TYPE_LABEL = Column("org_type_label", _l("Organisation type"))
COUNTRY = Column("country", _l("Country"))
BALLOT_ID = Column("ballot_id", _l("Ballot id"))
BALLOT_TITLE = Column("ballot", _l("Ballot"))
OPTION_ID = Column("option_id", _l("Line of work id"))
OPTION_TITLE = Column("option", _l("Line of work"))
PROPOSAL_ID = Column("proposal_id", _l("Proposal id"))


# --- Organisations and delegates --------------------------------------------------------------


def _delegate_ids(workshop: Workshop) -> sa.Select:
    return sa.select(Delegate.id).where(Delegate.workshop_id == workshop.id)


def organisation_rows(workshop: Workshop) -> Iterator[Row]:
    """The organisations that sent delegates to the workshop or proposed a line of work."""
    delegates = dict(db.session.execute(
        sa.select(Delegate.organisation_id, sa.func.count(Delegate.id))
        .where(Delegate.workshop_id == workshop.id).group_by(Delegate.organisation_id)).all())
    proposing = sa.select(Proposal.organisation_id).where(
        Proposal.workshop_id == workshop.id, Proposal.organisation_id.is_not(None))
    stmt = (sa.select(Organisation)
            .where(sa.or_(Organisation.id.in_(list(delegates)),
                          Organisation.id.in_(proposing)))
            .order_by(Organisation.name, Organisation.id))
    for org in db.session.scalars(stmt.execution_options(yield_per=BATCH)):
        yield {"id": org.id, "name": org.name, "country": org.country, "region": org.region,
               "region_label": label(REGIONS, org.region), "org_type": org.type,
               "org_type_label": label(ORG_TYPES, org.type),
               "delegates": delegates.get(org.id, 0)}


def delegate_rows(workshop: Workshop) -> Iterator[Row]:
    """Every delegate of the workshop: organisation, language, invitation, joining, register
    and the proxy holder who carries their vote (if any)."""
    holder = aliased(Delegate)
    proxies = {absent: (holder_id, name) for absent, holder_id, name in db.session.execute(
        sa.select(ProxyAssignment.absent_delegate_id, holder.id, holder.name)
        .join(holder, ProxyAssignment.holder_delegate_id == holder.id)
        .where(ProxyAssignment.workshop_id == workshop.id))}
    stmt = (sa.select(Delegate, Organisation)
            .join(Organisation, Delegate.organisation_id == Organisation.id)
            .where(Delegate.workshop_id == workshop.id).order_by(Delegate.id))
    for delegate, org in db.session.execute(stmt.execution_options(yield_per=BATCH)):
        holder_id, holder_name = proxies.get(delegate.id, (None, ""))
        yield {"id": delegate.id, "name": delegate.name, "organisation_id": org.id,
               "organisation": org.name, "country": org.country, "region": org.region,
               "region_label": label(REGIONS, org.region), "org_type": org.type,
               "org_type_label": label(ORG_TYPES, org.type), "language": delegate.locale or "",
               "invited_at": delegate.invited_at, "joined_at": delegate.joined_at,
               "admitted": delegate.admitted, "admitted_by": delegate.admitted_by,
               "rejected_at": delegate.rejected_at, "proxy_holder_id": holder_id,
               "proxy_holder": holder_name}


# --- Proposals, comments, supports ------------------------------------------------------------


def _merge_tree(workshop: Workshop) -> tuple[dict[int, list[int]], dict[int, int]]:
    """(proposal -> the proposals merged straight into it, proposal -> its line of work)."""
    parents = dict(db.session.execute(
        sa.select(Proposal.id, Proposal.merged_into_id)
        .where(Proposal.workshop_id == workshop.id)).all())
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(pid)

    def line_of(pid: int) -> int:
        seen = {pid}
        while parents.get(pid) is not None and parents[pid] not in seen:
            pid = parents[pid]
            seen.add(pid)
        return pid

    return ({k: sorted(v) for k, v in children.items()},
            {pid: line_of(pid) for pid in parents})


def proposal_rows(workshop: Workshop) -> Iterator[Row]:
    """Every proposal in every language it exists in: the original first, then each
    translation; with its merge origins (what was merged into it, what it was merged into, the
    line of work it belongs to), its supporters and comments counted."""
    children, lines = _merge_tree(workshop)
    names = dict(db.session.execute(
        sa.select(Delegate.id, Delegate.name).where(Delegate.workshop_id == workshop.id)).all())
    orgs = dict(db.session.execute(sa.select(Organisation.id, Organisation.name)).all())
    supporters = dict(db.session.execute(
        sa.select(Support.proposal_id, sa.func.count(Support.id))
        .join(Proposal, Support.proposal_id == Proposal.id)
        .where(Proposal.workshop_id == workshop.id).group_by(Support.proposal_id)).all())
    comments = dict(db.session.execute(
        sa.select(Comment.proposal_id, sa.func.count(Comment.id))
        .join(Proposal, Comment.proposal_id == Proposal.id)
        .where(Proposal.workshop_id == workshop.id).group_by(Comment.proposal_id)).all())
    stmt = (sa.select(Proposal).where(Proposal.workshop_id == workshop.id)
            .options(selectinload(Proposal.translations)).order_by(Proposal.id))
    for p in db.session.scalars(stmt.execution_options(yield_per=BATCH)):
        common = {
            "id": p.id, "theme": p.theme, "theme_label": label(THEMES, p.theme),
            "level": p.level, "level_label": label(LEVELS, p.level), "tags": list(p.tags or []),
            "source": p.source, "delegate_id": p.delegate_id,
            "delegate": names.get(p.delegate_id or 0, ""),
            "organisation_id": p.organisation_id,
            "organisation": orgs.get(p.organisation_id or 0, ""),
            "country": p.country, "region": p.region, "region_label": label(REGIONS, p.region),
            "hidden": p.hidden, "hidden_reason": p.hidden_reason,
            "merged_into_id": p.merged_into_id, "merged_from": children.get(p.id, []),
            "line_id": lines.get(p.id, p.id), "supporters": supporters.get(p.id, 0),
            "comments": comments.get(p.id, 0), "created_at": p.created_at,
        }
        yield {**common, "language": p.language, "original": True, "title": p.title,
               "description": p.description, "translated_by": "", "version_at": p.updated_at}
        for t in sorted(p.translations, key=lambda t: t.language):
            yield {**common, "language": t.language, "original": False, "title": t.title,
                   "description": t.description, "translated_by": t.translated_by,
                   "version_at": t.created_at}


def comment_rows(workshop: Workshop) -> Iterator[Row]:
    """Every comment and reply, hidden ones marked (with the moderator's reason)."""
    stmt = (sa.select(Comment).join(Proposal, Comment.proposal_id == Proposal.id)
            .where(Proposal.workshop_id == workshop.id).order_by(Comment.id))
    for c in db.session.scalars(stmt.execution_options(yield_per=BATCH)):
        yield {"id": c.id, "proposal_id": c.proposal_id, "parent_id": c.parent_id,
               "delegate_id": c.delegate_id, "author": c.author_name, "language": c.language,
               "body": c.body, "hidden": c.hidden, "hidden_reason": c.hidden_reason,
               "created_at": c.created_at}


def support_rows(workshop: Workshop) -> Iterator[Row]:
    """How many delegates support (+1) each proposal, by the region of their organisation."""
    _children, lines = _merge_tree(workshop)
    stmt = (sa.select(Support.proposal_id, Proposal.title, Organisation.region,
                      sa.func.count(sa.distinct(Support.delegate_id)))
            .join(Proposal, Support.proposal_id == Proposal.id)
            .join(Delegate, Support.delegate_id == Delegate.id)
            .join(Organisation, Delegate.organisation_id == Organisation.id)
            .where(Proposal.workshop_id == workshop.id)
            .group_by(Support.proposal_id, Proposal.title, Organisation.region)
            .order_by(Support.proposal_id, Organisation.region))
    for proposal_id, title, region, count in db.session.execute(stmt):
        yield {"proposal_id": proposal_id, "proposal": title,
               "line_id": lines.get(proposal_id, proposal_id), "region": region,
               "region_label": label(REGIONS, region), "supporters": count}


# --- Ballots ---------------------------------------------------------------------------------


def _ballots(workshop: Workshop) -> list[Ballot]:
    return list(db.session.scalars(
        sa.select(Ballot).where(Ballot.workshop_id == workshop.id).order_by(Ballot.id)))


def _closed(workshop: Workshop) -> Iterator[Ballot]:
    """The workshop's closed ballots with frozen results, in id order."""
    for ballot in _ballots(workshop):
        if not ballot.is_open and ballot.results is not None:
            yield ballot


def ballot_turnout(ballot: Ballot) -> tuple[int, int]:
    """(voted, eligible): frozen at close, counted now while the ballot is open."""
    if ballot.results is not None:
        frozen = ballot.results.get("turnout", {})
        return int(frozen.get("count", 0)), int(frozen.get("eligible", 0))
    now = live_turnout(ballot)
    return now["voted"], now["eligible"]


def ballot_rows(workshop: Workshop) -> Iterator[Row]:
    """Every ballot: its settings, status, turnout, hash and the lines selected from it."""
    for b in _ballots(workshop):
        voted, eligible = ballot_turnout(b)
        yield {"id": b.id, "title": b.title, "method": b.method,
               "method_label": label(METHOD_LABELS, b.method), "weighting": b.weighting,
               "weighting_label": label(WEIGHTING_LABELS, b.weighting), "secret": b.secret,
               "status": b.status, "options": b.option_ids, "max_approvals": b.max_approvals,
               "budget": b.budget, "max_per_option": b.max_per_option,
               "criterion_1": b.criterion_1, "criterion_2": b.criterion_2,
               "min_cell": b.min_cell if b.secret else None, "opened_at": b.opened_at,
               "closes_at": b.closes_at, "closed_at": b.closed_at, "voted": voted,
               "eligible": eligible, "hash": b.ballots_hash,
               "selected": list(b.selected_proposal_ids or [])}


#: What a secret ballot's published entries may hold: a receipt alone, or a choice and weight.
SECRET_ENTRIES = ({"receipt"}, {"choice", "weight"})
#: The columns of a paper that could name or place its voter: always empty in a secret ballot.
IDENTITY_KEYS = ("delegate_id", "delegate", "organisation", "region", "org_type", "source")


def secret_paper_row(ballot_id: int, entry: dict[str, Any]) -> Row:
    """One entry of a secret ballot's published list as a row: the receipt code alone, or the
    choice and weight alone; nothing else is copied, whatever the entry holds.

    :raise ValueError: an entry that is neither (the published list changed shape: stop
        rather than export something that was never meant to be published).
    """
    if set(entry) not in SECRET_ENTRIES:
        raise ValueError(f"unexpected secret ballot entry with keys {sorted(entry)}")
    row: Row = {"ballot_id": ballot_id, "secret": True, "entry": "", "receipt": "",
                "choice": None, "weight": None, **dict.fromkeys(IDENTITY_KEYS)}
    if "receipt" in entry:
        row.update(entry="receipt", receipt=entry["receipt"])
    else:
        row.update(entry="paper", choice=entry["choice"], weight=entry["weight"])
    return row


def ballot_paper_rows(workshop: Workshop) -> Iterator[Row]:
    """The published list of ballot papers of every closed ballot (the list `ballots_hash`
    covers, so an export can be checked against the screen).

    A named ballot: one row per paper with its receipt, delegate, organisation, region, type
    and how it came in (phone, proxy, paper). A secret ballot: the receipt codes (sorted), then
    apart from them the papers' choices and weights in canonical order, when the small-cell
    rule lets them be listed; no row names or places a voter, none holds both a receipt and a
    choice. Open ballots have no published papers yet.
    """
    for ballot in _closed(workshop):
        for entry in results_module.published_ballots(ballot):
            if ballot.secret:
                yield secret_paper_row(ballot.id, entry)
                continue
            yield {"ballot_id": ballot.id, "secret": False, "entry": "paper",
                   "receipt": entry["receipt"], "choice": entry["choice"],
                   "weight": entry["weight"], "delegate_id": entry["delegate_id"],
                   "delegate": entry["delegate"], "organisation": entry["organisation"],
                   "region": entry["region"], "org_type": entry["org_type"],
                   "source": entry["source"]}


def _titles(results: dict[str, Any]) -> dict[int, str]:
    return {o["id"]: o.get("title", "") for o in results.get("options", [])}


def result_rows(workshop: Workshop) -> Iterator[Row]:
    """The frozen results of every closed ballot: each line's rank, score, consensus, its
    Schulze rank, its matrix ratings, and whether it was selected (carried forward)."""
    for ballot in _closed(workshop):
        frozen = ballot.results or {}
        titles = _titles(frozen)
        schulze = frozen.get("schulze") or {}
        ranks = schulze.get("ranks", {})
        matrix = {m["option"]: m for m in frozen.get("matrix") or []}
        selected = set(ballot.selected_proposal_ids or [])
        standings = sorted(frozen.get("standings", []), key=lambda s: (s["rank"], s["option"]))
        for s in standings:
            option = s["option"]
            m = matrix.get(option, {})
            yield {"ballot_id": ballot.id, "ballot": ballot.title, "option_id": option,
                   "option": titles.get(option, ""), "rank": s["rank"], "score": s["score"],
                   "consensus": s.get("consensus"), "schulze_rank": ranks.get(str(option)),
                   "condorcet_winner": (schulze.get("condorcet_winner") == option
                                        if schulze else None),
                   "first": m.get("first"), "second": m.get("second"),
                   "combined": m.get("combined"), "raters": m.get("raters"),
                   "selected": option in selected}


def breakdown_rows(workshop: Workshop) -> Iterator[Row]:
    """Each line's score (and share of its region's support) by region and by organisation
    type, from the frozen results: a secret ballot's hold only the regions of at least k
    voters, and no organisation types."""
    for ballot in _closed(workshop):
        frozen = ballot.results or {}
        titles = _titles(frozen)
        standings = sorted(frozen.get("standings", []), key=lambda s: (s["rank"], s["option"]))
        for s in standings:
            base = {"ballot_id": ballot.id, "option_id": s["option"],
                    "option": titles.get(s["option"], "")}
            shares = s.get("region_shares") or {}
            for region, value in sorted((s.get("by_region") or {}).items()):
                yield {**base, "dimension": "region", "group": region,
                       "group_label": label(REGIONS, region), "score": value,
                       "share": shares.get(region)}
            for org_type, value in sorted((s.get("by_org_type") or {}).items()):
                yield {**base, "dimension": "org_type", "group": org_type,
                       "group_label": label(ORG_TYPES, org_type), "score": value,
                       "share": None}


def turnout_rows(workshop: Workshop) -> Iterator[Row]:
    """Who voted in each closed ballot by region and organisation type (never what), from the
    frozen results; a group withheld by the small-cell rule is listed as withheld, with no
    count (a region keeps its eligible count: who takes part, and from where, is public)."""
    for ballot in _closed(workshop):
        frozen = ballot.results or {}
        base = {"ballot_id": ballot.id, "ballot": ballot.title}
        for region, t in sorted((frozen.get("turnout_by_region") or {}).items()):
            yield {**base, "dimension": "region", "group": region,
                   "group_label": label(REGIONS, region), "voters": t.get("count"),
                   "weight": t.get("weight"), "eligible": t.get("eligible"), "withheld": False}
        for org_type, t in sorted((frozen.get("turnout_by_org_type") or {}).items()):
            yield {**base, "dimension": "org_type", "group": org_type,
                   "group_label": label(ORG_TYPES, org_type), "voters": t.get("count"),
                   "weight": t.get("weight"), "eligible": None, "withheld": False}
        withheld = frozen.get("secrecy") or {}
        for region, t in sorted((withheld.get("hidden_regions") or {}).items()):
            yield {**base, "dimension": "region", "group": region,
                   "group_label": label(REGIONS, region), "voters": None, "weight": None,
                   "eligible": t.get("eligible"), "withheld": True}
        for org_type in withheld.get("hidden_org_types") or []:
            yield {**base, "dimension": "org_type", "group": org_type,
                   "group_label": label(ORG_TYPES, org_type), "voters": None, "weight": None,
                   "eligible": None, "withheld": True}


# --- Audit log --------------------------------------------------------------------------------


def audit_rows(workshop: Workshop) -> Iterator[Row]:
    """The workshop's audit log, oldest first: who did what, when, with the details."""
    stmt = (sa.select(AuditEntry).where(AuditEntry.workshop_id == workshop.id)
            .order_by(AuditEntry.created_at, AuditEntry.id))
    for e in db.session.scalars(stmt.execution_options(yield_per=BATCH)):
        yield {"id": e.id, "created_at": e.created_at, "actor_kind": e.actor_kind,
               "actor_id": e.actor_id, "actor": e.actor_name, "operation": e.operation,
               "details": dict(e.details or {})}


# --- The tables, in order ---------------------------------------------------------------------


def _columns(*columns: Column | tuple[str, Any]) -> tuple[Column, ...]:
    return tuple(c if isinstance(c, Column) else Column(*c) for c in columns)


def _tables() -> Iterable[Table]:
    yield Table("organisations", _l("Organisations"), _columns(
        ID, ("name", _l("Name")), COUNTRY, REGION, REGION_LABEL, ORG_TYPE, ORG_TYPE_LABEL,
        ("delegates", _l("Delegates"))), organisation_rows)
    yield Table("delegates", _l("Delegates"), _columns(
        ID, ("name", _l("Name")), ("organisation_id", _l("Organisation id")),
        ("organisation", _l("Organisation")), COUNTRY, REGION, REGION_LABEL, ORG_TYPE,
        ORG_TYPE_LABEL, ("language", _l("Language")),
        ("invited_at", _l("Invited at (UTC)")), ("joined_at", _l("Joined at (UTC)")),
        ("admitted", _l("On the voting register")), ("admitted_by", _l("Admitted by")),
        ("rejected_at", _l("Rejected at (UTC)")),
        ("proxy_holder_id", _l("Proxy holder id")), ("proxy_holder", _l("Proxy holder"))),
        delegate_rows)
    yield Table("proposals", _l("Proposals"), _columns(
        ID, ("language", _l("Language")), ("original", _l("Original version")),
        ("title", _l("Title")), ("description", _l("Description")),
        ("translated_by", _l("Translated by")), ("version_at", _l("Version of (UTC)")),
        ("theme", _l("Theme (code)")), ("theme_label", _l("Theme")),
        ("level", _l("Level (code)")), ("level_label", _l("Level")), ("tags", _l("Tags")),
        ("source", _l("Source")), ("delegate_id", _l("Delegate id")),
        ("delegate", _l("Delegate")), ("organisation_id", _l("Organisation id")),
        ("organisation", _l("Organisation")), COUNTRY, REGION, REGION_LABEL,
        ("hidden", _l("Hidden")), ("hidden_reason", _l("Reason for hiding")),
        ("merged_into_id", _l("Merged into")), ("merged_from", _l("Merged from")),
        ("line_id", _l("Line of work id")), ("supporters", _l("Supporters")),
        ("comments", _l("Comments")), ("created_at", _l("Created at (UTC)"))),
        proposal_rows)
    yield Table("comments", _l("Comments"), _columns(
        ID, PROPOSAL_ID, ("parent_id", _l("Reply to")), ("delegate_id", _l("Delegate id")),
        ("author", _l("Author")), ("language", _l("Language")), ("body", _l("Comment")),
        ("hidden", _l("Hidden")), ("hidden_reason", _l("Reason for hiding")),
        ("created_at", _l("Created at (UTC)"))), comment_rows)
    yield Table("supports", _l("Supports by region"), _columns(
        PROPOSAL_ID, ("proposal", _l("Proposal")), ("line_id", _l("Line of work id")),
        REGION, REGION_LABEL, ("supporters", _l("Supporters"))), support_rows)
    yield Table("ballots", _l("Ballots"), _columns(
        ID, ("title", _l("Question")), ("method", _l("Method (code)")),
        ("method_label", _l("Method")), ("weighting", _l("Weighting (code)")),
        ("weighting_label", _l("Weighting")), ("secret", _l("Secret ballot")),
        ("status", _l("Status")), ("options", _l("Lines of work on the ballot")),
        ("max_approvals", _l("Most approvals")), ("budget", _l("Points budget")),
        ("max_per_option", _l("Most points on one line")),
        ("criterion_1", _l("First criterion")), ("criterion_2", _l("Second criterion")),
        ("min_cell", _l("Smallest published group (k)")),
        ("opened_at", _l("Opened at (UTC)")), ("closes_at", _l("Closes at (UTC)")),
        ("closed_at", _l("Closed at (UTC)")), ("voted", _l("Voted")),
        ("eligible", _l("Eligible")), ("hash", _l("Hash of the ballot papers")),
        ("selected", _l("Lines carried forward"))), ballot_rows)
    yield Table("ballot_papers", _l("Ballot papers"), _columns(
        BALLOT_ID, ("secret", _l("Secret ballot")), ("entry", _l("Entry")),
        ("receipt", _l("Receipt")), ("choice", _l("Choice")), ("weight", _l("Weight")),
        ("delegate_id", _l("Delegate id")), ("delegate", _l("Delegate")),
        ("organisation", _l("Organisation")), REGION,
        ORG_TYPE, ("source", _l("Source"))), ballot_paper_rows)
    yield Table("results", _l("Results"), _columns(
        BALLOT_ID, BALLOT_TITLE, OPTION_ID, OPTION_TITLE, ("rank", _l("Rank")),
        ("score", _l("Score")), ("consensus", _l("Consensus")),
        ("schulze_rank", _l("Schulze rank")), ("condorcet_winner", _l("Condorcet winner")),
        ("first", _l("First criterion")), ("second", _l("Second criterion")),
        ("combined", _l("Combined score")), ("raters", _l("Raters")),
        ("selected", _l("Carried forward"))), result_rows)
    yield Table("breakdowns", _l("Results by region and organisation type"), _columns(
        BALLOT_ID, OPTION_ID, OPTION_TITLE, ("dimension", _l("Breakdown")),
        ("group", _l("Group (code)")), ("group_label", _l("Group")), ("score", _l("Score")),
        ("share", _l("Share of the group's support"))), breakdown_rows)
    yield Table("turnout", _l("Turnout by region and organisation type"), _columns(
        BALLOT_ID, BALLOT_TITLE, ("dimension", _l("Breakdown")),
        ("group", _l("Group (code)")), ("group_label", _l("Group")), ("voters", _l("Voted")),
        ("weight", _l("Weight")), ("eligible", _l("Eligible")),
        ("withheld", _l("Withheld (fewer than k voters)"))), turnout_rows)
    yield Table("audit", _l("Audit log"), _columns(
        ID, ("created_at", _l("When (UTC)")), ("actor_kind", _l("Kind of actor")),
        ("actor_id", _l("Actor id")), ("actor", _l("Who")), ("operation", _l("What")),
        ("details", _l("Details"))), audit_rows, permission="audit.view")


#: Every table by name, in the order of the files, sheets and JSON document.
TABLES: dict[str, Table] = {t.name: t for t in _tables()}


# --- Who may export what -----------------------------------------------------------------------


def tables_for(actor: Actor, workshop: Workshop) -> list[Table]:
    """The tables this actor may export from this workshop (the audit log for organisers only).

    :raise PermissionDenied: the actor may not export this workshop.
    """
    require("workshop.export", actor, workshop)
    return [t for t in TABLES.values()
            if t.permission is None or can(t.permission, actor, workshop)]


def table_for(actor: Actor, workshop: Workshop, name: str) -> Table:
    """One table to export, by name.

    :raise PermissionDenied: the actor may not export this workshop, or not this table.
    :raise NotFound: no table has this name.
    """
    require("workshop.export", actor, workshop)
    table = TABLES.get(name)
    if table is None:
        raise NotFound(_l("This does not exist."))
    if table.permission is not None:
        require(table.permission, actor, workshop)
    return table

