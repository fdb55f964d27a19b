"""Casting ballot papers: a phone's vote, a proxy's, a paper ballot typed in by a facilitator.

Every cast goes through the workshop's group commit (workshop/group_commit.py): casts that
arrive together are written in one transaction, each in its own savepoint, and each caller is
answered only after that transaction committed, so a receipt always stands for a stored paper.
A batch checks its ballot once, under a lock held until its commit; a ballot past its closing
time refuses the cast and is closed after the batch, by the same function as the clock's.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from workshop.agenda.models import Delegate, Workshop
from workshop.agenda.services import get_workshop
from workshop.audit.services import record
from workshop.auth.logins import Sender, hold_logins, person_in_batch
from workshop.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    WorkshopError,
)
from workshop.extensions import db, one_per_app
from workshop.group_commit import (
    GroupCommit,
    Queued,
    among,
    end_callers_reads,
    held,
    held_row,
    hold_by_ids,
    hold_rows,
    insert_later,
)
from workshop.live import delegate_room, from_socket, queue
from workshop.permissions import Actor, could_vote, is_delegate_of, require, votes_in
from workshop.steps import voted_mark
from workshop.voting import results as results_module
from workshop.voting import secrecy
from workshop.voting.broadcast import publisher
from workshop.voting.models import Ballot, Participation, ProxyAssignment, Vote, new_vote_id
from workshop.voting.schemas import CastIn, PaperIn
from workshop.voting.services import (
    check_choices,
    close_if_due,
    is_due,
    receipt_for,
    secret_token,
)


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


# --------------------------------------------------------------------------------------------
# The group commit of casts


def _after_batch(results: list[CastResult]) -> Callable[[], None]:
    """Before the batch commits: queue each ballot's turnout (coalesced, sent after the
    commit). Once it committed: close the ballots a cast found past their closing time."""
    for ballot_id in dict.fromkeys(r.ballot_id for r in results):
        publisher.announce(db.session, ballot_id)
    due = db.session.info.pop("due_ballots", set())

    def close_due() -> None:
        for ballot_id in due:
            ballot = db.session.get(Ballot, ballot_id)
            if ballot is not None:
                close_if_due(ballot)

    return close_due


def casts() -> GroupCommit:
    """The process's group commit of casts (one per app).

    Casts are written all at once (each one checks everything before it writes anything, so a
    refused cast has changed nothing), after `_prefetch` has read what the batch needs.
    Two copies of one paper racing from two processes (a retry overtaking its original): the
    database lets one in; the other, tried again, finds it and updates it.
    """
    return one_per_app("workshop.casts", lambda: GroupCommit(
        _after_batch, retry_on=(IntegrityError,), prepare=_prefetch, refusals=(WorkshopError,)))


#: Where a batch's session notes whether the write it runs came over the sender's socket.
_FROM_SOCKET = "casting.from_socket"


@dataclass(frozen=True)
class _Cast:
    """One cast handed to the group commit: what it needs, by id (the batch has a session of
    its own), and `once`, which runs it there with the actor and workshop loaded again.

    With `login_session_id` the actor was not loaded by the caller (a socket event, see
    sockets.operation's `sender`): the batch checks that login where it writes.
    """

    once: Callable[[Actor, Workshop, Any], CastResult]
    kind: type
    actor_id: int
    workshop_id: int
    data: Any
    from_socket: bool = False  # sent over the sender's socket: that page is connected
    login_session_id: int | None = None

    def __call__(self) -> CastResult:
        db.session.info[_FROM_SOCKET] = self.from_socket  # for this write (see _tell_pages)
        actor = person_in_batch("delegate" if self.kind is Delegate else "user", self.actor_id,
                                self.login_session_id)
        return self.once(actor, get_workshop(self.workshop_id), self.data)

    def voter_id(self) -> int | None:
        """The delegate whose paper this is (as far as can be told before any check)."""
        if isinstance(self.data, PaperIn):
            return self.data.delegate_id
        if self.data.on_behalf_of is not None:
            return self.data.on_behalf_of
        return self.actor_id if self.kind is Delegate else None


def _submit(once: Callable[[Actor, Workshop, Any], CastResult], kind: type, actor_id: int,
            workshop_id: int, data: Any, login_session_id: int | None = None) -> CastResult:
    """Hand a cast to the group commit, once the caller's own transaction has ended; `once`
    runs in the batch's session with the actor and workshop loaded again there, and checks
    there whether the actor may cast (in the transaction that writes the paper).

    The caller's session commits first (it holds reads, and in tests what the test set up):
    its connection goes back to the pool while it waits, and afterwards its objects are read
    again, as after any commit.
    """
    work = _Cast(once, kind, actor_id, workshop_id, data, from_socket(), login_session_id)
    end_callers_reads()
    try:
        return casts().submit(work)
    except IntegrityError:
        raise Conflict(_l("Your ballot could not be stored. Try again.")) from None


def _prefetch(works: list[Callable[[], Any]]) -> None:
    """Read what a batch of casts needs in a few queries, kept for the transaction (`held`):
    the delegates and their organisations, each ballot (locked), the voters' participations
    and papers, the running totals. A cast that finds nothing kept reads for itself."""
    batch = [work for work in works if isinstance(work, _Cast)]
    voter_ids = {voter for work in batch if (voter := work.voter_id()) is not None}
    actor_ids = {work.actor_id for work in batch if work.kind is Delegate}
    # Kept here too: the session's identity map holds its objects only while someone does.
    hold_by_ids("delegate", Delegate, voter_ids | actor_ids, joinedload(Delegate.organisation))
    hold_logins({work.login_session_id for work in batch if work.login_session_id is not None})
    hold_by_ids("workshop", Workshop, {work.workshop_id for work in batch})
    casts_of: dict[tuple[int, int], list[_Cast]] = {}
    for work in batch:
        casts_of.setdefault((work.workshop_id, work.data.ballot_id), []).append(work)
    for (workshop_id, ballot_id), these in casts_of.items():
        try:
            ballot = _ballot_for_cast(workshop_id, ballot_id)
        except WorkshopError:
            continue  # each of these casts is refused on its own
        voters = {voter for work in these if (voter := work.voter_id()) is not None}
        hold_rows("participation", ((ballot_id, voter) for voter in voters),
                  db.session.scalars(sa.select(Participation).where(
                      Participation.ballot_id == ballot_id,
                      among(Participation.delegate_id, voters))),
                  lambda row: (row.ballot_id, row.delegate_id))
        # A voter's papers are written with their participation: one who has none yet has
        # no paper (a secret paper's hash holds its voter's id), and nothing is read for them.
        taken_part = {voter for voter in voters
                      if held("participation")[(ballot_id, voter)] is not None}
        if ballot.secret:
            hashes = {(secrecy.paper_hash(ballot_id, voter, work.data.secret), voter)
                      for work in these if isinstance(work.data, CastIn) and work.data.secret
                      and (voter := work.voter_id()) is not None}
            _hold_papers(ballot, Vote.secret_hash, {h for h, _ in hashes},
                         {h for h, voter in hashes if voter in taken_part})
            results_module.hold_regions(ballot)
        else:
            _hold_papers(ballot, Vote.delegate_id, voters, taken_part)


def _hold_papers(ballot: Ballot, column: Any, keys: set, to_read: set) -> None:
    """Hold the ballot's papers whose `column` (the secret hash, or the voter) is one of
    `keys`, under their `_paper_key`: read in one query for the values in `to_read` (nothing
    read when it is empty), the other keys held as known to have no paper."""
    kind = "hash" if ballot.secret else "voter"
    found = db.session.scalars(sa.select(Vote).where(
        Vote.ballot_id == ballot.id, among(column, to_read))) if to_read else ()
    hold_rows("paper", ((kind, ballot.id, key) for key in keys), found,
              lambda vote: (kind, vote.ballot_id, getattr(vote, column.key)))


# --------------------------------------------------------------------------------------------
# Casting


def _voter_for(actor: Actor, workshop_id: int,
               on_behalf_of: int | None) -> tuple[Delegate, str]:
    """The delegate whose vote this is, and the source: the actor, or the absent one they carry.

    :raise PermissionDenied: the actor carries no proxy for that delegate.
    """
    if on_behalf_of is None or on_behalf_of == actor.id:
        return actor, "phone"
    proxy = db.session.scalar(sa.select(ProxyAssignment).where(
        ProxyAssignment.workshop_id == workshop_id,
        ProxyAssignment.holder_delegate_id == actor.id,
        ProxyAssignment.absent_delegate_id == on_behalf_of,
    ))
    absent = db.session.get(Delegate, on_behalf_of) if proxy is not None else None
    if absent is None or absent.workshop_id != workshop_id:
        raise PermissionDenied(_l("You do not carry this delegate's vote."),
                               on_behalf_of=_l("You do not carry this delegate's vote."))
    return absent, "proxy"


def _ballot_for_cast(workshop_id: int, ballot_id: int) -> Ballot:
    """The ballot, read and locked once per batch (PostgreSQL: FOR UPDATE, so a close waits
    for the batch, and two processes' batches on one ballot take turns instead of locking its
    regions' running totals in opposite orders and deadlocking; SQLite: the batch holds the
    write lock already, see group_commit)."""
    locked: dict[int, Ballot] = held("ballot")
    ballot = locked.get(ballot_id)
    if ballot is None:
        ballot = db.session.scalars(
            sa.select(Ballot).where(Ballot.id == ballot_id)
            .with_for_update().execution_options(populate_existing=True)
        ).one_or_none()
        if ballot is not None:
            locked[ballot_id] = ballot
    if ballot is None or ballot.workshop_id != workshop_id:
        raise NotFound(_l("This ballot does not exist."), ballot_id=_l("Unknown ballot."))
    return ballot


def _check_open(ballot: Ballot) -> None:
    """Votes are accepted only while the ballot is open and its closing time has not passed.

    A ballot past its time is closed by the clock; a cast that finds it first asks for the
    close once the batch has committed (`_after_batch`), never in the cast's transaction.
    """
    due = is_due(ballot)
    if due:
        db.session.info.setdefault("due_ballots", set()).add(ballot.id)
    if due or not ballot.is_open:
        raise Conflict(_l("This ballot is closed: votes are no longer accepted."))


@dataclass(frozen=True)
class _Before:
    """How the voter's paper had come in, when this cast changes or replaces one."""

    source: str
    cast_by_id: int | None


def _participation(ballot: Ballot, voter: Delegate) -> Participation | Queued | None:
    """The voter's participation in the ballot, as the batch holds it (see `Queued`)."""
    return held_row("participation", (ballot.id, voter.id), lambda: sa.select(Participation).where(
        Participation.ballot_id == ballot.id, Participation.delegate_id == voter.id))


def _read_back(ballot: Ballot, voter: Delegate, participation: Participation | Queued | None,
               vote: Vote | Queued | None) -> tuple[Participation | None, Vote | None]:
    """The voter's participation and paper as objects that can be changed: one this batch
    inserted (a `Queued`) is read back, its insert written first (see `write_later`), and held
    in its place. Seldom: only when one voter's casts meet in a batch."""
    if isinstance(participation, Queued):
        del held("participation")[(ballot.id, voter.id)]
        participation = _participation(ballot, voter)  # read now, and held
    if isinstance(vote, Queued):
        vote = db.session.get_one(Vote, vote.id)
        held("paper")[_paper_key(ballot, voter, vote.secret_hash)] = vote
    return participation, vote


def _paper_key(ballot: Ballot, voter: Delegate, secret_hash: str | None) -> tuple:
    """Under which key a batch holds a paper: a secret one by its hash, a named one by voter."""
    return ("hash", ballot.id, secret_hash) if ballot.secret else ("voter", ballot.id, voter.id)


def _check_owner(participation: Participation | Queued | None, voter: Delegate,
                 source: str) -> None:
    """The delegate's own paper wins: a proxy holder never touches a paper the delegate cast
    themself (or a facilitator typed in from their paper ballot).

    :raise Conflict: a proxy's cast over the delegate's own paper.
    """
    if source == "proxy" and participation is not None and participation.source != "proxy":
        message = _l("%(name)s has voted themself: their own ballot paper stands and a proxy "
                     "cannot change it.", name=voter.name)
        raise Conflict(message, on_behalf_of=message)


def _find_secret_paper(ballot: Ballot, voter: Delegate,
                       participation: Participation | Queued | None, wanted: str | None,
                       replace_lost: bool) -> tuple[Vote | Queued | None, bool]:
    """A secret ballot's paper of this voter: (paper, to be replaced?).

    The same voter with the same secret finds their paper and changes it. A paper a proxy
    holder cast is found by its proxy tag and replaced, whoever sends the new one (the
    delegate themself, or a holder with a live proxy: `_voter_for` checked that). A voter
    whose secret is lost finds their paper by its owner tag when they ask to replace it.
    `wanted` is the hash of the voter's paper with the secret sent (`_hash_of`; None: none
    was sent).

    :raise ValidationFailed: no secret (field `secret`).
    :raise VotedElsewhere: the voter's paper came from another phone, whose secret this is
        not, and the voter did not ask to replace it.
    """
    if wanted is None:
        raise ValidationFailed(_l("Some fields need correcting."),
                               secret=_l("This field is required."))
    vote = held_row("paper", ("hash", ballot.id, wanted), lambda: sa.select(Vote).where(
        Vote.ballot_id == ballot.id, Vote.secret_hash == wanted))
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
            return vote, True
    raise VotedElsewhere(_l("You have already voted in this ballot from another phone or "
                            "browser. Change your vote there, or replace it here: tick \u201cI no "
                            "longer have that phone or browser\u201d and send your vote again."))


def _hash_of(ballot: Ballot, voter: Delegate, secret: str | None) -> str | None:
    """The hash that finds the voter's secret paper with this secret (once a cast)."""
    return None if secret is None else secrecy.paper_hash(ballot.id, voter.id, secret)


def _secret_key(ballot: Ballot, voter: Delegate, secret: str,
                secret_hash: str) -> dict[str, str]:
    """What finds a secret paper again (its hash, `_hash_of` the secret) and what its voter is
    shown (its receipt)."""
    return {"secret_hash": secret_hash,
            "receipt": receipt_for(secret_token(ballot.id, voter.id, secret))}


def _secret_tags(ballot: Ballot, voter: Delegate, source: str) -> dict[str, str | None]:
    """A secret paper's proxy tag (a proxy's paper only) and owner tag (see secrecy.py)."""
    return {"proxy_tag": secrecy.proxy_tag(ballot.id, voter.id) if source == "proxy" else None,
            "owner_tag": secrecy.owner_tag(ballot.id, voter.id)}


def _new_paper(ballot: Ballot, voter: Delegate, choices: list, source: str,
               secret: str | None, secret_hash: str | None) -> dict[str, Any]:
    """A new paper's row, holding only what the ballot may keep (see secrecy.py for a secret
    one). Its id is drawn here: the row goes in with `insert_later`, no id to read back."""
    org = voter.organisation
    if not ballot.secret:
        return {"id": new_vote_id(), "ballot_id": ballot.id, "delegate_id": voter.id,
                "region": org.region, "org_type": org.type, "organisation_id": org.id,
                "receipt": receipt_for(secrets.token_hex(16)), "source": source,
                "choices": choices}
    return {
        "id": new_vote_id(),
        "ballot_id": ballot.id,
        "region": org.region if ballot.weighting == "region" else None,
        "org_key": secrecy.org_key(ballot.id, org.id) if ballot.weighting == "organisation"
        else None,
        **_secret_key(ballot, voter, secret or "", secret_hash or ""),
        **_secret_tags(ballot, voter, source),
        "choices": choices,
    }


@dataclass(frozen=True)
class _Stored:
    """What `_store` did: the paper's receipt, how the voter's earlier paper had come in (if
    they had one), and whether it was a paper whose secret was lost that was replaced."""

    receipt: str
    before: _Before | None
    replaced_lost: bool = False


def _store(ballot: Ballot, voter: Delegate, choices: list, source: str, cast_by: Actor,
           secret: str | None, replace_lost: bool = False) -> _Stored:
    """Insert, change or replace the voter's ballot paper, and write their participation.

    The voter's first paper and participation (nearly every cast) go in with `insert_later`;
    a paper changed or replaced is changed through the ORM. A secret paper is also added to
    (and the old one taken off) its region's running totals.

    :raise Conflict: see `_check_owner` and `_find_secret_paper`.
    """
    participation = _participation(ballot, voter)
    _check_owner(participation, voter, source)
    before = None if participation is None else _Before(participation.source,
                                                       participation.cast_by_id)
    region = voter.organisation.region
    secret_hash = _hash_of(ballot, voter, secret) if ballot.secret else None
    if ballot.secret:
        vote, replace = _find_secret_paper(ballot, voter, participation, secret_hash,
                                           replace_lost)
    else:
        replace = False
        # Participation and vote are written together: no participation, no vote to find.
        vote = None if participation is None else held_row(
            "paper", ("voter", ballot.id, voter.id), lambda: sa.select(Vote).where(
                Vote.ballot_id == ballot.id, Vote.delegate_id == voter.id))
    participation, vote = _read_back(ballot, voter, participation, vote)
    cast = {"source": source, "cast_by_kind": getattr(cast_by, "kind", "system"),
            "cast_by_id": cast_by.id}
    if participation is None:
        held("participation")[(ballot.id, voter.id)] = insert_later(
            Participation.__table__, {"ballot_id": ballot.id, "delegate_id": voter.id, **cast})
    else:
        for name, value in cast.items():
            setattr(participation, name, value)
    papers = held("paper")
    if vote is None:
        paper = _new_paper(ballot, voter, choices, source, secret, secret_hash)
        papers[_paper_key(ballot, voter, paper.get("secret_hash"))] = insert_later(
            Vote.__table__, paper)
        receipt = paper["receipt"]
    else:
        if ballot.secret:
            results_module.add_to_region(ballot, region, vote.choices, -1)
            if replace:  # a proxy's paper taken over, or a lost secret's: the sender's secret
                papers.pop(_paper_key(ballot, voter, vote.secret_hash), None)  # by its new one
                for name, value in _secret_key(ballot, voter, secret or "",
                                               secret_hash or "").items():
                    setattr(vote, name, value)
                papers[_paper_key(ballot, voter, vote.secret_hash)] = vote
            for name, value in _secret_tags(ballot, voter, source).items():
                setattr(vote, name, value)
        else:
            vote.source = source
        vote.choices = choices
        receipt = vote.receipt
    if ballot.secret:
        results_module.add_to_region(ballot, region, choices)
    _tell_pages(ballot, voter, cast_by)
    # A paper replaced that no proxy had cast: its voter's own, whose secret was lost.
    lost = replace and before is not None and before.source != "proxy"
    return _Stored(receipt, before, lost)


def _tell_pages(ballot: Ballot, voter: Delegate, cast_by: Actor) -> None:
    """The voter's other open pages (another phone; any, when a proxy or a facilitator cast
    for them): a blank paper drawn for everyone no longer fits them (see voting/steps.py).
    Nothing is sent for the usual cast, from the voter's only page over its socket (that page
    marks itself at its receipt): a thousand casts make no thousand more broadcasts."""
    own = getattr(cast_by, "kind", None) == "delegate" and cast_by.id == voter.id
    sender = 1 if own and db.session.info.get(_FROM_SOCKET) else 0
    if voter.connections > sender:
        queue(db.session, "marks", {voted_mark(ballot.id): True}, delegate_room(voter.id))


def _check_may_cast(actor: Actor, workshop: Workshop) -> None:
    """:raise PermissionDenied: the actor may not vote in this workshop (a delegate off the
    voting register is told why)."""
    if is_delegate_of(actor, workshop) and not votes_in(actor, workshop):
        raise PermissionDenied(_l("You are not on the voting register yet: ask a facilitator "
                                  "to check you in."))
    require("ballot.cast", actor, workshop)


def _cast_once(actor: Actor, workshop: Workshop, data: CastIn) -> CastResult:
    _check_may_cast(actor, workshop)  # again, as the batch reads them (see cast_vote)
    workshop_id = workshop.id
    ballot = _ballot_for_cast(workshop_id, data.ballot_id)
    voter, source = _voter_for(actor, workshop_id, data.on_behalf_of)
    _check_open(ballot)
    choices = check_choices(ballot, data.choices)
    stored = _store(ballot, voter, choices, source, actor, data.secret,
                    data.replace_lost and source != "proxy")
    before = stored.before
    if source == "proxy":
        record(actor, "ballot.cast", workshop_id, ballot_id=ballot.id, proxy=True,
               holder_id=actor.id, holder=actor.display_name, absent_id=voter.id,
               absent=voter.name, changed=before is not None,
               replaced_holder_id=before.cast_by_id
               if before is not None and before.cast_by_id != actor.id else None)
    elif before is not None and before.source == "proxy":
        # The delegate takes their paper back from the proxy holder: theirs replaces it.
        record(actor, "ballot.cast", workshop_id, ballot_id=ballot.id, took_back=True,
               holder_id=before.cast_by_id, delegate_id=voter.id, delegate=voter.name)
    elif stored.replaced_lost:
        # Who replaced a paper whose secret they lost; never what either paper said.
        record(actor, "ballot.cast", workshop_id, ballot_id=ballot.id, replaced_lost=True,
               delegate_id=voter.id, delegate=voter.name)
    return CastResult(ballot.id, stored.receipt, before is not None)


def cast_vote(actor: Actor, workshop: Workshop, data: CastIn) -> CastResult:
    """Store a delegate's ballot paper (or the absent delegate's they carry); answer once it
    is committed.

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
    _check_may_cast(actor, workshop)  # what can be refused without waiting for a batch
    return _submit(_cast_once, type(actor), actor.id, workshop.id, data)


def cast_sent_vote(sender: Sender | None, workshop_id: int, data: CastIn) -> CastResult:
    """`cast_vote` for a socket event, which has read nothing: who sent it, as the socket
    recorded them, is checked where the paper is written (their login still open, their
    right to vote), so a vote costs the sender no query of their own.

    :raise NotLoggedIn: the sender's login has ended (or they were removed).
    :raise PermissionDenied, NotFound, Conflict, ValidationFailed: as `cast_vote`.
    """
    if sender is None or not could_vote(sender.kind):  # refused before any batch
        raise PermissionDenied(_l("You are not allowed to do this."))
    return _submit(_cast_once, Delegate, sender.id, workshop_id, data, sender.login_session_id)


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
    require("ballot.paper", actor, workshop)  # what can be refused without waiting
    return _submit(_paper_once, type(actor), actor.id, workshop.id, data)


def _paper_once(actor: Actor, workshop: Workshop, data: PaperIn) -> CastResult:
    require("ballot.paper", actor, workshop)  # again, as the batch reads them
    workshop_id = workshop.id
    ballot = _ballot_for_cast(workshop_id, data.ballot_id)
    delegate = db.session.get(Delegate, data.delegate_id)
    if delegate is None or delegate.workshop_id != workshop_id:
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
    stored = _store(ballot, delegate, choices, "paper", actor, secret)
    before = stored.before
    record(actor, "ballot.paper", workshop_id, ballot_id=ballot.id, delegate_id=delegate.id,
           delegate=delegate.name, changed=before is not None,
           took_back=before is not None and before.source == "proxy")
    return CastResult(ballot.id, stored.receipt, before is not None)
