"""Rooms and broadcasts: the only module that knows room names.

Services queue broadcasts on the database session; they are sent after the transaction
commits and dropped if it rolls back, so no screen ever shows a change that did not happen.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from workshop.extensions import socketio

_PENDING = "live.pending"


def workshop_room(workshop_id: int) -> str:
    """Every screen of a workshop: phones, projector, console."""
    return f"w{workshop_id}"


def staff_room(workshop_id: int) -> str:
    """Facilitators' and organisers' consoles only."""
    return f"w{workshop_id}:staff"


def screen_room(workshop_id: int) -> str:
    """Projector screens opened with the workshop's projector key."""
    return f"w{workshop_id}:screens"


def delegate_room(delegate_id: int) -> str:
    """All the tabs and phones of one delegate."""
    return f"d{delegate_id}"


def language_room(workshop_id: int, language: str) -> str:
    """The screens of a workshop that read one language (for server-rendered fragments)."""
    return f"w{workshop_id}:{language}"


def queue(session: Session, event_name: str, payload: Any, room: str) -> None:
    """Send `event_name` to `room` once the session's transaction commits."""
    session.info.setdefault(_PENDING, []).append((event_name, payload, room))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    for event_name, payload, room in pending:
        socketio.emit(event_name, payload, to=room)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)


def plan_room(plan_id: int) -> str:
    """The screens that have an action plan open (its working group and its readers)."""
    return f"p{plan_id}"
