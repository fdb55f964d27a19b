"""Socket.IO events of proposals and discussion; the same services as the forms."""

from __future__ import annotations

from workshop.extensions import socketio
from workshop.proposals import live as broadcast
from workshop.proposals import services
from workshop.proposals.schemas import CommentIn, ProposalCreate, SupportIn
from workshop.sockets import operation


@operation(ProposalCreate)
def proposal_create(actor, workshop, data: ProposalCreate) -> dict:
    """A delegate submits a line of work; every screen gets its card."""
    proposal = services.submit_proposal(actor, workshop, data)
    broadcast.announce_line(actor, workshop, proposal.id)
    return {"proposal_id": proposal.id}


@operation(SupportIn)
def proposal_support(actor, workshop, data: SupportIn) -> dict:
    """Give or withdraw a +1."""
    on = services.set_support(actor, workshop, data.proposal_id, data.on)
    broadcast.announce_counts(actor, workshop, data.proposal_id)
    return {"proposal_id": data.proposal_id, "on": on}


@operation(CommentIn)
def proposal_comment(actor, workshop, data: CommentIn) -> dict:
    """Comment or reply; the discussion pages of every screen get it."""
    comment = services.add_comment(actor, workshop, data.proposal_id, data.body, data.parent_id)
    broadcast.announce_comment(workshop, data.proposal_id, comment)
    broadcast.announce_counts(actor, workshop, data.proposal_id)
    return {"comment_id": comment.id}


HANDLERS = {
    "proposal.create": proposal_create,
    "proposal.support": proposal_support,
    "proposal.comment": proposal_comment,
}


def register() -> None:
    """Install the handlers under their operation names."""
    for name, handler in HANDLERS.items():
        socketio.on_event(name, handler)
