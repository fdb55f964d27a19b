"""The live state of a workshop, as every screen receives it (on connect and after changes)."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workshop.agenda.models import Delegate, Organisation, Step, Workshop
from workshop.agenda.pushed import digest, step_key, with_step_part
from workshop.db import utcnow
from workshop.kept import bump_version, kept
from workshop.live import Fanout, queue, staff_room, workshop_room
from workshop.steps import is_shared

#: A step's timer as it is stored: (ends at, seconds left when paused, duration in seconds).
TimerFields = tuple[Any, int | None, int | None]


def _timer_fields(step: Step) -> TimerFields:
    return (step.timer_ends_at, step.timer_remaining, step.duration_seconds)


def _timer(fields: TimerFields | None) -> dict[str, Any]:
    """Timer as idle / running / paused with the milliseconds left, counted now.

    Clients count down from `remaining_ms` on their own clock, so a phone whose clock is
    wrong still shows the right time.
    """
    if fields is None:
        return {"status": "none", "remaining_ms": None, "duration_s": None}
    ends_at, remaining, duration = fields
    if ends_at is not None:
        left = (ends_at - utcnow()).total_seconds()
        return {"status": "running", "remaining_ms": max(0, int(left * 1000)),
                "duration_s": duration}
    if remaining is not None:
        return {"status": "paused", "remaining_ms": remaining * 1000, "duration_s": duration}
    if duration:
        return {"status": "idle", "remaining_ms": duration * 1000, "duration_s": duration}
    return {"status": "none", "remaining_ms": None, "duration_s": None}


def joined_by_region(session: Session, workshop_id: int) -> dict[str, int]:
    """How many delegates have joined, per region of their organisation."""
    stmt = (
        sa.select(Organisation.region, sa.func.count(Delegate.id))
        .join(Organisation, Delegate.organisation_id == Organisation.id)
        .where(Delegate.workshop_id == workshop_id, Delegate.joined_at.is_not(None))
        .group_by(Organisation.region)
    )
    return {region: count for region, count in session.execute(stmt)}


def joined_now(session: Session, workshop: Workshop) -> dict[str, int]:
    """`joined_by_region`, counted once per joined version in this process (every phone's
    state asks for it); a copy, so no caller can change the kept one."""
    key = (workshop.id, workshop.joined_version)  # the version first (see workshop/kept.py)
    return dict(kept("joined").get(key, lambda: joined_by_region(session, workshop.id)))


@sa.event.listens_for(Session, "after_flush")
def _bump_joined_version(session: Session, _context) -> None:
    """Bump the joined version of every workshop where this flush changed who has joined or
    from where (a delegate's organisation; an organisation's region: every workshop)."""
    workshops: set[int] = set()
    everywhere = False
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, Delegate):
            state = sa.inspect(row)
            if (row in session.new or row in session.deleted
                    or state.attrs.joined_at.history.has_changes()
                    or state.attrs.organisation_id.history.has_changes()):
                workshops.add(row.workshop_id)
        elif isinstance(row, Organisation) and row not in session.new:
            everywhere = everywhere or sa.inspect(row).attrs.region.history.has_changes()
    if everywhere:
        bump_version(session, Workshop, "joined_version", sa.true())
    elif workshops:
        bump_version(session, Workshop, "joined_version", Workshop.__table__.c.id.in_(workshops))


@dataclass(frozen=True)
class _Agenda:
    """What a state says of the steps: the current step, the agenda's fingerprint and the
    current step's timer as stored (its time left is counted when a state is made)."""

    step: dict[str, Any] | None
    agenda: str
    timer: TimerFields | None


def _agenda(workshop: Workshop) -> _Agenda:
    steps = workshop.steps  # loaded first: the current step is then found among them
    step = workshop.current_step
    return _Agenda(
        step=None if step is None else {
            "id": step.id,
            "position": step.position,
            "kind": step.kind,
            "title": step.title,
            "count": len(steps),
            # Phones and projector reload the step's part of the page when this changes.
            "key": step_key(workshop, step),
        },
        # The console reloads its agenda when steps are added, removed, renamed or moved.
        agenda=digest(*(f"{s.id}/{s.position}/{s.kind}/{s.title}" for s in steps)),
        timer=None if step is None else _timer_fields(step))


def snapshot(session: Session, workshop: Workshop, writing: bool = False) -> dict[str, Any]:
    """Everything a phone or projector needs to draw the current step.

    A reader (a socket's `state.sync` or connection, a page) takes the steps' part kept per
    state version, which a flush hook bumps with any change of a step or of what the workshop
    says of its steps, and the joined counts kept per joined version. A transaction that has
    `writing` (an announcement) draws both from its own rows and keeps nothing: what it would
    keep could still roll back, and another change then reach the same version.
    """
    if writing:
        agenda, by_region = _agenda(workshop), joined_by_region(session, workshop.id)
    else:  # the version first (see workshop/kept.py)
        agenda = kept("agendas", size=64).get((workshop.id, workshop.state_version),
                                              lambda: _agenda(workshop))
        by_region = joined_now(session, workshop)
    return {
        "workshop_id": workshop.id,
        "version": workshop.state_version,
        "step": None if agenda.step is None else dict(agenda.step),
        "timer": _timer(agenda.timer),
        "agenda": agenda.agenda,
        "joined": {"total": sum(by_region.values()), "by_region": by_region},
        # What the projector shows in full, e.g. {"kind": "proposal", "id": 3}: it redraws.
        "spotlight": workshop.spotlight,
    }


#: Columns of a workshop that a state's steps' part shows (through the current step's key).
AGENDA_COLUMNS = ("current_step_id", "proposals_locked", "step_revision")
#: Columns of a step that its key shows: a change of one makes a new part of the phones' page.
STEP_KEY_COLUMNS = ("kind", "title", "body")
#: Where a transaction notes the workshops whose current step's key it may have changed.
REKEYED = "state.rekeyed"


@sa.event.listens_for(Session, "after_flush")
def _bump_state_version(session: Session, _context) -> None:
    """Bump the state version of every workshop whose steps, or whose current step, this
    flush changed, however the change was made (announced or not): a reader's kept steps'
    part (see `snapshot`) is then out of date. Note the workshops whose current step's key
    may have changed (a timer or a step's place do not change it): their announcement
    carries the step's part for the phones."""
    workshops: set[int] = set()
    rekeyed: set[int] = set()
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, Step):
            workshops.add(row.workshop_id)
            state = sa.inspect(row)
            if row in session.deleted or any(state.attrs[name].history.has_changes()
                                             for name in STEP_KEY_COLUMNS):
                rekeyed.add(row.workshop_id)
        elif isinstance(row, Workshop) and row not in session.new:
            state = sa.inspect(row)
            if any(state.attrs[name].history.has_changes() for name in AGENDA_COLUMNS):
                workshops.add(row.id)
                rekeyed.add(row.id)
    if workshops:
        bump_version(session, Workshop, "state_version",
                     Workshop.__table__.c.id.in_(workshops))
    if rekeyed:
        session.info.setdefault(REKEYED, set()).update(rekeyed)


@sa.event.listens_for(Session, "after_commit")
def _rekeyed_sent(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint released: the transaction goes on
        session.info.pop(REKEYED, None)


@sa.event.listens_for(Session, "after_soft_rollback")
def _rekeyed_undone(session: Session, previous_transaction: Any) -> None:
    if not previous_transaction.nested:
        session.info.pop(REKEYED, None)


def announce(session: Session, workshop: Workshop) -> None:
    """Bump the state version and queue the new snapshot for every screen of the workshop.

    The version is incremented by the database (two facilitators' changes never share one).
    When this transaction changed the current step's key and the step is drawn alike for every
    phone, the phones get its part with the state (drawn after the commit, see pushed.py);
    otherwise the state goes out alone, small, as for a timer or a join.
    """
    session.flush()  # the flush hooks see this transaction's changes first
    bump_version(session, Workshop, "state_version", Workshop.__table__.c.id == workshop.id)
    state = snapshot(session, workshop, writing=True)
    step = state["step"]
    if (step is not None and is_shared(step["kind"])
            and workshop.id in session.info.get(REKEYED, ())):
        queue(session, "state", Fanout(functools.partial(
            with_step_part, workshop.id, state, time.monotonic())), workshop_room(workshop.id))
    else:
        queue(session, "state", state, workshop_room(workshop.id))


def delegate_payload(delegate: Delegate) -> dict[str, Any]:
    """A delegate as the console lists them."""
    org = delegate.organisation
    return {
        "id": delegate.id,
        "name": delegate.name,
        "organisation": org.name,
        "country": org.country,
        "region": org.region,
        "online": delegate.connections > 0,
        "admitted": delegate.admitted,
        "rejected": delegate.rejected_at is not None,
    }


def announce_delegate(session: Session, delegate: Delegate) -> None:
    """Tell the consoles that a delegate joined, came online or went offline."""
    session.flush()
    queue(session, "delegate", delegate_payload(delegate), staff_room(delegate.workshop_id))
