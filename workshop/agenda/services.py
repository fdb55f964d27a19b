"""Operations on workshops, their agenda and the step timer.

Each function takes the acting user first, checks the operation's permission, changes the
database, records the audit entry, queues the broadcast and commits.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from workshop.agenda.models import Step, Workshop
from workshop.agenda.schemas import StepIn, TimerExtend, TimerStart, WorkshopIn
from workshop.agenda.state import announce
from workshop.audit.services import record
from workshop.auth.models import User
from workshop.db import utcnow
from workshop.errors import Conflict, NotFound
from workshop.extensions import db
from workshop.group_commit import held
from workshop.live import queue, queue_screens_ended, workshop_room
from workshop.permissions import Actor, require

# No 0/O, 1/I/L: a code read off a projector must survive bad eyesight and bad fonts.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 6


def normalise_join_code(code: str) -> str:
    """Upper-case and drop spaces and dashes, so `ab2-c3d` finds `AB2C3D`."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def new_join_code() -> str:
    """A fresh join code not used by any workshop."""
    while True:
        code = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))
        if db.session.scalar(sa.select(Workshop.id).where(Workshop.join_code == code)) is None:
            return code


def get_workshop(workshop_id: int) -> Workshop:
    """Load a workshop.

    :raise NotFound: no such workshop.
    """
    # A batch's prefetch holds the workshops it read: found there without the identity
    # map's lookup (some 8 us, once for each of a batch's 200 casts or re-reads).
    workshop = held("workshop").get(workshop_id) or db.session.get(Workshop, workshop_id)
    if workshop is None:
        raise NotFound(_l("This workshop does not exist."))
    return workshop


def get_workshop_for(operation: str, actor: Actor, workshop_id: int) -> Workshop:
    """Load a workshop and check that the actor may perform `operation` on it.

    :raise NotFound: no such workshop.
    :raise PermissionDenied: the actor may not.
    """
    workshop = get_workshop(workshop_id)
    require(operation, actor, workshop)
    return workshop


def find_by_join_code(code: str) -> Workshop:
    """The workshop a delegate's typed or scanned code points to.

    :raise NotFound: no workshop has this code.
    """
    normalised = normalise_join_code(code)
    workshop = None
    if normalised:
        workshop = db.session.scalar(sa.select(Workshop).where(Workshop.join_code == normalised))
    if workshop is None:
        raise NotFound(_l("No workshop has this code. Check the code on the screen."),
                       code=_l("Unknown code."))
    return workshop


def list_workshops(actor: Actor) -> list[Workshop]:
    """Workshops the actor may open: all for organisers, assigned ones for facilitators.

    :raise PermissionDenied: the actor is not staff.
    """
    require("workshop.list", actor)
    stmt = sa.select(Workshop).order_by(Workshop.starts_on.desc(), Workshop.id.desc())
    if actor.role != "organiser":
        stmt = stmt.where(Workshop.facilitators.any(User.id == actor.id))
    return list(db.session.scalars(stmt))


def create_workshop(actor: Actor, data: WorkshopIn) -> Workshop:
    """Create a workshop with a fresh join code and projector key.

    :raise PermissionDenied: the actor is not an organiser.
    """
    require("workshop.create", actor)
    workshop = Workshop(
        title=data.title,
        kind=data.kind,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        default_locale=data.default_locale,
        place=data.place,
        plans_self_assign=data.plans_self_assign,
        plans_open_editing=data.plans_open_editing,
        voting_register=data.voting_register,
        open_participation=data.open_participation,
        join_code=new_join_code(),
        projector_key=new_projector_key(),
        created_by_id=actor.id,
    )
    db.session.add(workshop)
    db.session.flush()
    record(actor, "workshop.create", workshop.id, title=data.title)
    db.session.commit()
    return workshop


def update_workshop(actor: Actor, workshop: Workshop, data: WorkshopIn) -> Workshop:
    """Change a workshop's title, kind, dates or default language.

    :raise PermissionDenied: the actor is not an organiser.
    """
    require("workshop.update", actor, workshop)
    for field in ("title", "kind", "starts_on", "ends_on", "default_locale", "place",
                  "plans_self_assign", "plans_open_editing", "voting_register",
                  "open_participation"):
        setattr(workshop, field, getattr(data, field))
    record(actor, "workshop.update", workshop.id, title=data.title)
    announce(db.session, workshop)
    db.session.commit()
    return workshop


def new_projector_key() -> str:
    """A fresh projector key: random, URL-safe, unguessable."""
    return secrets.token_urlsafe(24)


def rotate_projector_key(actor: Actor, workshop: Workshop) -> Workshop:
    """Give the workshop a new projector key: the old projector address stops working, and
    the screens opened with it are disconnected once the change commits.

    :raise PermissionDenied: the actor may not (projector.rotate_key).
    """
    require("projector.rotate_key", actor, workshop)
    workshop.projector_key = new_projector_key()
    # The audit log says that it happened, never the key itself.
    record(actor, "projector.rotate_key", workshop.id)
    queue_screens_ended(db.session, workshop.id)
    db.session.commit()
    return workshop


def _step_of(workshop: Workshop, step_id: int) -> Step:
    for step in workshop.steps:
        if step.id == step_id:
            return step
    raise NotFound(_l("This step is not on the workshop's agenda."), step_id=_l("Unknown step."))


def add_step(actor: Actor, workshop: Workshop, data: StepIn) -> Step:
    """Append a step to the agenda.

    :raise PermissionDenied: the actor may not edit the agenda.
    """
    require("agenda.edit", actor, workshop)
    position = max((s.position for s in workshop.steps), default=0) + 1
    step = Step(
        workshop=workshop,
        position=position,
        kind=data.kind,
        title=data.title,
        body=data.body,
        duration_seconds=data.duration_minutes * 60 if data.duration_minutes else None,
    )
    db.session.add(step)
    db.session.flush()
    record(actor, "agenda.edit", workshop.id, action="add", step_id=step.id, title=step.title)
    announce(db.session, workshop)
    db.session.commit()
    return step


def update_step(actor: Actor, workshop: Workshop, step_id: int, data: StepIn) -> Step:
    """Edit a step's kind, title, text or duration.

    :raise PermissionDenied: the actor may not edit the agenda.
    :raise NotFound: the step is not on this agenda.
    """
    require("agenda.edit", actor, workshop)
    step = _step_of(workshop, step_id)
    step.kind = data.kind
    step.title = data.title
    step.body = data.body
    step.duration_seconds = data.duration_minutes * 60 if data.duration_minutes else None
    record(actor, "agenda.edit", workshop.id, action="update", step_id=step.id, title=step.title)
    announce(db.session, workshop)
    db.session.commit()
    return step


def delete_step(actor: Actor, workshop: Workshop, step_id: int) -> None:
    """Remove a step; if it was the current one, the workshop has no current step.

    :raise PermissionDenied: the actor may not edit the agenda.
    :raise NotFound: the step is not on this agenda.
    """
    require("agenda.edit", actor, workshop)
    step = _step_of(workshop, step_id)
    if workshop.current_step_id == step.id:
        workshop.current_step = None
    workshop.steps.remove(step)
    for position, other in enumerate(workshop.steps, start=1):
        other.position = position
    record(actor, "agenda.edit", workshop.id, action="delete", step_id=step_id, title=step.title)
    announce(db.session, workshop)
    db.session.commit()


def move_step(actor: Actor, workshop: Workshop, step_id: int, direction: str) -> None:
    """Swap a step with its neighbour above or below.

    :raise PermissionDenied: the actor may not edit the agenda.
    :raise NotFound: the step is not on this agenda.
    """
    require("agenda.edit", actor, workshop)
    step = _step_of(workshop, step_id)
    steps = list(workshop.steps)
    index = steps.index(step)
    other_index = index - 1 if direction == "up" else index + 1
    if 0 <= other_index < len(steps):
        other = steps[other_index]
        step.position, other.position = other.position, step.position
        record(actor, "agenda.edit", workshop.id, action="move", step_id=step_id,
               direction=direction)
        announce(db.session, workshop)
    db.session.commit()


def goto_step(actor: Actor, workshop: Workshop, step_id: int) -> Step:
    """Make a step current: every phone and the projector switch to it.

    :raise PermissionDenied: the actor does not facilitate this workshop.
    :raise NotFound: the step is not on this agenda.
    """
    require("agenda.goto", actor, workshop)
    step = _step_of(workshop, step_id)
    workshop.current_step = step
    record(actor, "agenda.goto", workshop.id, step_id=step.id, title=step.title)
    announce(db.session, workshop)
    db.session.commit()
    return step


def _current_step(workshop: Workshop) -> Step:
    if workshop.current_step is None:
        raise Conflict(_l("Go to a step before using the timer."))
    return workshop.current_step


def _remaining_seconds(step: Step) -> int:
    if step.timer_ends_at is not None:
        return max(0, round((step.timer_ends_at - utcnow()).total_seconds()))
    if step.timer_remaining is not None:
        return step.timer_remaining
    return step.duration_seconds or 0


def start_timer(actor: Actor, workshop: Workshop, data: TimerStart) -> Step:
    """Start or resume the current step's timer; a given duration restarts it from there.

    :raise PermissionDenied: the actor does not facilitate this workshop.
    :raise Conflict: no current step, or no duration to count down.
    """
    require("timer.start", actor, workshop)
    step = _current_step(workshop)
    if data.seconds is not None:
        step.duration_seconds = data.seconds
        step.timer_remaining = None
        step.timer_ends_at = None
    remaining = _remaining_seconds(step)
    if remaining <= 0:
        raise Conflict(_l("Give the timer a duration first."),
                       seconds=_l("Give the timer a duration first."))
    step.timer_ends_at = utcnow() + timedelta(seconds=remaining)
    step.timer_remaining = None
    record(actor, "timer.start", workshop.id, step_id=step.id, seconds=remaining)
    announce(db.session, workshop)
    db.session.commit()
    return step


def pause_timer(actor: Actor, workshop: Workshop) -> Step:
    """Pause a running timer, keeping the time left.

    :raise PermissionDenied: the actor does not facilitate this workshop.
    :raise Conflict: no current step, or its timer is not running.
    """
    require("timer.pause", actor, workshop)
    step = _current_step(workshop)
    if step.timer_ends_at is None:
        raise Conflict(_l("The timer is not running."))
    step.timer_remaining = _remaining_seconds(step)
    step.timer_ends_at = None
    record(actor, "timer.pause", workshop.id, step_id=step.id, remaining=step.timer_remaining)
    announce(db.session, workshop)
    db.session.commit()
    return step


def extend_timer(actor: Actor, workshop: Workshop, data: TimerExtend) -> Step:
    """Add (or take away) time, whether the timer runs or not.

    :raise PermissionDenied: the actor does not facilitate this workshop.
    :raise Conflict: no current step.
    """
    require("timer.extend", actor, workshop)
    step = _current_step(workshop)
    delta = timedelta(seconds=data.seconds)
    if step.timer_ends_at is not None:
        step.timer_ends_at = max(utcnow(), step.timer_ends_at + delta)
    else:
        step.timer_remaining = max(0, _remaining_seconds(step) + data.seconds)
    if data.seconds > 0 and not step.duration_seconds:
        step.duration_seconds = data.seconds
    record(actor, "timer.extend", workshop.id, step_id=step.id, seconds=data.seconds)
    announce(db.session, workshop)
    db.session.commit()
    return step


def reset_timer(actor: Actor, workshop: Workshop) -> Step:
    """Stop the timer and put it back to the step's full duration.

    :raise PermissionDenied: the actor does not facilitate this workshop.
    :raise Conflict: no current step.
    """
    require("timer.reset", actor, workshop)
    step = _current_step(workshop)
    step.timer_ends_at = None
    step.timer_remaining = None
    record(actor, "timer.reset", workshop.id, step_id=step.id)
    announce(db.session, workshop)
    db.session.commit()
    return step


def broadcast_message(actor: Actor, workshop: Workshop, text: str) -> None:
    """Show a message on every screen of the workshop (an empty text clears it).

    :raise PermissionDenied: the actor does not facilitate this workshop.
    """
    require("message.broadcast", actor, workshop)
    record(actor, "message.broadcast", workshop.id, text=text)
    queue(db.session, "notice", {"text": text}, workshop_room(workshop.id))
    db.session.commit()


def assign_facilitator(actor: Actor, workshop: Workshop, user_id: int, assigned: bool) -> None:
    """Give or take a facilitator's right to drive this workshop.

    :raise PermissionDenied: the actor is not an organiser.
    :raise NotFound: no such staff account.
    """
    require("facilitator.assign", actor, workshop)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such account."), user_id=_l("Unknown account."))
    present = user in workshop.facilitators
    if assigned and not present:
        workshop.facilitators.append(user)
    elif not assigned and present:
        workshop.facilitators.remove(user)
    record(actor, "facilitator.assign", workshop.id, user_id=user.id, assigned=assigned)
    db.session.commit()
