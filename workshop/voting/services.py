"""Operations on ballots: open, close, extend, show results, cast, paper ballots, proxies, top N.

Each function takes the acting user or delegate first, checks the operation's permission,
changes the database, records the audit entry, queues the broadcast and commits. A vote is
committed before the function returns, so whoever answers the phone ("received") answers
about a stored ballot.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from workshop.agenda.models import Delegate, Step, Workshop
from workshop.audit.services import record
from workshop.db import utcnow
from workshop.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from workshop.extensions import db
from workshop.live import queue, workshop_room
from workshop.permissions import Actor, is_delegate_of, require, votes_in
from workshop.proposals.models import Proposal
from workshop.signals import lines_carried_forward
from workshop.voting import results as results_module
from workshop.voting import secrecy, tally
from workshop.voting.broadcast import publisher
from workshop.voting.models import (
    Ballot,
    BallotOption,
    Participation,
    ProxyAssignment,
    Vote,
)
from workshop.voting.schemas import BallotOpen, CastIn, PaperIn, ProxyIn, SelectTopIn
from workshop.voting.turnout import eligible_delegates, turnout  # noqa: F401  (re-exported)

MIN_OPTIONS = 2
SECRET_RESULTS_WAIT = _l("The results of a secret ballot are counted only once it closes: "
                         "results that change with each ballot paper would show what the last "
                         "voter chose.")


@dataclass(frozen=True)
class CastResult:
    """What a phone is told once its ballot is stored: the receipt, and whether it replaced one."""

    ballot_id: int
    receipt: str
    changed: bool


class VotedElsewhere(Conflict):
    """A secret ballot's voter has a paper this phone cannot reach (its secret is elsewhere);
    the phone may offer to replace it (`replace_lost`, see secrecy.py "A lost secret")."""

    code = "voted_elsewhere"


class System:
    """The actor of automatic changes (a ballot closing at its set time)."""

    kind = "system"
    id = None
    display_name = "system"


# --------------------------------------------------------------------------------------------
# Receipts


def receipt_for(token: str) -> str:
    """The public receipt code of a ballot paper: 12 base32 characters of a hash of `token`.

    A secret paper's token is its ballot, voter and phone secret (`secret_token`), a named or
    paper ballot's a random one. It cannot be turned back into the secret, so showing it to the
    world lets nobody change the vote; it is shown on the phone and, after close, in the
    published list of receipts (for a secret ballot apart from the choices: see README, "What a
    receipt proves").
    """
    digest = hashlib.sha256(b"receipt:" + token.encode()).digest()
    return base64.b32encode(digest).decode()[:12]


def secret_token(ballot_id: int, voter_id: int, secret: str) -> str:
    """What a secret paper's receipt is made from: the same voter and secret, the same code."""
    return f"{ballot_id}:{voter_id}:{secret}"


def format_receipt(code: str) -> str:
    """A receipt as people read it: ABCD-EFGH-JKLM."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalise_receipt(text: str) -> str:
    """Upper-case and drop spaces and dashes, so `abcd efgh-jklm` finds `ABCDEFGHJKLM`."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


# --------------------------------------------------------------------------------------------
# Loading


def get_ballot(workshop: Workshop, ballot_id: int) -> Ballot:
    """A ballot of this workshop.

    :raise NotFound: no such ballot in this workshop.
    """
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or ballot.workshop_id != workshop.id:
        raise NotFound(_l("This ballot does not exist."), ballot_id=_l("Unknown ballot."))
    return ballot


def list_ballots(workshop: Workshop) -> list[Ballot]:
    """The workshop's ballots, newest first."""
    stmt = sa.select(Ballot).where(Ballot.workshop_id == workshop.id).order_by(Ballot.id.desc())
    return list(db.session.scalars(stmt))


def ballot_for_step(workshop: Workshop, step: Step | None) -> Ballot | None:
    """The ballot a vote or results step shows.

    A ballot attached to the step wins (an open one first); otherwise a vote step shows the
    newest open ballot (or, when none is open, the last one), a results step the newest closed
    one (or an open one whose results the facilitator shows).
    """
    if step is None or step.kind not in ("vote", "results"):
        return None
    base = sa.select(Ballot).where(Ballot.workshop_id == workshop.id)
    attached = list(db.session.scalars(base.where(Ballot.step_id == step.id)
                                       .order_by(Ballot.id.desc())))
    if attached:
        open_ones = [b for b in attached if b.is_open]
        return open_ones[0] if open_ones and step.kind == "vote" else attached[0]
    if step.kind == "vote":
        # The newest open ballot; once none is open, the last one (closed: its results).
        return db.session.scalar(base.order_by((Ballot.status == "open").desc(),
                                               Ballot.id.desc()))
    return db.session.scalar(
        base.where(sa.or_(Ballot.status == "closed", Ballot.results_visible))
        .order_by(Ballot.closed_at.is_(None), Ballot.id.desc())
    )


def visible_proposals(workshop: Workshop, theme: str | None = None) -> list[Proposal]:
    """Lines of work a ballot can offer: not hidden, not merged into another."""
    stmt = sa.select(Proposal).where(
        Proposal.workshop_id == workshop.id,
        Proposal.hidden.is_(False),
        Proposal.merged_into_id.is_(None),
    )
    if theme is not None:
        stmt = stmt.where(Proposal.theme == theme)
    return list(db.session.scalars(stmt.order_by(Proposal.id)))


def _of_options(ballot: Ballot, column: Any) -> dict[int, Any]:
    """Proposal id -> one column of the ballot's options."""
    rows = db.session.execute(
        sa.select(Proposal.id, column)
        .join(BallotOption, BallotOption.proposal_id == Proposal.id)
        .where(BallotOption.ballot_id == ballot.id)
    )
    return {pid: value for pid, value in rows}


def option_titles(ballot: Ballot) -> dict[int, str]:
    """Proposal id -> title of the ballot's options."""
    return _of_options(ballot, Proposal.title)


def option_languages(ballot: Ballot) -> dict[int, str]:
    """Proposal id -> language of its title: phones mark each title with it (`lang`), so the
    browser hyphenates a long title by that language's rules, not the page's."""
    return _of_options(ballot, Proposal.language)


def shuffled_options(ballot: Ballot, delegate_id: int, salt: int = 0) -> list[int]:
    """The ballot's options in this delegate's own order (stable across reloads).

    Position bias is real: each phone sees its own order, derived from the ballot and the
    delegate, so a reload does not reshuffle. Votes are stored by proposal id, never position.
    """

    def key(option: int) -> bytes:
        return hashlib.sha256(f"{ballot.id}:{delegate_id}:{salt}:{option}".encode()).digest()

    return sorted(ballot.option_ids, key=key)


def remaining_ms(ballot: Ballot) -> int | None:
    """Milliseconds until the ballot closes by itself (None: no closing time or closed)."""
    if not ballot.is_open or ballot.closes_at is None:
        return None
    return max(0, int((ballot.closes_at - utcnow()).total_seconds() * 1000))


def ballot_payload(ballot: Ballot) -> dict[str, Any]:
    """A ballot's public state, as screens receive it (`ballot` event)."""
    return {
        "ballot_id": ballot.id,
        "workshop_id": ballot.workshop_id,
        "step_id": ballot.step_id,
        "title": ballot.title,
        "method": ballot.method,
        "secret": ballot.secret,
        "status": ballot.status,
        "results_visible": ballot.results_visible,
        "remaining_ms": remaining_ms(ballot),
        "hash": ballot.ballots_hash,
    }


def _announce(ballot: Ballot) -> None:
    db.session.flush()
    queue(db.session, "ballot", ballot_payload(ballot), workshop_room(ballot.workshop_id))


# --------------------------------------------------------------------------------------------
# Opening, closing, extending, showing


def _step_on_agenda(workshop: Workshop, step_id: int | None) -> int | None:
    if step_id is None:
        return None
    if not any(s.id == step_id for s in workshop.steps):
        raise ValidationFailed(_l("Some fields need correcting."),
                               step_id=_l("This step is not on the workshop's agenda."))
    return step_id


def _options_for(workshop: Workshop, data: BallotOpen) -> list[int]:
    if data.scope == "pick":
        wanted = set(data.proposal_ids)
        offered = {p.id for p in visible_proposals(workshop)}
        unknown = sorted(wanted - offered)
        if unknown:
            raise ValidationFailed(
                _l("Some fields need correcting."),
                proposal_ids=_l("Not a line of work of this workshop: %(ids)s.",
                                ids=", ".join(map(str, unknown))),
            )
        ids = sorted(wanted)
    elif data.scope == "theme":
        if data.theme is None:
            raise ValidationFailed(_l("Some fields need correcting."),
                                   theme=_l("Choose a theme."))
        ids = [p.id for p in visible_proposals(workshop, data.theme)]
    else:
        ids = [p.id for p in visible_proposals(workshop)]
    if len(ids) < MIN_OPTIONS:
        raise ValidationFailed(
            _l("Some fields need correcting."),
            proposal_ids=_l("A ballot needs at least %(n)s lines of work.", n=MIN_OPTIONS),
        )
    return ids


def open_ballot(actor: Actor, workshop: Workshop, data: BallotOpen) -> Ballot:
    """Open a ballot on all, a theme's or hand-picked lines of work; phones switch to it.

    :raise PermissionDenied: the actor does not facilitate this workshop.
    :raise ValidationFailed: fewer than two options, a points ballot without a budget, an
        unknown step or proposal.
    """
    require("ballot.open", actor, workshop)
    option_ids = _options_for(workshop, data)
    budget = max_per_option = max_approvals = None
    if data.method == "points":
        if data.budget is None:
            raise ValidationFailed(_l("Some fields need correcting."),
                                   budget=_l("Give the number of points each delegate spreads."))
        budget = data.budget
        max_per_option = min(data.max_per_option or budget, budget)
    elif data.method == "approval":
        max_approvals = data.max_approvals
    now = utcnow()
    ballot = Ballot(
        workshop_id=workshop.id,
        step_id=_step_on_agenda(workshop, data.step_id),
        title=data.title,
        method=data.method,
        weighting=data.weighting,
        secret=data.secret,
        max_approvals=max_approvals,
        budget=budget,
        max_per_option=max_per_option,
        criterion_1=data.criterion_1 if data.method == "matrix" else "",
        criterion_2=data.criterion_2 if data.method == "matrix" else "",
        status="open",
        min_cell=secrecy.settings.min_cell if data.secret else None,
        opened_at=now,
        closes_at=now + timedelta(minutes=data.closes_in_minutes)
        if data.closes_in_minutes else None,
        created_by_id=actor.id,
        options=[BallotOption(proposal_id=pid) for pid in option_ids],
    )
    db.session.add(ballot)
    db.session.flush()
    record(actor, "ballot.open", workshop.id, ballot_id=ballot.id, title=ballot.title,
           method=ballot.method, weighting=ballot.weighting, secret=ballot.secret,
           min_cell=ballot.min_cell,
           options=option_ids, closes_at=ballot.closes_at.isoformat() if ballot.closes_at
           else None)
    _announce(ballot)
    db.session.commit()
    return ballot


def _lock(ballot: Ballot) -> Ballot:
    """Reload the ballot row locked for update (PostgreSQL waits for casts in flight)."""
    return db.session.scalars(
        sa.select(Ballot).where(Ballot.id == ballot.id)
        .with_for_update().execution_options(populate_existing=True)
    ).one()


def _close(actor: Actor, ballot: Ballot) -> Ballot:
    ballot = _lock(ballot)
    if not ballot.is_open:
        raise Conflict(_l("This ballot is closed already."))
    ballot.status = "closed"
    ballot.closed_at = utcnow()
    # The status is written first: on SQLite this takes the write lock, so no vote can
    # commit between the count below and our commit (a cast re-checks the status after
    # writing and gives up); on PostgreSQL the row lock above waits for casts in flight.
    db.session.flush()
    # From the close on, nothing stored links a secret paper to its voter (secrecy.py).
    db.session.execute(sa.update(Vote).where(Vote.ballot_id == ballot.id,
                                             Vote.owner_tag.is_not(None)).values(owner_tag=None))
    ballot.results, ballot.ballots_hash = results_module.compute(ballot)
    record(actor, "ballot.close", ballot.workshop_id, ballot_id=ballot.id,
           ballots=ballot.results["turnout"]["count"], hash=ballot.ballots_hash)
    _announce(ballot)
    db.session.commit()
    return ballot


def close_ballot(actor: Actor, workshop: Workshop, ballot: Ballot) -> Ballot:
    """Close a ballot: no more votes; results are computed, frozen and hashed.

    :raise PermissionDenied: the actor does not facilitate this workshop.
    :raise Conflict: the ballot is closed already.
    """
    require("ballot.close", actor, workshop)
    return _close(actor, ballot)


def is_due(ballot: Ballot) -> bool:
    """An open ballot whose closing time has passed."""
    return ballot.is_open and ballot.closes_at is not None and ballot.closes_at <= utcnow()


def close_if_due(ballot: Ballot) -> bool:
    """Close a ballot whose closing time has passed (by the system); True if it was closed.

    Called when a ballot is read or voted on, and by the server's timer; whichever comes
    first closes it, the others find it closed.
    """
    if not is_due(ballot):
        return False
    try:
        _close(System(), ballot)
    except Conflict:
        db.session.rollback()
    return True


def extend_ballot(actor: Actor, workshop: Workshop, ballot: Ballot, minutes: int) -> Ballot:
    """Move the closing time by `minutes` (a ballot without one closes `minutes` from now).

    :raise PermissionDenied: the actor does not facilitate this workshop.
    :raise Conflict: the ballot is closed.
    """
    require("ballot.extend", actor, workshop)
    if not ballot.is_open:
        raise Conflict(_l("This ballot is closed."))
    now = utcnow()
    base = ballot.closes_at or now
    ballot.closes_at = max(now, base + timedelta(minutes=minutes))
    record(actor, "ballot.extend", workshop.id, ballot_id=ballot.id, minutes=minutes,
           closes_at=ballot.closes_at.isoformat())
    _announce(ballot)
    db.session.commit()
    return ballot


def show_results(actor: Actor, workshop: Workshop, ballot: Ballot, visible: bool) -> Ballot:
    """Show (or hide) the results on phones and projector, even before close.

    Not a secret ballot's before close: results that move with each paper would tell anyone
    who sees who just voted what that person chose.

    :raise PermissionDenied: the actor does not facilitate this workshop.
    :raise Conflict: showing an open secret ballot's results.
    """
    require("ballot.show_results", actor, workshop)
    if visible and ballot.secret and ballot.is_open:
        raise Conflict(SECRET_RESULTS_WAIT)
    ballot.results_visible = visible
    record(actor, "ballot.show_results", workshop.id, ballot_id=ballot.id, visible=visible)
    _announce(ballot)
    db.session.commit()
    return ballot


# --------------------------------------------------------------------------------------------
# Checking a ballot paper


def _refuse(message: Any) -> ValidationFailed:
    return ValidationFailed(_l("Your ballot needs correcting."), choices=message)


def _option_ids(raw: list[int], known: set[int]) -> list[int]:
    seen: set[int] = set()
    for option in raw:
        if option not in known:
            raise _refuse(_l("%(id)s is not one of this ballot's options.", id=option))
        if option in seen:
            raise _refuse(_l("An option appears twice (%(id)s).", id=option))
        seen.add(option)
    return list(raw)


def check_choices(ballot: Ballot, raw: Any) -> list:
    """Check a ballot paper against the ballot's method and return it in its stored form.

    Stored forms are plain lists by proposal id: approval [id, ...] sorted; ranking [id, ...]
    best first; points [[id, points], ...] and matrix [[id, a, b], ...] sorted by id.

    :raise ValidationFailed: on `choices`, naming the problem (unknown or repeated option,
        over budget, too many approvals, a rating outside 1-5, the wrong shape).
    """
    known = set(ballot.option_ids)
    method = ballot.method
    if method in ("approval", "ranking"):
        if not isinstance(raw, list):
            raise _refuse(_l("Send a list of options."))
        ids = _option_ids(raw, known)
        if method == "approval":
            if ballot.max_approvals is not None and len(ids) > ballot.max_approvals:
                raise _refuse(_l("Choose at most %(k)s options.", k=ballot.max_approvals))
            stored: list = sorted(ids)
            tally.validate_approval(stored, known, ballot.max_approvals)
        else:
            stored = ids
            tally.validate_ranking(stored, known)
        return stored
    if not isinstance(raw, dict):
        raise _refuse(_l("Send a value for each option you choose."))
    for option in raw:
        if option not in known:
            raise _refuse(_l("%(id)s is not one of this ballot's options.", id=option))
    if method == "points":
        total = 0
        for points in raw.values():
            if not isinstance(points, int):
                raise _refuse(_l("Give whole points to each option."))
            if points < 0:
                raise _refuse(_l("Points cannot be negative."))
            if points > ballot.max_per_option:
                raise _refuse(_l("At most %(m)s points on one option.", m=ballot.max_per_option))
            total += points
        if total > ballot.budget:
            raise _refuse(_l("Over budget: %(given)s points given, %(budget)s available.",
                             given=total, budget=ballot.budget))
        given = {o: p for o, p in raw.items() if p}
        tally.validate_points(given, known, ballot.budget, ballot.max_per_option)
        return [[o, p] for o, p in sorted(given.items())]
    # matrix
    for ratings in raw.values():
        if not isinstance(ratings, tuple) or len(ratings) != 2 or not all(
            tally.MATRIX_MIN <= r <= tally.MATRIX_MAX for r in ratings
        ):
            raise _refuse(_l("Rate each option from %(low)s to %(high)s on both criteria.",
                             low=tally.MATRIX_MIN, high=tally.MATRIX_MAX))
    tally.validate_matrix(raw, known)
    return [[o, a, b] for o, (a, b) in sorted(raw.items())]


# --------------------------------------------------------------------------------------------
# Casting


def _voter_for(actor: Actor, workshop: Workshop, on_behalf_of: int | None) -> tuple[Delegate,
                                                                                  str]:
    """The delegate whose vote this is, and the source: the actor, or the absent one they carry.

    :raise PermissionDenied: the actor carries no proxy for that delegate.
    """
    if on_behalf_of is None or on_behalf_of == actor.id:
        return actor, "phone"
    proxy = db.session.scalar(sa.select(ProxyAssignment).where(
        ProxyAssignment.workshop_id == workshop.id,
        ProxyAssignment.holder_delegate_id == actor.id,
        ProxyAssignment.absent_delegate_id == on_behalf_of,
    ))
    absent = db.session.get(Delegate, on_behalf_of) if proxy is not None else None
    if absent is None or absent.workshop_id != workshop.id:
        raise PermissionDenied(_l("You do not carry this delegate's vote."),
                               on_behalf_of=_l("You do not carry this delegate's vote."))
    return absent, "proxy"


def _ballot_for_cast(workshop: Workshop, ballot_id: int) -> Ballot:
    """The ballot, read with a shared lock (PostgreSQL: a close waits for this cast)."""
    ballot = db.session.scalars(
        sa.select(Ballot).where(Ballot.id == ballot_id, Ballot.workshop_id == workshop.id)
        .with_for_update(read=True).execution_options(populate_existing=True)
    ).one_or_none()
    if ballot is None:
        raise NotFound(_l("This ballot does not exist."), ballot_id=_l("Unknown ballot."))
    return ballot


def _check_open(ballot: Ballot) -> None:
    if is_due(ballot):
        db.session.rollback()
        close_if_due(db.session.get(Ballot, ballot.id))
        raise Conflict(_l("This ballot is closed: votes are no longer accepted."))
    if not ballot.is_open:
        raise Conflict(_l("This ballot is closed: votes are no longer accepted."))


def _still_open(ballot_id: int) -> None:
    """Re-read the status inside the write transaction, after our rows are written.

    On SQLite the write lock is now ours: a close that committed before it is seen here.
    """
    status = db.session.scalar(sa.select(Ballot.status).where(Ballot.id == ballot_id))
    if status != "open":
        raise Conflict(_l("This ballot is closed: votes are no longer accepted."))


@dataclass(frozen=True)
class _Before:
    """How the voter's paper had come in, when this cast changes or replaces one."""

    source: str
    cast_by_id: int | None


def _participation(ballot: Ballot, voter: Delegate) -> Participation | None:
    return db.session.scalar(sa.select(Participation).where(
        Participation.ballot_id == ballot.id, Participation.delegate_id == voter.id))


def _check_owner(participation: Participation | None, voter: Delegate, source: str) -> None:
    """The delegate's own paper wins: a proxy holder never touches a paper the delegate cast
    themself (or a facilitator typed in from their paper ballot).

    :raise Conflict: a proxy's cast over the delegate's own paper.
    """
    if source == "proxy" and participation is not None and participation.source != "proxy":
        message = _l("%(name)s has voted themself: their own ballot paper stands and a proxy "
                     "cannot change it.", name=voter.name)
        raise Conflict(message, on_behalf_of=message)


def _find_secret_paper(ballot: Ballot, voter: Delegate, participation: Participation | None,
                       secret: str | None, replace_lost: bool) -> tuple[Vote | None, bool]:
    """A secret ballot's paper of this voter: (paper, to be replaced?).

    The same voter with the same secret finds their paper and changes it. A paper a proxy
    holder cast is found by its proxy tag and replaced, whoever sends the new one (the
    delegate themself, or a holder with a live proxy: `_voter_for` checked that). A voter
    whose secret is lost finds their paper by its owner tag when they ask to replace it.

    :raise ValidationFailed: no secret (field `secret`).
    :raise VotedElsewhere: the voter's paper came from another phone, whose secret this is
        not, and the voter did not ask to replace it.
    """
    if secret is None:
        raise ValidationFailed(_l("Some fields need correcting."),
                               secret=_l("This field is required."))
    vote = db.session.scalar(sa.select(Vote).where(
        Vote.ballot_id == ballot.id,
        Vote.secret_hash == secrecy.paper_hash(ballot.id, voter.id, secret)))
    if vote is not None or participation is None:
        return vote, False
    if participation.source == "proxy":
        vote = db.session.scalar(sa.select(Vote).where(
            Vote.ballot_id == ballot.id,
            Vote.proxy_tag == secrecy.proxy_tag(ballot.id, voter.id)))
        if vote is not None:
            return vote, True
    elif replace_lost:
        vote = db.session.scalar(sa.select(Vote).where(
            Vote.ballot_id == ballot.id,
            Vote.owner_tag == secrecy.owner_tag(ballot.id, voter.id)))
        if vote is not None:
            vote.replaced_lost = True  # transient: for the audit log, never stored
            return vote, True
    raise VotedElsewhere(_l("You have already voted in this ballot from another phone or "
                            "browser. Change your vote there, or replace it here: tick \u201cI no "
                            "longer have that phone or browser\u201d and send your vote again."))


def _new_paper(ballot: Ballot, voter: Delegate) -> Vote:
    """A paper holding only what the ballot may keep (see secrecy.py for a secret one)."""
    org = voter.organisation
    if not ballot.secret:
        return Vote(ballot_id=ballot.id, delegate_id=voter.id, region=org.region,
                    org_type=org.type, organisation_id=org.id,
                    receipt=receipt_for(secrets.token_hex(16)))
    return Vote(
        ballot_id=ballot.id,
        region=org.region if ballot.weighting == "region" else None,
        org_key=secrecy.org_key(ballot.id, org.id) if ballot.weighting == "organisation"
        else None,
    )


def _store(ballot: Ballot, voter: Delegate, choices: list, source: str, cast_by: Actor,
           secret: str | None, replace_lost: bool = False) -> tuple[Vote, _Before | None]:
    """Insert, change or replace the voter's ballot paper, and write their participation.

    Returns the paper and, if the voter had one, how it had come in. A secret paper is also
    added to (and the old one taken off) its region's running totals.

    :raise Conflict: see `_check_owner` and `_find_secret_paper`.
    """
    participation = _participation(ballot, voter)
    _check_owner(participation, voter, source)
    before = None if participation is None else _Before(participation.source,
                                                       participation.cast_by_id)
    region = voter.organisation.region
    if ballot.secret:
        vote, replace = _find_secret_paper(ballot, voter, participation, secret, replace_lost)
    else:
        replace = False
        # Participation and vote are written together: no participation, no vote to find.
        vote = None if participation is None else db.session.scalar(sa.select(Vote).where(
            Vote.ballot_id == ballot.id, Vote.delegate_id == voter.id))
    if participation is None:
        db.session.add(Participation(
            ballot_id=ballot.id, delegate_id=voter.id, source=source,
            cast_by_kind=getattr(cast_by, "kind", "system"), cast_by_id=cast_by.id,
        ))
    else:
        participation.source = source
        participation.cast_by_kind = getattr(cast_by, "kind", "system")
        participation.cast_by_id = cast_by.id
    if vote is None:
        vote = _new_paper(ballot, voter)
        replace = ballot.secret
    elif ballot.secret:
        results_module.add_to_region(ballot, region, vote.choices, -1)
    if ballot.secret:
        if replace:  # a new paper, or a proxy's paper taken over: the sender's secret, receipt
            vote.secret_hash = secrecy.paper_hash(ballot.id, voter.id, secret or "")
            vote.receipt = receipt_for(secret_token(ballot.id, voter.id, secret or ""))
        vote.proxy_tag = secrecy.proxy_tag(ballot.id, voter.id) if source == "proxy" else None
        vote.owner_tag = secrecy.owner_tag(ballot.id, voter.id)
    else:
        vote.source = source
    vote.choices = choices
    db.session.add(vote)
    if ballot.secret:
        results_module.add_to_region(ballot, region, choices)
    db.session.flush()
    _still_open(ballot.id)
    return vote, before


def _commit_cast(ballot: Ballot, vote: Vote, changed: bool) -> CastResult:
    """Commit a stored paper, then send the coalesced turnout: the receipt follows the commit."""
    result = CastResult(ballot.id, vote.receipt, changed)
    workshop_id = ballot.workshop_id
    announced = publisher.before_commit(db.session, ballot)
    db.session.commit()
    publisher.after_commit(result.ballot_id, workshop_id, announced)
    return result


def _cast_once(actor: Actor, workshop: Workshop, data: CastIn) -> CastResult:
    ballot = _ballot_for_cast(workshop, data.ballot_id)
    voter, source = _voter_for(actor, workshop, data.on_behalf_of)
    _check_open(ballot)
    choices = check_choices(ballot, data.choices)
    vote, before = _store(ballot, voter, choices, source, actor, data.secret,
                          data.replace_lost and source != "proxy")
    if source == "proxy":
        record(actor, "ballot.cast", workshop.id, ballot_id=ballot.id, proxy=True,
               holder_id=actor.id, holder=actor.display_name, absent_id=voter.id,
               absent=voter.name, changed=before is not None,
               replaced_holder_id=before.cast_by_id
               if before is not None and before.cast_by_id != actor.id else None)
    elif before is not None and before.source == "proxy":
        # The delegate takes their paper back from the proxy holder: theirs replaces it.
        record(actor, "ballot.cast", workshop.id, ballot_id=ballot.id, took_back=True,
               holder_id=before.cast_by_id, delegate_id=voter.id, delegate=voter.name)
    elif getattr(vote, "replaced_lost", False):
        # Who replaced a paper whose secret they lost; never what either paper said.
        record(actor, "ballot.cast", workshop.id, ballot_id=ballot.id, replaced_lost=True,
               delegate_id=voter.id, delegate=voter.name)
    return _commit_cast(ballot, vote, before is not None)


def cast_vote(actor: Actor, workshop: Workshop, data: CastIn) -> CastResult:
    """Store a delegate's ballot paper (or the absent delegate's they carry) and commit.

    Sending the same paper again (a retry) changes nothing; sending another one before close
    replaces the first. In a secret ballot the voter and the phone's secret identify the
    paper: the same secret updates it, another secret from a delegate who voted is refused,
    and nobody else's cast can reach it.

    A paper belongs to its voter. A proxy holder reaches the absent delegate's paper only
    through a live proxy (`on_behalf_of`), never as themself. When both vote, the delegate's
    own paper wins: a proxy's cast over it is refused, and the delegate's own cast replaces a
    proxy's paper (also after the proxy was taken back). Proxy casts and take-backs are
    written to the audit log.

    :raise PermissionDenied: not a delegate of this workshop, or no proxy for `on_behalf_of`.
    :raise NotFound: no such ballot in this workshop.
    :raise Conflict: the ballot is closed, the delegate voted with another secret, or a proxy
        tries to change a paper the delegate cast themself.
    :raise ValidationFailed: the choices break the ballot's rules (field `choices`).
    """
    if is_delegate_of(actor, workshop) and not votes_in(actor, workshop):
        raise PermissionDenied(_l("You are not on the voting register yet: ask a facilitator "
                                  "to check you in."))
    require("ballot.cast", actor, workshop)
    try:
        return _cast_once(actor, workshop, data)
    except IntegrityError:
        # Two copies of the same paper raced (a retry overtaking its original): the database
        # let one in; the other now finds it and updates it, so it still counts once.
        db.session.rollback()
    try:
        return _cast_once(actor, workshop, data)
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_l("Your ballot could not be stored. Try again.")) from None


def enter_paper_ballot(actor: Actor, workshop: Workshop, data: PaperIn) -> CastResult:
    """A facilitator types in a paper ballot for a delegate without a phone (audited).

    The receipt code comes back so it can be handed to the delegate. A delegate who voted
    already cannot get a paper ballot as well (a named paper ballot may be corrected); a paper
    a proxy holder cast for them is replaced (the delegate's own vote wins).

    :raise PermissionDenied: the actor does not facilitate this workshop.
    :raise NotFound: no such ballot or delegate in this workshop.
    :raise Conflict: the ballot is closed, or the delegate voted already.
    :raise ValidationFailed: the choices break the ballot's rules (field `choices`).
    """
    require("ballot.paper", actor, workshop)
    ballot = _ballot_for_cast(workshop, data.ballot_id)
    delegate = db.session.get(Delegate, data.delegate_id)
    if delegate is None or delegate.workshop_id != workshop.id:
        raise NotFound(_l("No such delegate in this workshop."),
                       delegate_id=_l("Unknown delegate."))
    _check_open(ballot)
    choices = check_choices(ballot, data.choices)
    participation = _participation(ballot, delegate)
    if participation is not None and participation.source != "proxy" and (
            ballot.secret or participation.source != "paper"):
        raise Conflict(_l("This delegate has voted already."),
                       delegate_id=_l("This delegate has voted already."))
    secret = secrets.token_hex(16) if ballot.secret else None
    vote, before = _store(ballot, delegate, choices, "paper", actor, secret)
    record(actor, "ballot.paper", workshop.id, ballot_id=ballot.id, delegate_id=delegate.id,
           delegate=delegate.name, changed=before is not None,
           took_back=before is not None and before.source == "proxy")
    return _commit_cast(ballot, vote, before is not None)


# --------------------------------------------------------------------------------------------
# Proxies


def _delegate_of(workshop: Workshop, delegate_id: int, field: str) -> Delegate:
    delegate = db.session.get(Delegate, delegate_id)
    if delegate is None or delegate.workshop_id != workshop.id:
        raise ValidationFailed(_l("Some fields need correcting."),
                               **{field: _l("No such delegate in this workshop.")})
    return delegate


def assign_proxy(actor: Actor, workshop: Workshop, data: ProxyIn) -> ProxyAssignment | None:
    """Let a present delegate carry an absent delegate's vote, or take that right back.

    Taking it back hands the delegate's paper back: the holder can no longer reach it (their
    casts for the delegate are refused; as themself they only reach their own paper), the
    paper still counts until the delegate (or a new holder) casts a new one, which replaces
    it. The audit entry names the open ballots where that happens (`handed_back`).

    :raise PermissionDenied: the actor is not an organiser.
    :raise ValidationFailed: unknown delegates, the same person twice, a chain of proxies.
    :raise Conflict: the absent delegate's vote is carried by someone else already.
    """
    require("proxy.assign", actor, workshop)
    holder = _delegate_of(workshop, data.holder_id, "holder_id")
    absent = _delegate_of(workshop, data.absent_id, "absent_id")
    existing = db.session.scalar(sa.select(ProxyAssignment).where(
        ProxyAssignment.absent_delegate_id == absent.id))
    if not data.assigned:
        if existing is None or existing.holder_delegate_id != holder.id:
            raise NotFound(_l("There is no such proxy."))
        db.session.delete(existing)
        handed_back = list(db.session.scalars(
            sa.select(Participation.ballot_id)
            .join(Ballot, Ballot.id == Participation.ballot_id)
            .where(Participation.delegate_id == absent.id, Participation.source == "proxy",
                   Participation.cast_by_id == holder.id, Ballot.status == "open")
            .order_by(Participation.ballot_id)))
        record(actor, "proxy.assign", workshop.id, holder_id=holder.id, holder=holder.name,
               absent_id=absent.id, absent=absent.name, assigned=False,
               handed_back=handed_back)
        db.session.commit()
        return None
    if holder.id == absent.id:
        raise ValidationFailed(_l("Some fields need correcting."),
                               absent_id=_l("A delegate cannot carry their own vote."))
    chained = db.session.scalar(sa.select(ProxyAssignment.id).where(sa.or_(
        ProxyAssignment.absent_delegate_id == holder.id,
        ProxyAssignment.holder_delegate_id == absent.id,
    )))
    if chained is not None:
        raise ValidationFailed(
            _l("Some fields need correcting."),
            holder_id=_l("An absent delegate cannot carry votes, and a holder cannot be absent."))
    if existing is not None:
        raise Conflict(_l("Someone carries this delegate's vote already."),
                       absent_id=_l("Someone carries this delegate's vote already."))
    proxy = ProxyAssignment(workshop_id=workshop.id, holder_delegate_id=holder.id,
                            absent_delegate_id=absent.id, created_by_id=actor.id)
    db.session.add(proxy)
    record(actor, "proxy.assign", workshop.id, holder_id=holder.id, holder=holder.name,
           absent_id=absent.id, absent=absent.name, assigned=True)
    db.session.commit()
    return proxy


def proxies_of(workshop: Workshop) -> list[ProxyAssignment]:
    """The workshop's proxies."""
    return list(db.session.scalars(sa.select(ProxyAssignment).where(
        ProxyAssignment.workshop_id == workshop.id).order_by(ProxyAssignment.id)))


def carried_by(delegate: Delegate) -> list[Delegate]:
    """The absent delegates whose vote this delegate carries."""
    return list(db.session.scalars(
        sa.select(Delegate)
        .join(ProxyAssignment, ProxyAssignment.absent_delegate_id == Delegate.id)
        .where(ProxyAssignment.holder_delegate_id == delegate.id)
        .order_by(Delegate.name)
    ))


def has_voted(ballot: Ballot, delegate_id: int) -> bool:
    """Whether the delegate took part (never what they chose)."""
    return db.session.scalar(sa.select(Participation.id).where(
        Participation.ballot_id == ballot.id, Participation.delegate_id == delegate_id
    )) is not None


def named_vote(ballot: Ballot, delegate_id: int) -> Vote | None:
    """A named ballot's paper of this delegate (None for secret ballots)."""
    if ballot.secret:
        return None
    return db.session.scalar(sa.select(Vote).where(
        Vote.ballot_id == ballot.id, Vote.delegate_id == delegate_id))


# --------------------------------------------------------------------------------------------
# Results and the top N


def current_results(ballot: Ballot) -> dict[str, Any]:
    """The frozen results of a closed ballot, or a fresh (unfrozen) count of an open one.

    :raise Conflict: an open secret ballot (nobody counts it before close).
    """
    if ballot.results is not None:
        return ballot.results
    if ballot.secret:
        raise Conflict(SECRET_RESULTS_WAIT)
    return results_module.compute(ballot)[0]


def top_preview(ballot: Ballot, n: int, by: str = "score") -> tally.TopN:
    """What "select the top N" would carry forward, with any tie at the cut-off."""
    results = current_results(ballot)
    if by == "schulze" and results.get("schulze"):
        groups = results["schulze"]["ranking"]
    else:
        groups = results["ranking"]
    return tally.top_n([tuple(g) for g in groups], n)


def select_top(actor: Actor, workshop: Workshop, ballot: Ballot, data: SelectTopIn) -> list[int]:
    """Carry the top N lines of work forward; a person settles any tie at the cut-off.

    :raise PermissionDenied: the actor does not facilitate this workshop.
    :raise Conflict: the ballot is still open.
    :raise ValidationFailed: a tie at the cut-off and `picks` is not exactly the right number
        of the tied lines of work (field `picks`).
    """
    require("ballot.select_top", actor, workshop)
    if ballot.is_open:
        raise Conflict(_l("Close the ballot before selecting the top lines of work."))
    by = "schulze" if data.by == "schulze" and ballot.method == "ranking" else "score"
    top = top_preview(ballot, data.n, by)
    picks = list(dict.fromkeys(data.picks))
    if top.has_tie:
        if len(picks) != top.seats_left or not set(picks) <= set(top.tied_at_cutoff):
            raise ValidationFailed(
                _l("Some fields need correcting."),
                picks=_l("Lines of work are tied at the cut-off: choose %(n)s of them.",
                         n=top.seats_left),
            )
    elif picks:
        raise ValidationFailed(_l("Some fields need correcting."),
                               picks=_l("There is no tie to settle."))
    selected = list(top.selected) + picks
    ballot.selected_proposal_ids = selected
    ballot.selection = {"n": data.n, "by": by, "tied": list(top.tied_at_cutoff),
                        "picked": picks, "by_user": actor.display_name,
                        "at": utcnow().isoformat()}
    record(actor, "ballot.select_top", workshop.id, ballot_id=ballot.id, n=data.n, by=by,
           selected=selected, tied=list(top.tied_at_cutoff), picked=picks)
    _announce(ballot)
    # Action plans are made from the selection in this same transaction.
    lines_carried_forward.send(ballot, actor=actor, workshop=workshop, proposal_ids=selected)
    db.session.commit()
    return selected
