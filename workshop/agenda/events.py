"""Socket.IO events of the live agenda; each calls the same service as the console's forms.

See docs/events.md for names, payloads, senders and broadcasts.
"""

from __future__ import annotations

from workshop.agenda import services
from workshop.agenda.delegates import admit_delegate
from workshop.agenda.schemas import (
    AdmitIn,
    MessageIn,
    SpotlightIn,
    StepRef,
    TimerExtend,
    TimerStart,
    WorkshopRef,
)
from workshop.agenda.spotlight import spotlight_proposal
from workshop.agenda.sync import sync_state
from workshop.auth.logins import Sender
from workshop.extensions import socketio
from workshop.sockets import operation, shown_projector_key


@operation(StepRef)
def agenda_goto(actor, workshop, data: StepRef) -> dict:
    """Move every screen to a step."""
    step = services.goto_step(actor, workshop, data.step_id)
    return {"step_id": step.id}


@operation(TimerStart)
def timer_start(actor, workshop, data: TimerStart) -> None:
    """Start or resume the current step's timer."""
    services.start_timer(actor, workshop, data)


@operation(WorkshopRef)
def timer_pause(actor, workshop, data: WorkshopRef) -> None:
    """Pause the timer."""
    services.pause_timer(actor, workshop)


@operation(TimerExtend)
def timer_extend(actor, workshop, data: TimerExtend) -> None:
    """Add or remove time."""
    services.extend_timer(actor, workshop, data)


@operation(WorkshopRef)
def timer_reset(actor, workshop, data: WorkshopRef) -> None:
    """Reset the timer to the step's duration."""
    services.reset_timer(actor, workshop)


@operation(MessageIn)
def message_broadcast(actor, workshop, data: MessageIn) -> None:
    """Show a message on every screen."""
    services.broadcast_message(actor, workshop, data.text)


@operation(WorkshopRef, checked_in_batch=True)
def state_sync(sender: Sender | None, workshop_id: int, data: WorkshopRef) -> dict:
    """Answer with the current state (a client that doubts its own, e.g. after sleep); the
    sockets that ask at once share one read (agenda/sync.py)."""
    return sync_state(sender, shown_projector_key(workshop_id), workshop_id)


@operation(AdmitIn)
def delegate_admit(actor, workshop, data: AdmitIn) -> dict:
    """Check a delegate in on the voting register, or reject their join."""
    delegate = admit_delegate(actor, workshop, data)
    return {"delegate_id": delegate.id, "admitted": delegate.admitted}


@operation(SpotlightIn)
def proposal_spotlight(actor, workshop, data: SpotlightIn) -> dict:
    """Put a line of work and its discussion on the projector, or take it off."""
    return {"proposal_id": spotlight_proposal(actor, workshop, data.proposal_id)}


HANDLERS = {
    "agenda.goto": agenda_goto,
    "timer.start": timer_start,
    "timer.pause": timer_pause,
    "timer.extend": timer_extend,
    "timer.reset": timer_reset,
    "message.broadcast": message_broadcast,
    "state.sync": state_sync,
    "delegate.admit": delegate_admit,
    "proposal.spotlight": proposal_spotlight,
}


def register() -> None:
    """Install the handlers under their operation names."""
    for name, handler in HANDLERS.items():
        socketio.on_event(name, handler)
