"""Operations on proposals and their discussion.

Every function takes the acting user or delegate first, checks the operation's rule, changes
the database, writes the audit entry, queues what every screen must be told (cards and
comments rendered per language by workshop.proposals.live, plain notices such as suggested
translations) and commits: the broadcasts go out after the commit, whoever called the service
(a form, a socket event, the JSON API), and never when it rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from workshop.agenda.models import Delegate, Organisation, Step, Workshop
from workshop.agenda.services import get_workshop_for
from workshop.agenda.state import announce
from workshop.audit.services import record
from workshop.auth.logins import Sender, hold_logins, person_in_batch
from workshop.db import utcnow
from workshop.errors import Conflict, NotFound, PermissionDenied, WorkshopError
from workshop.extensions import db, one_per_app
from workshop.group_commit import (
    GroupCommit,
    Queued,
    among,
    drop_later,
    end_callers_reads,
    flush_all,
    held,
    hold_by_ids,
    insert_later,
    number_new_rows,
)
from workshop.live import delegate_room, queue, staff_room
from workshop.permissions import Actor, can, could_take_part, is_delegate_of, require
from workshop.proposals import duplicates, live
from workshop.proposals.lines import Line
from workshop.proposals.listing import bump_content_version
from workshop.proposals.models import (
    Comment,
    Proposal,
    ProposalRevision,
    ProposalTranslation,
    Support,
    TranslationRevision,
    TranslationSuggestion,
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
    stmt = (sa.select(sa.func.count()).select_from(model).where(column == actor.id)
            .join(Proposal, model.proposal_id == Proposal.id)
            .where(Proposal.workshop_id == workshop.id))
    if db.session.scalar(stmt) >= cap:
        raise Conflict(message)


#: `_replayed`'s default: read the row stored under the key.
_READ = object()


def _replayed(model: Any, request_id: str | None, actor: Actor, found: Any = _READ) -> Any:
    """What an earlier send of the same action stored, if any: a retry stores nothing more.

    A phone whose acknowledgement was lost sends again with the same key after reconnecting;
    it gets the first row back (marked `replayed`). A key is random per action, so a key
    someone else used is refused rather than answered.

    :raise Conflict: the key belongs to another person's action.
    """
    if request_id is None:
        return None
    row = (db.session.scalar(sa.select(model).where(model.request_id == request_id))
           if found is _READ else found)  # `found`: read already (None: nothing stored)
    if row is None:
        return None
    if getattr(actor, "kind", None) == "delegate":
        mine = row.delegate_id == actor.id
    else:  # staff write comments under their name, with no delegate
        mine = row.delegate_id is None and getattr(row, "author_name", None) == \
            actor.display_name
    if not mine:
        raise Conflict(_l("This request was already used."),
                       request_id=_l("Already used by another action."))
    row.replayed = True
    return row


def _writer_in_batch(operation: str, kind: str, person_id: int, login_session_id: int | None,
                     workshop_id: int) -> tuple[Actor, Workshop]:
    """Who writes in a batch and in which workshop, as the batch's prefetch holds them, and
    their right to `operation` there.

    :raise NotLoggedIn: the writer was removed, or the login ended.
    :raise NotFound: no such workshop.
    :raise PermissionDenied: the writer may not do this there.
    """
    actor = person_in_batch(kind, person_id, login_session_id)
    return actor, get_workshop_for(operation, actor, workshop_id)


def _delegate_sender(sender: Sender | None) -> Sender:
    """The sender of a delegate's write, refused before any batch when the socket cannot be
    a delegate's (a staff member's, a projector's): the rest is checked in the batch.

    :raise PermissionDenied: not a delegate's socket.
    """
    if sender is None or not could_take_part(sender.kind):
        raise PermissionDenied(_l("You are not allowed to do this."))
    return sender


number_new_rows(Proposal)  # lines added together (an import, a batch queuing them) get ids first


class _InBatch:
    """A delegate's or staff member's write run in a batch of a group commit: the writer and
    workshop read again there (as the batch's prefetch holds them), every rule checked in
    the transaction that writes; with a `login_session_id`, that login still open and
    theirs. No autoflush: what the batch wrote is held, and a refused write must flush
    nothing (the batch runs all at once, see `_writes`)."""

    def __call__(self) -> Any:
        with db.session.no_autoflush:
            return self._write()

    def _write(self) -> Any:
        raise NotImplementedError


def _submitted(group: GroupCommit, write: Callable[[], Any]) -> Any:
    """The outcome of a write submitted to a group commit; the caller's reads end (its
    transaction committed) before it waits."""
    end_callers_reads()
    return group.submit(write)


def submit_proposal(actor: Actor, workshop: Workshop, data: ProposalIn) -> Proposal:
    """A delegate puts forward a line of work; their organisation, country and region go with it.

    The same `request_id` again returns the first proposal, stored once (`replayed`). Lines
    sent together share one transaction (`lines`), each checked on its own there.

    :raise PermissionDenied: not a delegate of this workshop.
    :raise Conflict: not a propose step, or submissions are locked.
    """
    require("proposal.create", actor, workshop)  # what can be refused without waiting
    made = _submit_line(_Line(actor.id, workshop.id, data))
    proposal = db.session.get(Proposal, made.proposal_id)  # in the caller's session
    proposal.replayed = made.replayed
    return proposal


def send_proposal(sender: Sender | None, workshop_id: int, data: ProposalIn) -> Created:
    """`submit_proposal` for a socket event, which has read nothing: who sent it is checked
    in the batch that writes the line (login still open, right to take part), as
    `send_support`.

    :raise NotLoggedIn: the sender's login has ended (or they were removed).
    :raise PermissionDenied, Conflict: as `submit_proposal`.
    """
    sender = _delegate_sender(sender)
    return _submit_line(_Line(sender.id, workshop_id, data, sender.login_session_id))


def lines() -> GroupCommit:
    """The group commit of new lines of work (`_writes`): each is audited just before the
    commit, when its id is known, and its card announced once a batch per workshop."""
    return _writes("workshop.lines", _announce_new_lines, _prefetch_lines)


@dataclass(frozen=True)
class Created:
    """What a line's author is told once it is stored."""

    proposal_id: int
    replayed: bool


def _submit_line(write: _Line) -> Created:
    return _answered(lines(), write)


def _answered(group: GroupCommit, write: Callable[[], Any]) -> Any:
    """`_submitted` for a write whose batch answers it just before the commit (its row
    numbered by the flush): that answer."""
    answer = _submitted(group, write).answer
    assert answer is not None  # noqa: S101  (set before every commit of the batch)
    return answer


@dataclass
class _NewLine:
    """A line a batch wrote (or found written before, `replayed`), and who wrote it."""

    proposal: Proposal | Queued
    actor: Actor
    replayed: bool
    answer: Created | None = None  # once flushed (the line's id), before the commit


def _announce_new_lines(results: list[_NewLine]) -> None:
    """Before the batch commits (its lines flushed, so numbered): audit each new line; then
    each workshop's new cards, announced once (drawn in each language, see live.cards)."""
    results = [r for r in results if isinstance(r, _NewLine)]
    flush_all(db.session())  # the new lines' rows written: their ids known
    for r in results:
        r.answer = Created(r.proposal.id, r.replayed)
    written = [r for r in results if not r.replayed]
    cards: dict[int, list[int]] = {}
    for r in written:
        p = r.proposal
        record(r.actor, "proposal.create", p.workshop_id, proposal_id=p.id, title=p.title)
        cards.setdefault(p.workshop_id, []).append(p.id)
    if cards:  # written without the ORM, whose flush would have bumped it (listing.py)
        bump_content_version(db.session(), list(cards))
    for workshop_id, proposal_ids in cards.items():
        live.cards.announce(db.session, workshop_id, *proposal_ids)


@dataclass(frozen=True)
class _Line(_InBatch):
    """A line of work put forward (see `_InBatch`)."""

    delegate_id: int
    workshop_id: int
    data: ProposalIn
    login_session_id: int | None = None

    def _write(self) -> _NewLine:
        actor, workshop = _writer_in_batch("proposal.create", "delegate", self.delegate_id,
                                           self.login_session_id, self.workshop_id)
        data = self.data
        again = _replayed(Proposal, data.request_id, actor,
                          held("line request").get(data.request_id, _READ))
        if again is not None:
            return _NewLine(again, actor, True)  # stored once, its card sent then
        if _current_kind(workshop) not in SUBMIT_STEPS:
            raise Conflict(_l("Proposals can be put forward during a propose step."))
        if workshop.proposals_locked:
            raise Conflict(_l("The facilitator has closed submissions."))
        if _lines_held(workshop.id, actor.id) >= PROPOSALS_PER_DELEGATE:
            raise Conflict(_l("One delegate may put forward at most %(n)s lines of work.",
                              n=PROPOSALS_PER_DELEGATE))
        org = actor.organisation
        proposal = insert_later(Proposal.__table__, {
            "workshop_id": workshop.id,
            "title": data.title,
            "description": data.description,
            "theme": data.theme,
            "level": data.level,
            "tags": sorted(set(data.tags)),
            "language": data.language or actor.locale or workshop.default_locale,
            "source": "delegate",
            "delegate_id": actor.id,
            "organisation_id": org.id,
            "country": org.country,
            "region": org.region,
            "request_id": data.request_id,
        })
        if data.request_id is not None:
            held("line request")[data.request_id] = proposal
        held("line count")[(workshop.id, actor.id)] += 1
        return _NewLine(proposal, actor, False)


def _lines_held(workshop_id: int, delegate_id: int) -> int:
    """How many lines the delegate has put forward in the workshop (held for the batch)."""
    return _count_held("line count", _hold_line_counts, workshop_id, delegate_id)


def _hold_line_counts(keys: set[tuple[int, int]]) -> None:
    _hold_counts("line count", keys, lambda delegate_ids: sa.select(
        Proposal.workshop_id, Proposal.delegate_id, sa.func.count())
        .where(among(Proposal.delegate_id, delegate_ids))
        .group_by(Proposal.workshop_id, Proposal.delegate_id))


def _count_held(name: str, hold: Callable[[set[tuple[int, int]]], None], workshop_id: int,
                delegate_id: int) -> int:
    """A delegate's number of rows of a kind in a workshop, held for the batch under `name`
    (read by `hold` if not yet)."""
    counts = held(name)
    if (workshop_id, delegate_id) not in counts:
        hold({(workshop_id, delegate_id)})
    return counts[(workshop_id, delegate_id)]


def _hold_counts(name: str, keys: set[tuple[int, int]],
                 query: Callable[[set[int]], sa.Select]) -> None:
    """Hold under `name` each (workshop, delegate)'s number of rows, in one query: `query`
    selects (workshop id, delegate id, count) for these delegates."""
    counts = held(name)
    for key in keys:
        counts[key] = 0
    if keys:
        for workshop_id, delegate_id, n in db.session.execute(query({d for _, d in keys})):
            if (workshop_id, delegate_id) in counts:
                counts[(workshop_id, delegate_id)] = n


def _prefetch_lines(works: list[Callable[[], Any]]) -> None:
    """Read what a batch of new lines needs in a query per table, kept for the transaction:
    the writers, logins, workshops and steps (as `_hold_writers`), the writers'
    organisations, the lines already stored under the batch's request keys, and each
    delegate's number of lines."""
    batch = [work for work in works if isinstance(work, _Line)]
    _hold_writers(batch, {work.delegate_id for work in batch}, set())
    hold_by_ids("organisation", Organisation, {d.organisation_id for d in
                                               held("delegate").values()
                                               if d is not None and d.organisation_id})
    _hold_request_keys("line request", Proposal,
                       {work.data.request_id for work in batch if work.data.request_id})
    _hold_line_counts({(work.workshop_id, work.delegate_id) for work in batch})


def _hold_request_keys(name: str, model: Any, keys: set[str]) -> None:
    """The rows of `model` already stored under these request keys (None: none), held under
    `name` for the batch."""
    requests = held(name)
    for key in keys:
        requests[key] = None
    if keys:
        for row in db.session.scalars(sa.select(model).where(among(model.request_id, keys))):
            requests[row.request_id] = row


def set_support(actor: Actor, workshop: Workshop, proposal_id: int, on: bool) -> bool:
    """Give or withdraw a delegate's +1; giving twice counts once (the database says so).

    Returns whether the delegate supports the proposal afterwards.

    :raise PermissionDenied: not a delegate of this workshop.
    :raise NotFound: no such (visible) proposal.
    :raise Conflict: not a propose or discuss step.
    """
    require("proposal.support", actor, workshop)  # only delegates go on to the batch
    return _submit_support(_Support(actor.id, workshop.id, proposal_id, on)).on


def send_support(sender: Sender | None, workshop_id: int, proposal_id: int, on: bool) -> bool:
    """`set_support` for a socket event, which has read nothing: who sent it, as the socket
    recorded them, is checked in the batch that writes the +1 (their login still open, their
    right to give it), so a +1 costs the sender no query of their own.

    :raise NotLoggedIn: the sender's login has ended (or they were removed).
    :raise PermissionDenied, NotFound, Conflict: as `set_support`.
    """
    sender = _delegate_sender(sender)
    return _submit_support(_Support(sender.id, workshop_id, proposal_id, on,
                                    sender.login_session_id)).on


def _writes(name: str, before_commit: Callable[[list[Any]], Any],
            prepare: Callable[[list[Callable[[], Any]]], None]) -> GroupCommit:
    """The process's group commit of one kind of delegates' writes (+1s, comments, lines): a
    thousand phones writing at once share a few commits (an fsync each on SQLite) instead of
    making a thousand (workshop/group_commit.py). Each batch runs all at once (a refused write
    raises before it writes); a write that met its own copy (a unique key, raced in by
    another process) is tried once more in the batch run one by one, and finds it."""
    return one_per_app(name, lambda: GroupCommit(
        before_commit, retry_on=(IntegrityError,), refusals=(WorkshopError,), prepare=prepare))


def supports() -> GroupCommit:
    """The group commit of +1s (`_writes`)."""
    return _writes("workshop.supports", _announce_counts, _prefetch_supports)


@dataclass(frozen=True)
class _Supported:
    on: bool
    workshop_id: int
    line_id: int
    queued: bool = False  # a new row written without the ORM (`insert_later`)


def _announce_counts(results: list[_Supported]) -> None:
    """Before the batch commits: each workshop announces the counts of the lines it changed
    once (coalesced with the next half second's, see live.counts), not once per +1. The
    workshops given +1s written without the ORM have their lists' version bumped (the
    ORM's flush bumps it for the rest, workshop/proposals/listing.py)."""
    results = [r for r in results if isinstance(r, _Supported)]
    queued = {r.workshop_id for r in results if r.queued}
    if queued:
        bump_content_version(db.session(), list(queued))
    _announce_lines((r.workshop_id, r.line_id) for r in results)


def _announce_lines(changed: Iterable[tuple[int, int]]) -> None:
    """The counts of these (workshop, line) pairs, one announcement per workshop."""
    lines: dict[int, dict[int, None]] = {}
    for workshop_id, line_id in changed:
        lines.setdefault(workshop_id, {})[line_id] = None
    for workshop_id, line_ids in lines.items():
        live.counts.announce(db.session, workshop_id, *line_ids)


def _submit_support(write: _Support) -> _Supported:
    return _submitted(supports(), write)


@dataclass(frozen=True)
class _Support(_InBatch):
    """A +1 given or withdrawn (see `_InBatch`)."""

    person_id: int  # a delegate
    workshop_id: int
    proposal_id: int
    on: bool
    login_session_id: int | None = None

    def _write(self) -> _Supported:
        actor, workshop = _writer_in_batch("proposal.support", "delegate", self.person_id,
                                           self.login_session_id, self.workshop_id)
        proposal = _visible_to(actor, workshop, get_proposal(workshop, self.proposal_id))
        if _current_kind(workshop) not in DISCUSS_STEPS:
            raise Conflict(_l("Support can be given during the propose and discuss steps."))
        # A +1 on any proposal merged into this line already counts for the line. The
        # delegate's +1s are held for the batch and kept current by its writes, so the same
        # +1 twice in a batch is found; one raced in by another process fails the flush
        # (`supports` tries again, and the second attempt reads it).
        given = _supports_of(actor.id)
        existing = [given[i] for i in _members_held(workshop.id, proposal.id) if i in given]
        # Given and taken back in one batch (a double tap): a row still queued is dropped
        # from the queue; a stored row taken back is kept if its deletion is not written
        # yet, and given anew if it is (a savepoint's release, or another write's flush,
        # wrote it: the ORM refuses a deleted object back).
        taken_back = held("supports taken back")
        queued = False
        if self.on and not existing:
            row = taken_back.pop((actor.id, proposal.id), None)
            if row is not None and not sa.inspect(row).was_deleted:
                db.session.add(row)  # taken back in this batch: kept after all
            else:  # queued, not made an object (`insert_later`)
                row = insert_later(Support.__table__,
                                   {"proposal_id": proposal.id, "delegate_id": actor.id})
                queued = True
            given[proposal.id] = row
        elif not self.on:
            for support in existing:
                del given[support.proposal_id]
                if isinstance(support, Queued):  # given in this batch
                    if drop_later(Support.__table__, support.row):
                        continue  # never written
                    support = db.session.scalars(sa.select(Support).where(  # written: read
                        Support.proposal_id == support.proposal_id,
                        Support.delegate_id == actor.id)).one()
                taken_back[(actor.id, support.proposal_id)] = support
                db.session.delete(support)
        return _Supported(self.on, workshop.id, line_id(proposal), queued)


def _supports_of(delegate_id: int) -> dict[int, Support]:
    """The delegate's +1s by proposal id, held for the batch (read if the prefetch did not)."""
    held_supports = held("supports")
    if delegate_id not in held_supports:
        _hold_supports({delegate_id})
    return held_supports[delegate_id]


def _hold_supports(delegate_ids: set[int]) -> None:
    held_supports = held("supports")
    for delegate_id in delegate_ids:
        held_supports[delegate_id] = {}
    if delegate_ids:
        for support in db.session.scalars(sa.select(Support)
                                          .where(among(Support.delegate_id, delegate_ids))):
            held_supports[support.delegate_id][support.proposal_id] = support


def _members_held(workshop_id: int, proposal_id: int) -> list[int]:
    """`member_ids` from the workshop's merges, held for the batch (read if not yet)."""
    merged = held("merged")
    if workshop_id not in merged:
        _hold_merges({workshop_id})
    children = merged[workshop_id]
    found, frontier = [proposal_id], [proposal_id]
    while frontier:
        frontier = [child for parent in frontier for child in children.get(parent, ())
                    if child not in found]
        found.extend(frontier)
    return found


def _hold_merges(workshop_ids: set[int]) -> None:
    """Which proposals were merged into which, in these workshops: one query."""
    merged = held("merged")
    for workshop_id in workshop_ids:
        merged[workshop_id] = {}
    if workshop_ids:
        for workshop_id, child, parent in db.session.execute(
                sa.select(Proposal.workshop_id, Proposal.id, Proposal.merged_into_id).where(
                    Proposal.workshop_id.in_(workshop_ids),
                    Proposal.merged_into_id.is_not(None))):
            merged[workshop_id].setdefault(parent, []).append(child)


def _prefetch_supports(works: list[Callable[[], Any]]) -> None:
    """Read what a batch of +1s needs in a query per table, kept for the transaction
    (`held`): what every writer's batch reads (`_hold_writers`), the delegates' +1s and the
    workshops' merges."""
    batch = [work for work in works if isinstance(work, _Support)]
    _hold_writers(batch, {work.person_id for work in batch},
                  {work.proposal_id for work in batch})
    _hold_supports({work.person_id for work in batch})
    _hold_merges({work.workshop_id for work in batch})


def member_ids(proposal: Proposal) -> list[int]:
    """The proposal and every proposal merged into it, recursively."""
    found, frontier = [proposal.id], [proposal.id]
    while frontier:
        frontier = list(db.session.scalars(
            sa.select(Proposal.id).where(Proposal.merged_into_id.in_(frontier))))
        found.extend(frontier)
    return found


def add_comment(actor: Actor, workshop: Workshop, proposal_id: int, body: str,
                parent_id: int | None = None, request_id: str | None = None) -> Comment:
    """Comment on a proposal, or reply to a comment of the same proposal.

    The same `request_id` again returns the first comment, stored once (`replayed`).

    :raise PermissionDenied: not a delegate of this workshop (nor its staff).
    :raise NotFound: no such proposal, or the parent is not a comment of it.
    :raise Conflict: not a propose or discuss step.
    """
    require("proposal.comment", actor, workshop)  # what can be refused without waiting
    written = _submit_comment(_Comment(actor.kind, actor.id, workshop.id, proposal_id, body,
                                       parent_id, request_id))
    comment = db.session.get(Comment, written.comment_id)  # in the caller's session
    comment.replayed = written.replayed
    return comment


def send_comment(sender: Sender | None, workshop_id: int, data: Any) -> Commented:
    """`add_comment` for a socket event, which has read nothing: who sent it, as the socket
    recorded them, is checked in the batch that writes the comment (login still open, right
    to comment), as `send_support`.

    :raise NotLoggedIn: the sender's login has ended (or they were removed).
    :raise PermissionDenied, NotFound, Conflict: as `add_comment`.
    """
    if sender is None:  # a projector's socket: refused before any batch
        raise PermissionDenied(_l("You are not allowed to do this."))
    return _submit_comment(_Comment(sender.kind, sender.id, workshop_id, data.proposal_id,
                                    data.body, data.parent_id, data.request_id,
                                    sender.login_session_id))


def comments() -> GroupCommit:
    """The group commit of comments (`_writes`): each is audited and drawn for the screens
    following its line just before the commit, when its id is known; a line's counts are
    announced once a batch."""
    return _writes("workshop.comments", _announce_comments, _prefetch_comments)


@dataclass(frozen=True)
class Commented:
    """What a comment's writer is told once it is stored."""

    comment_id: int
    replayed: bool


def _submit_comment(write: _Comment) -> Commented:
    return _answered(comments(), write)


@dataclass
class _Written:
    """A comment a batch wrote (or found written before, `replayed`), and who wrote it."""

    comment: Comment
    actor: Actor
    workshop: Workshop
    line_id: int
    replayed: bool
    answer: Commented | None = None  # once flushed (the comment's id), before the commit


def _announce_comments(results: list[_Written]) -> None:
    """Before the batch commits (its comments flushed, so numbered): audit each new comment
    and queue it, drawn in each language, for the screens following its line; then each
    line's counts once."""
    results = [r for r in results if isinstance(r, _Written)]
    db.session.flush()
    for r in results:
        r.answer = Commented(r.comment.id, r.replayed)
    written = [r for r in results if not r.replayed]
    for r in written:
        record(r.actor, "proposal.comment", r.workshop.id, proposal_id=r.comment.proposal_id,
               comment_id=r.comment.id)
        live.queue_comment(r.workshop, r.line_id, r.comment)
    _announce_lines((r.workshop.id, r.line_id) for r in written)


@dataclass(frozen=True)
class _Comment(_InBatch):
    """A comment written, by a delegate or staff (see `_InBatch`)."""

    kind: str  # "delegate" or "user"
    person_id: int
    workshop_id: int
    proposal_id: int
    body: str
    parent_id: int | None = None
    request_id: str | None = None
    login_session_id: int | None = None

    def _write(self) -> _Written:
        actor, workshop = _writer_in_batch("proposal.comment", self.kind, self.person_id,
                                           self.login_session_id, self.workshop_id)
        again = _replayed_in_batch(self.request_id, actor)
        if again is not None:
            return _Written(again, actor, workshop, again.proposal_id, True)  # not sent again
        proposal = _visible_to(actor, workshop, get_proposal(workshop, self.proposal_id))
        _while_discussing(actor, workshop,
                          _l("Comments can be written during the propose and discuss steps."))
        delegate = actor.kind == "delegate"
        if delegate and _comments_held(workshop.id, actor.id) >= COMMENTS_PER_DELEGATE:
            raise Conflict(_l("One delegate may write at most %(n)s comments.",
                              n=COMMENTS_PER_DELEGATE))
        if self.parent_id is not None:
            parent = db.session.get(Comment, self.parent_id)
            if parent is None or parent.proposal_id != proposal.id:
                raise NotFound(_l("This comment does not exist."),
                               parent_id=_l("Unknown comment."))
        comment = Comment(
            proposal_id=proposal.id,
            parent_id=self.parent_id,
            delegate_id=actor.id if delegate else None,
            author_name=actor.display_name,
            body=self.body,
            language=getattr(actor, "locale", None) or workshop.default_locale,
            request_id=self.request_id,
        )
        db.session.add(comment)
        if self.request_id is not None:
            held("comment request")[self.request_id] = comment
        if delegate:
            held("comment count")[(workshop.id, actor.id)] += 1
        return _Written(comment, actor, workshop, line_id(proposal), False)


def _replayed_in_batch(request_id: str | None, actor: Actor) -> Comment | None:
    """`_replayed` for a comment in a batch: the keys held (the prefetch's, and the batch's
    own comments), else read."""
    if request_id is None:
        return None
    return _replayed(Comment, request_id, actor, held("comment request").get(request_id, _READ))


def _comments_held(workshop_id: int, delegate_id: int) -> int:
    """How many comments the delegate has written in the workshop (held for the batch)."""
    return _count_held("comment count", _hold_comment_counts, workshop_id, delegate_id)


def _hold_comment_counts(keys: set[tuple[int, int]]) -> None:
    _hold_counts("comment count", keys, lambda delegate_ids: sa.select(
        Proposal.workshop_id, Comment.delegate_id, sa.func.count())
        .join(Proposal, Comment.proposal_id == Proposal.id)
        .where(among(Comment.delegate_id, delegate_ids))
        .group_by(Proposal.workshop_id, Comment.delegate_id))


def _prefetch_comments(works: list[Callable[[], Any]]) -> None:
    """Read what a batch of comments needs in a query per table, kept for the transaction:
    as `_prefetch_supports` (writers, logins, workshops, steps, proposals), the comments
    already stored under the batch's request keys, and each delegate's number of comments."""
    batch = [work for work in works if isinstance(work, _Comment)]
    _hold_writers(batch, {work.person_id for work in batch if work.kind == "delegate"},
                  {work.proposal_id for work in batch})
    _hold_request_keys("comment request", Comment,
                       {work.request_id for work in batch if work.request_id is not None})
    _hold_comment_counts({(work.workshop_id, work.person_id) for work in batch
                          if work.kind == "delegate"})


def _hold_writers(batch: list[_Support] | list[_Comment] | list[_Line], delegate_ids: set[int],
                  proposal_ids: set[int]) -> None:
    """What every batch of delegates' writes reads first, in one query per table: the
    delegates who write, the logins, the workshops, their current steps and the proposals
    written to (the session finds these by id without a query while they are held)."""
    hold_by_ids("delegate", Delegate, delegate_ids)
    hold_logins({w.login_session_id for w in batch if w.login_session_id is not None})
    hold_by_ids("workshop", Workshop, {w.workshop_id for w in batch})
    step_ids = {w.current_step_id for w in held("workshop").values() if w is not None}
    hold_by_ids("step", Step, {i for i in step_ids if i is not None})
    hold_by_ids("proposal", Proposal, proposal_ids)


def _while_discussing(actor: Actor, workshop: Workshop, message: Any) -> None:
    """Delegates write (comments, translations, suggestions) during propose and discuss
    steps only; staff at any step.

    :raise Conflict: a delegate, at another step.
    """
    if is_delegate_of(actor, workshop) and _current_kind(workshop) not in DISCUSS_STEPS:
        raise Conflict(message)


def _other_language(proposal: Proposal, language: str) -> None:
    """:raise Conflict: `language` is the proposal's own (its original text is edited, not
    translated)."""
    if language == proposal.language:
        raise Conflict(_l("This is the proposal's original language."),
                       language=_l("Choose another language."))


def _apply_translation(proposal: Proposal, language: str, title: str, description: str,
                       translated_by: str, accepted_by: str = "") -> ProposalTranslation:
    """Make this the version readers of `language` see, and keep it in the history."""
    translation = db.session.scalar(sa.select(ProposalTranslation).where(
        ProposalTranslation.proposal_id == proposal.id,
        ProposalTranslation.language == language))
    if translation is None:
        translation = ProposalTranslation(proposal=proposal, language=language)
        db.session.add(translation)
    translation.title = title
    translation.description = description
    translation.translated_by = translated_by
    translation.accepted_by = accepted_by
    translation.created_at = utcnow()
    db.session.add(TranslationRevision(
        proposal_id=proposal.id, language=language, title=title, description=description,
        translated_by=translated_by, accepted_by=accepted_by))
    return translation


def translate_proposal(actor: Actor, workshop: Workshop, proposal_id: int,
                       data: TranslationIn) -> ProposalTranslation:
    """The proposal's author, or staff, write its text in another language: readers of that
    language see it at once, and the version is kept in the translation history.

    Anyone else sends a suggestion instead (`suggest_translation`).

    :raise PermissionDenied: neither the proposal's author nor staff of this workshop.
    :raise NotFound: no such (visible) proposal.
    :raise Conflict: the language is the proposal's own, or the author writes outside the
        propose and discuss steps.
    """
    require("proposal.translate", actor, workshop)
    proposal = _visible_to(actor, workshop, get_proposal(workshop, proposal_id))
    require("proposal.translate", actor, workshop, proposal)
    _while_discussing(actor, workshop,
                      _l("Translations can be written during the propose and discuss steps."))
    _other_language(proposal, data.language)
    translation = _apply_translation(proposal, data.language, data.title, data.description,
                                     translated_by=actor.display_name)
    record(actor, "proposal.translate", workshop.id, proposal_id=proposal.id,
           language=data.language)
    live.queue_line(actor, workshop, line_id(proposal))
    db.session.commit()
    return translation


#: Suggested translations one delegate may send in one workshop (a new suggestion of the
#: same proposal and language replaces their waiting one, so this is a lot).
SUGGESTIONS_PER_DELEGATE = 200


def _suggestion_rooms(proposal: Proposal, *delegate_ids: int | None) -> list[str]:
    """Who hears about a suggestion: the proposal's author, the staff, and `delegate_ids`."""
    rooms = [staff_room(proposal.workshop_id)]
    for delegate_id in (proposal.delegate_id, *delegate_ids):
        if delegate_id is not None and delegate_room(delegate_id) not in rooms:
            rooms.append(delegate_room(delegate_id))
    return rooms


def suggest_translation(actor: Actor, workshop: Workshop, proposal_id: int,
                        data: TranslationIn) -> TranslationSuggestion:
    """A delegate suggests how someone else's proposal reads in another language.

    Nothing anyone reads changes: the suggestion waits for the proposal's author or a
    facilitator (`accept_suggestion`, `reject_suggestion`), who are told at once. A new
    suggestion by the same delegate for the same language replaces their waiting one.

    :raise PermissionDenied: not a delegate of this workshop who may take part, or the
        proposal's own author (who translates it directly).
    :raise NotFound: no such (visible) proposal.
    :raise Conflict: outside the propose and discuss steps (as for comments), the proposal's
        own language, or too many suggestions.
    """
    require("translation.suggest", actor, workshop)
    proposal = _visible_to(actor, workshop, get_proposal(workshop, proposal_id))
    require("translation.suggest", actor, workshop, proposal)
    _while_discussing(actor, workshop,
                      _l("Translations can be suggested during the propose and discuss steps."))
    _other_language(proposal, data.language)
    suggestion = db.session.scalar(sa.select(TranslationSuggestion).where(
        TranslationSuggestion.proposal_id == proposal.id,
        TranslationSuggestion.delegate_id == actor.id,
        TranslationSuggestion.language == data.language,
        TranslationSuggestion.status == "pending"))
    if suggestion is None:
        _within_cap(TranslationSuggestion, TranslationSuggestion.delegate_id, actor, workshop,
                    SUGGESTIONS_PER_DELEGATE,
                    _l("One delegate may suggest at most %(n)s translations.",
                       n=SUGGESTIONS_PER_DELEGATE))
        suggestion = TranslationSuggestion(proposal_id=proposal.id, delegate_id=actor.id,
                                           language=data.language)
        db.session.add(suggestion)
    suggestion.title = data.title
    suggestion.description = data.description
    suggestion.suggested_by = actor.display_name
    suggestion.created_at = utcnow()
    db.session.flush()
    record(actor, "translation.suggest", workshop.id, proposal_id=proposal.id,
           suggestion_id=suggestion.id, language=data.language)
    payload = {"line_id": line_id(proposal), "proposal_id": proposal.id,
               "suggestion_id": suggestion.id, "language": suggestion.language}
    for room in _suggestion_rooms(proposal):
        queue(db.session, "translation.suggested", payload, room)
    db.session.commit()
    return suggestion


def line_id(proposal: Proposal) -> int:
    """The id of the line of work a proposal is shown in (itself, or what it was merged
    into, recursively)."""
    seen = {proposal.id}
    while proposal.merged_into_id is not None and proposal.merged_into_id not in seen:
        proposal = db.session.get(Proposal, proposal.merged_into_id)
        seen.add(proposal.id)
    return proposal.id


def open_discussion(actor: Actor, workshop: Workshop, proposal_id: int) -> int:
    """The line whose discussion a screen follows live (its comments are sent to the screens
    that follow it): the line the proposal is shown in; a hidden line not for delegates.

    :raise PermissionDenied: the actor may not watch this workshop.
    :raise NotFound: no such proposal in this workshop, or its line is hidden from the actor.
    """
    require("discussion.open", actor, workshop)
    line = db.session.get(Proposal, line_id(get_proposal(workshop, proposal_id)))
    return _visible_to(actor, workshop, line).id


def get_suggestion(workshop: Workshop, suggestion_id: int) -> TranslationSuggestion:
    """A suggested translation of a proposal of this workshop.

    :raise NotFound: no such suggestion in this workshop.
    """
    suggestion = db.session.get(TranslationSuggestion, suggestion_id)
    if suggestion is None or suggestion.proposal.workshop_id != workshop.id:
        raise NotFound(_l("This suggested translation does not exist."),
                       suggestion_id=_l("Unknown suggestion."))
    return suggestion


def _decide(actor: Actor, workshop: Workshop, suggestion_id: int,
            operation: str) -> TranslationSuggestion:
    """Load a waiting suggestion the actor may decide on.

    :raise PermissionDenied / NotFound / Conflict: as `accept_suggestion` says.
    """
    require(operation, actor, workshop)
    suggestion = get_suggestion(workshop, suggestion_id)
    proposal = _visible_to(actor, workshop, suggestion.proposal)
    require(operation, actor, workshop, proposal)
    if suggestion.status != "pending":
        raise Conflict(_l("This suggestion was already accepted or rejected."),
                       suggestion_id=_l("Already decided."))
    return suggestion


def accept_suggestion(actor: Actor, workshop: Workshop,
                      suggestion_id: int) -> TranslationSuggestion:
    """The author or a facilitator accepts a suggested translation: readers of its language
    see it from now on, and the history names the translator and who accepted it.

    :raise PermissionDenied: neither the proposal's author nor staff of this workshop.
    :raise NotFound: no such suggestion (or proposal, hidden from a delegate).
    :raise Conflict: already decided; the author accepts outside the propose and discuss
        steps (staff may at any step).
    """
    suggestion = _decide(actor, workshop, suggestion_id, "translation.accept")
    _while_discussing(actor, workshop,
                      _l("Translations can be accepted during the propose and discuss steps."))
    proposal = suggestion.proposal
    _other_language(proposal, suggestion.language)
    _apply_translation(proposal, suggestion.language, suggestion.title, suggestion.description,
                       translated_by=suggestion.suggested_by, accepted_by=actor.display_name)
    suggestion.status = "accepted"
    suggestion.decided_by = actor.display_name
    suggestion.decided_at = utcnow()
    record(actor, "translation.accept", workshop.id, proposal_id=proposal.id,
           suggestion_id=suggestion.id, language=suggestion.language,
           translated_by=suggestion.suggested_by)
    _queue_decided(suggestion)
    live.queue_line(actor, workshop, line_id(proposal))
    db.session.commit()
    return suggestion


def reject_suggestion(actor: Actor, workshop: Workshop,
                      suggestion_id: int) -> TranslationSuggestion:
    """The author or a facilitator turns a suggested translation down; it is kept, marked.

    Allowed at any step: it changes nothing anyone reads.

    :raise PermissionDenied: neither the proposal's author nor staff of this workshop.
    :raise NotFound: no such suggestion (or proposal, hidden from a delegate).
    :raise Conflict: already decided.
    """
    suggestion = _decide(actor, workshop, suggestion_id, "translation.reject")
    suggestion.status = "rejected"
    suggestion.decided_by = actor.display_name
    suggestion.decided_at = utcnow()
    record(actor, "translation.reject", workshop.id, proposal_id=suggestion.proposal_id,
           suggestion_id=suggestion.id, language=suggestion.language)
    _queue_decided(suggestion)
    db.session.commit()
    return suggestion


def _queue_decided(suggestion: TranslationSuggestion) -> None:
    """Tell the author, the staff and the suggester that a suggestion was decided."""
    proposal = suggestion.proposal
    payload = {"line_id": line_id(proposal), "proposal_id": proposal.id,
               "suggestion_id": suggestion.id, "language": suggestion.language,
               "status": suggestion.status}
    for room in _suggestion_rooms(proposal, suggestion.delegate_id):
        queue(db.session, "translation.decided", payload, room)


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
    live.queue_line(actor, workshop, proposal.id)
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
    live.queue_line(actor, workshop, proposal.id)  # a hidden line is removed from screens
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
    live.queue_removed(workshop, ids)
    live.queue_line(actor, workshop, merged.id)
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
    live.queue_removed(workshop, [merged.id])
    for source in sources:
        live.queue_line(actor, workshop, source.id)
    db.session.commit()
    return sources


# --- Reading -------------------------------------------------------------------------------


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


def suggestions_for(actor: Actor, workshop: Workshop, line: Line) -> list[TranslationSuggestion]:
    """The waiting suggested translations of a line that the actor may see, oldest first:
    all of them for its author and staff (who decide), only their own for other delegates,
    none for anyone else (they change nothing anyone reads until accepted).
    """
    require("workshop.watch", actor, workshop)
    stmt = sa.select(TranslationSuggestion).where(
        TranslationSuggestion.proposal_id == line.proposal.id,
        TranslationSuggestion.status == "pending")
    if not can("translation.accept", actor, workshop, line.proposal):
        if not is_delegate_of(actor, workshop):
            return []
        stmt = stmt.where(TranslationSuggestion.delegate_id == actor.id)
    return list(db.session.scalars(stmt.order_by(TranslationSuggestion.id)))


def pending_suggestions(actor: Actor, workshop: Workshop) -> list[TranslationSuggestion]:
    """Every waiting suggested translation of the workshop, oldest first (for staff).

    :raise PermissionDenied: not staff of this workshop.
    """
    require("translation.list", actor, workshop)
    return list(db.session.scalars(
        sa.select(TranslationSuggestion).join(Proposal)
        .where(Proposal.workshop_id == workshop.id, TranslationSuggestion.status == "pending")
        .order_by(TranslationSuggestion.id)))


def translation_history(actor: Actor, workshop: Workshop,
                        proposal: Proposal) -> list[TranslationRevision]:
    """Every version a proposal's translations had, newest first: who translated, who
    accepted (for a suggestion), when. Anyone who may watch the workshop may read it."""
    require("workshop.watch", actor, workshop)
    return list(db.session.scalars(
        sa.select(TranslationRevision).where(TranslationRevision.proposal_id == proposal.id)
        .order_by(TranslationRevision.id.desc())))


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
