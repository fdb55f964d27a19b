"""Operations on proposals and their discussion.

Every function takes the acting user or delegate first, checks the operation's rule, changes
the database, writes the audit entry and commits. Broadcasting is left to workshop.proposals.live,
called by views and socket handlers once the service has committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from workshop.agenda.models import Delegate, Organisation, Workshop
from workshop.agenda.state import announce
from workshop.audit.services import record
from workshop.db import utcnow
from workshop.errors import Conflict, NotFound
from workshop.extensions import db
from workshop.permissions import Actor, is_delegate_of, require
from workshop.proposals import duplicates
from workshop.proposals.models import (
    Comment,
    Proposal,
    ProposalRevision,
    ProposalTranslation,
    Support,
)
from workshop.proposals.schemas import EditIn, MergeIn, ProposalIn, TranslationIn

#: Steps during which delegates may put proposals forward, and discuss them.
SUBMIT_STEPS = ("propose",)
DISCUSS_STEPS = ("propose", "discuss")


def _current_kind(workshop: Workshop) -> str | None:
    return workshop.current_step.kind if workshop.current_step else None


def get_proposal(workshop: Workshop, proposal_id: int) -> Proposal:
    """A proposal of this workshop.

    :raise NotFound: no such proposal in this workshop.
    """
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.workshop_id != workshop.id:
        raise NotFound(_l("This proposal does not exist."), proposal_id=_l("Unknown proposal."))
    return proposal


def _visible_to(actor: Actor, workshop: Workshop, proposal: Proposal) -> Proposal:
    """Delegates do not see hidden proposals (staff do, to moderate them)."""
    if proposal.hidden and is_delegate_of(actor, workshop):
        raise NotFound(_l("This proposal does not exist."), proposal_id=_l("Unknown proposal."))
    return proposal


#: What one delegate may send in one workshop: far above what a person writes in a workshop,
#: far below what a script would (the socket throttle limits the pace, these the total).
PROPOSALS_PER_DELEGATE = 30
COMMENTS_PER_DELEGATE = 300


def _within_cap(model: Any, column: Any, actor: Actor, workshop: Workshop, cap: int,
                message: Any) -> None:
    """Refuse one more row of `model` by this delegate once they have `cap` of them.

    :raise Conflict: the delegate reached the cap.
    """
    stmt = sa.select(sa.func.count()).select_from(model).where(column == actor.id)
    if model is Comment:
        stmt = stmt.join(Proposal, Comment.proposal_id == Proposal.id)
    stmt = stmt.where(Proposal.workshop_id == workshop.id)
    if db.session.scalar(stmt) >= cap:
        raise Conflict(message)


def submit_proposal(actor: Actor, workshop: Workshop, data: ProposalIn) -> Proposal:
    """A delegate puts forward a line of work; their organisation, country and region go with it.

    :raise PermissionDenied: not a delegate of this workshop.
    :raise Conflict: not a propose step, or submissions are locked.
    """
    require("proposal.create", actor, workshop)
    if _current_kind(workshop) not in SUBMIT_STEPS:
        raise Conflict(_l("Proposals can be put forward during a propose step."))
    if workshop.proposals_locked:
        raise Conflict(_l("The facilitator has closed submissions."))
    _within_cap(Proposal, Proposal.delegate_id, actor, workshop, PROPOSALS_PER_DELEGATE,
                _l("One delegate may put forward at most %(n)s lines of work.",
                   n=PROPOSALS_PER_DELEGATE))
    org = actor.organisation
    proposal = Proposal(
        workshop_id=workshop.id,
        title=data.title,
        description=data.description,
        theme=data.theme,
        level=data.level,
        tags=sorted(set(data.tags)),
        language=data.language or actor.locale or workshop.default_locale,
        source="delegate",
        delegate_id=actor.id,
        organisation_id=org.id,
        country=org.country,
        region=org.region,
    )
    db.session.add(proposal)
    db.session.flush()
    record(actor, "proposal.create", workshop.id, proposal_id=proposal.id, title=proposal.title)
    db.session.commit()
    return proposal


def set_support(actor: Actor, workshop: Workshop, proposal_id: int, on: bool) -> bool:
    """Give or withdraw a delegate's +1; giving twice counts once (the database says so).

    Returns whether the delegate supports the proposal afterwards.

    :raise PermissionDenied: not a delegate of this workshop.
    :raise NotFound: no such (visible) proposal.
    :raise Conflict: not a propose or discuss step.
    """
    require("proposal.support", actor, workshop)
    proposal = _visible_to(actor, workshop, get_proposal(workshop, proposal_id))
    if _current_kind(workshop) not in DISCUSS_STEPS:
        raise Conflict(_l("Support can be given during the propose and discuss steps."))
    # A +1 on any proposal merged into this line already counts for the line.
    existing = list(db.session.scalars(sa.select(Support).where(
        Support.proposal_id.in_(member_ids(proposal)), Support.delegate_id == actor.id)))
    if on and not existing:
        try:
            with db.session.begin_nested():
                db.session.add(Support(proposal_id=proposal.id, delegate_id=actor.id))
        except IntegrityError:
            pass  # a concurrent duplicate: the unique constraint kept one
    elif not on:
        for support in existing:
            db.session.delete(support)
    db.session.commit()
    return on


def member_ids(proposal: Proposal) -> list[int]:
    """The proposal and every proposal merged into it, recursively."""
    found, frontier = [proposal.id], [proposal.id]
    while frontier:
        frontier = list(db.session.scalars(
            sa.select(Proposal.id).where(Proposal.merged_into_id.in_(frontier))))
        found.extend(frontier)
    return found


def add_comment(actor: Actor, workshop: Workshop, proposal_id: int, body: str,
                parent_id: int | None = None) -> Comment:
    """Comment on a proposal, or reply to a comment of the same proposal.

    :raise PermissionDenied: not a delegate of this workshop (nor its staff).
    :raise NotFound: no such proposal, or the parent is not a comment of it.
    :raise Conflict: not a propose or discuss step.
    """
    require("proposal.comment", actor, workshop)
    proposal = _visible_to(actor, workshop, get_proposal(workshop, proposal_id))
    if is_delegate_of(actor, workshop) and _current_kind(workshop) not in DISCUSS_STEPS:
        raise Conflict(_l("Comments can be written during the propose and discuss steps."))
    if is_delegate_of(actor, workshop):
        _within_cap(Comment, Comment.delegate_id, actor, workshop, COMMENTS_PER_DELEGATE,
                    _l("One delegate may write at most %(n)s comments.",
                       n=COMMENTS_PER_DELEGATE))
    if parent_id is not None:
        parent = db.session.get(Comment, parent_id)
        if parent is None or parent.proposal_id != proposal.id:
            raise NotFound(_l("This comment does not exist."),
                           parent_id=_l("Unknown comment."))
    comment = Comment(
        proposal_id=proposal.id,
        parent_id=parent_id,
        delegate_id=actor.id if actor.kind == "delegate" else None,
        author_name=actor.display_name,
        body=body,
        language=getattr(actor, "locale", None) or workshop.default_locale,
    )
    db.session.add(comment)
    db.session.flush()
    record(actor, "proposal.comment", workshop.id, proposal_id=proposal.id,
           comment_id=comment.id)
    db.session.commit()
    return comment


def translate_proposal(actor: Actor, workshop: Workshop, proposal_id: int,
                       data: TranslationIn) -> ProposalTranslation:
    """Add or replace a proposal's text in another language.

    :raise PermissionDenied: neither staff nor a delegate of this workshop.
    :raise NotFound: no such proposal.
    :raise Conflict: the language is the proposal's own.
    """
    require("proposal.translate", actor, workshop)
    proposal = _visible_to(actor, workshop, get_proposal(workshop, proposal_id))
    if data.language == proposal.language:
        raise Conflict(_l("This is the proposal's original language."),
                       language=_l("Choose another language."))
    translation = db.session.scalar(sa.select(ProposalTranslation).where(
        ProposalTranslation.proposal_id == proposal.id,
        ProposalTranslation.language == data.language))
    if translation is None:
        translation = ProposalTranslation(proposal=proposal, language=data.language)
        db.session.add(translation)
    translation.title = data.title
    translation.description = data.description
    translation.translated_by = actor.display_name
    record(actor, "proposal.translate", workshop.id, proposal_id=proposal.id,
           language=data.language)
    db.session.commit()
    return translation


def edit_proposal(actor: Actor, workshop: Workshop, proposal_id: int, data: EditIn) -> Proposal:
    """A moderator corrects a proposal; the previous text is kept in its history.

    :raise PermissionDenied: not a facilitator of this workshop.
    :raise NotFound: no such proposal.
    """
    require("proposal.edit", actor, workshop)
    proposal = get_proposal(workshop, proposal_id)
    db.session.add(ProposalRevision(proposal_id=proposal.id, title=proposal.title,
                                    description=proposal.description,
                                    edited_by=actor.display_name))
    proposal.title = data.title
    proposal.description = data.description
    proposal.theme = data.theme
    proposal.level = data.level
    proposal.updated_at = utcnow()
    record(actor, "proposal.edit", workshop.id, proposal_id=proposal.id, title=data.title)
    db.session.commit()
    return proposal


def hide_proposal(actor: Actor, workshop: Workshop, proposal_id: int, hidden: bool,
                  reason: str) -> Proposal:
    """Hide a proposal from delegates (with a reason), or show it again.

    :raise PermissionDenied: not a facilitator of this workshop.
    :raise NotFound: no such proposal.
    """
    require("proposal.hide", actor, workshop)
    proposal = get_proposal(workshop, proposal_id)
    proposal.hidden = hidden
    proposal.hidden_reason = reason if hidden else ""
    record(actor, "proposal.hide", workshop.id, proposal_id=proposal.id, hidden=hidden,
           reason=reason)
    db.session.commit()
    return proposal


def hide_comment(actor: Actor, workshop: Workshop, comment_id: int, hidden: bool,
                 reason: str) -> Comment:
    """Hide a comment (with a reason), or show it again.

    :raise PermissionDenied: not a facilitator of this workshop.
    :raise NotFound: no such comment in this workshop.
    """
    require("comment.hide", actor, workshop)
    comment = db.session.get(Comment, comment_id)
    if comment is None or get_proposal(workshop, comment.proposal_id) is None:
        raise NotFound(_l("This comment does not exist."))
    comment.hidden = hidden
    comment.hidden_reason = reason if hidden else ""
    record(actor, "comment.hide", workshop.id, comment_id=comment.id, hidden=hidden,
           reason=reason)
    db.session.commit()
    return comment


def lock_submissions(actor: Actor, workshop: Workshop, locked: bool) -> Workshop:
    """Close (or reopen) new submissions.

    :raise PermissionDenied: not a facilitator of this workshop.
    """
    require("proposal.lock", actor, workshop)
    workshop.proposals_locked = locked
    record(actor, "proposal.lock", workshop.id, locked=locked)
    announce(db.session, workshop)
    db.session.commit()
    return workshop


def merge_proposals(actor: Actor, workshop: Workshop, data: MergeIn) -> Proposal:
    """Merge proposals into one new line of work; theirs stay attached, so nothing is lost.

    The new line takes the theme and level of the first proposal; supporters, comments and
    origins of all merged proposals count for it.

    :raise PermissionDenied: not a facilitator of this workshop.
    :raise NotFound: a proposal is not of this workshop.
    :raise Conflict: fewer than two distinct proposals, or one is already merged.
    """
    require("proposal.merge", actor, workshop)
    ids = list(dict.fromkeys(data.proposal_ids))
    sources = [get_proposal(workshop, pid) for pid in ids]
    if len(sources) < 2:
        raise Conflict(_l("Choose at least two proposals to merge."),
                       proposal_ids=_l("Choose at least two proposals to merge."))
    if any(p.merged_into_id is not None for p in sources):
        raise Conflict(_l("A proposal that is already merged cannot be merged again."),
                       proposal_ids=_l("Already merged."))
    first = sources[0]
    merged = Proposal(
        workshop_id=workshop.id,
        title=data.title,
        description=data.description,
        theme=first.theme,
        level=first.level,
        tags=sorted({t for p in sources for t in (p.tags or [])}),
        language=first.language,
        source="merge",
        country=first.country,
        region=first.region,
    )
    db.session.add(merged)
    db.session.flush()
    for source in sources:
        source.merged_into_id = merged.id
    record(actor, "proposal.merge", workshop.id, proposal_id=merged.id, merged=ids)
    db.session.commit()
    return merged


def undo_merge(actor: Actor, workshop: Workshop, proposal_id: int) -> list[Proposal]:
    """Split a merged line of work back into the proposals it came from.

    :raise PermissionDenied: not a facilitator of this workshop.
    :raise NotFound: no such proposal.
    :raise Conflict: the proposal is not the result of a merge.
    """
    require("proposal.merge", actor, workshop)
    merged = get_proposal(workshop, proposal_id)
    sources = list(db.session.scalars(
        sa.select(Proposal).where(Proposal.merged_into_id == merged.id)))
    if merged.source != "merge" or not sources:
        raise Conflict(_l("This proposal is not a merge."))
    for source in sources:
        source.merged_into_id = None
    merged.hidden = True
    merged.hidden_reason = "merge undone"
    record(actor, "proposal.unmerge", workshop.id, proposal_id=merged.id,
           restored=[s.id for s in sources])
    db.session.commit()
    return sources


# --- Reading -------------------------------------------------------------------------------


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
             only: int | None = None) -> list[Line]:
    """The workshop's lines of work (proposals not merged into another), with their counts.

    :raise PermissionDenied: the actor may not watch this workshop.
    """
    require("workshop.watch", actor, workshop)
    proposals = list(db.session.scalars(
        sa.select(Proposal).where(Proposal.workshop_id == workshop.id).order_by(Proposal.id)))
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
            and (include_hidden or not p.hidden) and (only is None or p.id == only)]
    lines = [Line(p, members(p)) for p in tops]
    member_of = {m.id: line for line in lines for m in line.members}
    if not member_of:
        return lines
    supports = db.session.execute(
        sa.select(Support.proposal_id, Support.delegate_id, Delegate.organisation_id)
        .join(Delegate, Support.delegate_id == Delegate.id)
        .where(Support.proposal_id.in_(member_of)))
    org_regions = dict(db.session.execute(sa.select(Organisation.id, Organisation.region)).all())
    org_names = dict(db.session.execute(sa.select(Organisation.id, Organisation.name)).all())
    for proposal_id, delegate_id, org_id in supports:
        line = member_of[proposal_id]
        if delegate_id not in line.supporters:
            line.supporters.add(delegate_id)
            region = org_regions.get(org_id, "")
            line.supporter_regions[region] = line.supporter_regions.get(region, 0) + 1
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


def comments_of(actor: Actor, workshop: Workshop, line: Line) -> list[Comment]:
    """The comments on a line of work and on everything merged into it, oldest first.

    Hidden comments are left out for delegates and kept (marked) for staff.
    """
    require("workshop.watch", actor, workshop)
    stmt = sa.select(Comment).where(Comment.proposal_id.in_([m.id for m in line.members]))
    if is_delegate_of(actor, workshop):
        stmt = stmt.where(Comment.hidden.is_(False))
    return list(db.session.scalars(stmt.order_by(Comment.created_at, Comment.id)))


def supported_by(delegate: Delegate) -> set[int]:
    """Ids of the proposals a delegate supports (to draw their own +1 buttons)."""
    return set(db.session.scalars(
        sa.select(Support.proposal_id).where(Support.delegate_id == delegate.id)))


def revisions_of(proposal: Proposal) -> list[ProposalRevision]:
    """A proposal's earlier texts, newest first."""
    return list(db.session.scalars(
        sa.select(ProposalRevision).where(ProposalRevision.proposal_id == proposal.id)
        .order_by(ProposalRevision.id.desc())))


def suggest_duplicates(actor: Actor, workshop: Workshop,
                       threshold: float = duplicates.DEFAULT_THRESHOLD) -> list[duplicates.Pair]:
    """Likely duplicates among the visible lines of work, compared in every language they have.

    :raise PermissionDenied: not a facilitator of this workshop.
    """
    require("proposal.duplicates", actor, workshop)
    tops = list(db.session.scalars(sa.select(Proposal).where(
        Proposal.workshop_id == workshop.id, Proposal.merged_into_id.is_(None),
        Proposal.hidden.is_(False))))
    versions = [duplicates.Version(p.id, p.language, p.title, p.description) for p in tops]
    ids = [p.id for p in tops]
    if ids:
        for t in db.session.scalars(sa.select(ProposalTranslation).where(
                ProposalTranslation.proposal_id.in_(ids))):
            versions.append(duplicates.Version(t.proposal_id, t.language, t.title,
                                               t.description))
    return duplicates.suggest(versions, threshold=threshold)
