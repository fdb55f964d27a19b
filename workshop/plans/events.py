"""Socket.IO events of action plans; each calls the same service as the pages' forms.

See docs/events.md for names, payloads, senders and broadcasts.
"""

from __future__ import annotations

from typing import Any

from flask_socketio import join_room, leave_room, rooms

from workshop.extensions import socketio
from workshop.live import plan_room
from workshop.plans import services
from workshop.plans.schemas import (
    AssignIn,
    EditIn,
    JoinIn,
    LockIn,
    PlanRef,
    RestoreIn,
    SpotlightIn,
)
from workshop.signals import lines_carried_forward
from workshop.sockets import operation


@operation(PlanRef)
def plan_open(actor, workshop, data: PlanRef) -> dict:
    """Follow one plan live (leaving any other): answers with its values and versions.

    Sent again after every reconnect, it is also the plan's resynchronisation.
    """
    plan = services.get_plan(actor, workshop, data.plan_id, "plan.open")
    for room in rooms():
        if room.startswith("p") and room[1:].isdigit() and room != plan_room(plan.id):
            leave_room(room)
    join_room(plan_room(plan.id))
    return {"plan": services.plan_state(actor, workshop, plan),
            "progress": services.progress(plan)}


@operation(EditIn)
def plan_edit(actor, workshop, data: EditIn) -> dict:
    """Save one field (merged with others' changes since the phone's version)."""
    return services.edit_field(actor, workshop, data).as_dict()


@operation(RestoreIn)
def plan_restore(actor, workshop, data: RestoreIn) -> dict:
    """Bring back an earlier version of a field or of the whole plan."""
    changes = services.restore(actor, workshop, data)
    return {"restored": [{"field": c.field_key, "version": c.version} for c in changes]}


@operation(AssignIn)
def plan_assign(actor, workshop, data: AssignIn) -> dict:
    """Put a delegate in a working group (or in none)."""
    return {"plan_id": services.assign_member(actor, workshop, data)}


@operation(JoinIn)
def plan_join(actor, workshop, data: JoinIn) -> dict:
    """A delegate chooses their working group."""
    return {"plan_id": services.join_group(actor, workshop, data)}


@operation(LockIn)
def plan_lock(actor, workshop, data: LockIn) -> dict:
    """Lock or unlock one plan or all of them."""
    return {"plan_ids": services.lock_plans(actor, workshop, data)}


@operation(SpotlightIn)
def plan_spotlight(actor, workshop, data: SpotlightIn) -> dict:
    """Show one plan on the projector, or every plan's progress."""
    return {"plan_id": services.spotlight(actor, workshop, data)}


HANDLERS = {
    "plan.open": plan_open,
    "plan.edit": plan_edit,
    "plan.restore": plan_restore,
    "plan.assign": plan_assign,
    "plan.join": plan_join,
    "plan.lock": plan_lock,
    "plan.spotlight": plan_spotlight,
}


def _on_lines_carried_forward(ballot: Any, **kwargs: Any) -> None:
    services.create_plans(kwargs["actor"], kwargs["workshop"], ballot, kwargs["proposal_ids"])


def register() -> None:
    """Install the handlers under their operation names, and make plans from selections."""
    for name, handler in HANDLERS.items():
        socketio.on_event(name, handler)
    lines_carried_forward.connect(_on_lines_carried_forward)
