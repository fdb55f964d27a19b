"""Operations on ballots: open, close, extend, show results, proxies, top N; the rules of a
ballot paper. Casting is in casting.py (it builds on these, never the other way).

Each function takes the acting user or delegate first, checks the operation's permission,
changes the database, records the audit entry, queues the broadcast and commits.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from workshop.agenda.models import Step, Workshop
from workshop.agenda.pushed import with_step_part
from workshop.audit.services import record
from workshop.db import utcnow
from workshop.errors import Conflict, NotFound, ValidationFailed
from workshop.extensions import db
from workshop.kept import kept
from workshop.live import Fanout, after_commit, queue, workshop_room
from workshop.permissions import Actor, require
from workshop.proposals.models import Proposal
from workshop.signals import lines_carried_forward
from workshop.voting import clock, secrecy, tally
from workshop.voting import results as results_module
from workshop.voting.models import (
    Ballot,
    BallotOption,
    Participation,
    Vote,
)
from workshop.voting.schemas import BallotOpen, SelectTopIn
from workshop.voting.turnout import eligible_delegates, turnout  # noqa: F401  (re-exported)

MIN_OPTIONS = 2
SECRET_RESULTS_WAIT = _l("The results of a secret ballot are counted only once it closes: "
                         "results that change with each ballot paper would show what the last "
                         "voter chose.")


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
    return base64.b32encode(digest[:10]).decode()[:12]  # 16 characters of which 12 are kept


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


#: The kinds of step that show a ballot (and whose part the voting feature draws).
BALLOT_STEPS = ("vote", "results")


def ballot_for_step(workshop: Workshop, step: Step | None) -> Ballot | None:
    """The ballot a vote or results step shows.

    A ballot attached to the step wins (an open one first); otherwise a vote step shows the
    newest open ballot (or, when none is open, the last one), a results step the newest closed
    one (or an open one whose results the facilitator shows).
    """
    if step is None or step.kind not in BALLOT_STEPS:
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


def _option_rows(ballot: Ballot, *columns: Any) -> list[Any]:
    """(proposal id, *columns) of each of the ballot's options."""
    return db.session.execute(
        sa.select(Proposal.id, *columns)
        .join(BallotOption, BallotOption.proposal_id == Proposal.id)
        .where(BallotOption.ballot_id == ballot.id)).all()


def option_texts(ballot: Ballot, workshop: Workshop) -> tuple[dict[int, str], dict[int, str]]:
    """Proposal id -> title, and -> its language, of the ballot's options: read together, once
    per ballot and content version of the workshop (every phone of a vote step asks; a changed
    title bumps the version, see workshop/kept.py). Not to be changed by the caller."""

    def read() -> tuple[dict[int, str], dict[int, str]]:
        rows = _option_rows(ballot, Proposal.title, Proposal.language)
        return {pid: title for pid, title, _lang in rows}, {pid: lang for pid, _t, lang in rows}

    return kept("option-texts", size=64).get((ballot.id, workshop.content_version), read)


def option_titles(ballot: Ballot) -> dict[int, str]:
    """Proposal id -> title of the ballot's options."""
    return dict(_option_rows(ballot, Proposal.title))


def order_key(ballot_id: int, delegate_id: int, salt: int, option: int) -> int:
    """Where an option goes on one delegate's paper: FNV-1a (32 bits) of
    "ballot:delegate:salt:option", finished with MurmurHash3's mixer so that neighbouring ids
    spread. Nothing secret, only well spread, and simple: a phone's page orders a paper drawn
    for everyone exactly so (ballot.js, orderKey), whether or not it has WebCrypto (which a
    room's plain-HTTP address lacks)."""
    h = 0x811C9DC5
    for byte in f"{ballot_id}:{delegate_id}:{salt}:{option}".encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


def shuffled_options(ballot: Ballot, delegate_id: int, salt: int = 0) -> list[int]:
    """The ballot's options in this delegate's own order (stable across reloads).

    Position bias is real: each phone sees its own order, derived from the ballot and the
    delegate, so a reload does not reshuffle. Votes are stored by proposal id, never position.
    """
    return sorted(ballot.option_ids,
                  key=lambda option: (order_key(ballot.id, delegate_id, salt, option), option))


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


def _announce(ballot: Ballot, redraw: bool = True) -> None:
    """The `ballot` event, after the commit. When it changes what the step shows (`redraw`:
    opened, closed, results shown or hidden; not a later closing time) on a vote or results
    step, it carries the step's part for each language where that is drawn for every phone
    (workshop/agenda/pushed.py): a ballot opening before a thousand phones is shown without
    a thousand requests."""
    db.session.flush()
    payload = ballot_payload(ballot)
    workshop = db.session.get(Workshop, ballot.workshop_id)
    step = workshop.current_step if workshop is not None else None
    if redraw and step is not None and step.kind in BALLOT_STEPS:
        payload = Fanout(functools.partial(with_step_part, ballot.workshop_id, payload,
                                           time.monotonic()))
    queue(db.session, "ballot", payload, workshop_room(ballot.workshop_id))


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
    _watch_closing_time(ballot)
    db.session.commit()
    return ballot


def _watch_closing_time(ballot: Ballot) -> None:
    """Once committed, have the clock close the ballot at its time (if it has one)."""
    if ballot.closes_at is not None:
        after_commit(db.session, functools.partial(
            clock.schedule, current_app._get_current_object(), ballot.id))


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

    Called by the clock at the closing time, and after a batch of casts that found the time
    passed; whichever comes first closes it, the other finds it closed. Never from a read:
    until then a page shows the ballot open with no time left, and votes are refused.
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
    _announce(ballot, redraw=False)
    _watch_closing_time(ballot)
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


#: The sentence a phone shows for each rule of a ballot paper (tally.PaperError's codes).
PAPER_MESSAGES: dict[str, Callable[..., Any]] = {
    "not_a_list": lambda **_: _l("Send a list of options."),
    "not_a_mapping": lambda **_: _l("Send a value for each option you choose."),
    "unknown_option": lambda option, **_: _l("%(id)s is not one of this ballot's options.",
                                             id=option),
    "repeated_option": lambda option, **_: _l("An option appears twice (%(id)s).", id=option),
    "too_many": lambda limit, **_: _l("Choose at most %(k)s options.", k=limit),
    "not_whole": lambda **_: _l("Give whole points to each option."),
    "negative": lambda **_: _l("Points cannot be negative."),
    "over_max": lambda limit, **_: _l("At most %(m)s points on one option.", m=limit),
    "over_budget": lambda given, budget, **_: _l(
        "Over budget: %(given)s points given, %(budget)s available.", given=given,
        budget=budget),
    "bad_rating": lambda **_: _l("Rate each option from %(low)s to %(high)s on both criteria.",
                                 low=tally.MATRIX_MIN, high=tally.MATRIX_MAX),
}


def paper_refused(exc: tally.PaperError) -> ValidationFailed:
    """The paper's broken rule as a field error on `choices`, in the reader's language, with
    its code (`codes.choices`) for clients that draw their own message."""
    error = ValidationFailed(_l("Your ballot needs correcting."),
                             choices=PAPER_MESSAGES[exc.code](**exc.params))
    error.codes = {"choices": exc.code}
    return error


def check_choices(ballot: Ballot, raw: Any) -> list:
    """Check a ballot paper against the ballot's method and return it in its stored form.

    The rules are the pure tally's (`tally.validate_*`), checked here once; the schema only
    bounds the paper's size. Stored forms are plain lists by proposal id: approval [id, ...]
    sorted; ranking [id, ...] best first; points [[id, points], ...] (no zeros) and matrix
    [[id, a, b], ...] sorted by id.

    :raise ValidationFailed: on `choices`, naming the rule broken (unknown or repeated option,
        over budget, too many approvals, a rating outside 1-5, the wrong shape).
    """
    known = frozenset(ballot.known_options)
    try:
        if ballot.method == "approval":
            tally.validate_approval(raw, known, ballot.max_approvals)
            return sorted(raw)
        if ballot.method == "ranking":
            tally.validate_ranking(raw, known)
            return list(raw)
        if ballot.method == "points":
            tally.validate_points(raw, known, ballot.budget, ballot.max_per_option)
            return [[o, p] for o, p in sorted(raw.items()) if p]
        tally.validate_matrix(raw, known)
        return [[o, a, b] for o, (a, b) in sorted(raw.items())]
    except tally.PaperError as exc:
        raise paper_refused(exc) from None


# --------------------------------------------------------------------------------------------
# Who voted (never what)


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
    _announce(ballot, redraw=False)
    # Action plans are made from the selection in this same transaction.
    lines_carried_forward.send(ballot, actor=actor, workshop=workshop, proposal_ids=selected)
    db.session.commit()
    return selected
