"""Socket.IO events of proposals and discussion; the same services as the forms."""

from __future__ import annotations

from workshop.extensions import socketio
from workshop.proposals import live, services
from workshop.proposals.schemas import (
    CommentIn,
    ProposalCreate,
    ProposalRef,
    SuggestionRef,
    SupportIn,
    TranslationCreate,
)
from workshop.sockets import follow_discussion, operation


@operation(ProposalCreate, checked_in_batch=True)
def proposal_create(sender, workshop_id: int, data: ProposalCreate) -> dict:
    """A delegate submits a line of work; every screen gets its card. Who sends is checked in
    the batch that writes it (the lines sent together share one transaction:
    proposals.services.send_proposal)."""
    made = services.send_proposal(sender, workshop_id, data)
    return {"proposal_id": made.proposal_id, "duplicate": made.replayed}


@operation(SupportIn, checked_in_batch=True)
def proposal_support(sender, workshop_id: int, data: SupportIn) -> dict:
    """Give or withdraw a +1; who sends is checked in the batch that writes it (the +1s sent
    together share one transaction: proposals.services.send_support)."""
    on = services.send_support(sender, workshop_id, data.proposal_id, data.on)
    return {"proposal_id": data.proposal_id, "on": on}


@operation(CommentIn, checked_in_batch=True)
def proposal_comment(sender, workshop_id: int, data: CommentIn) -> dict:
    """Comment or reply; the screens following the line's discussion get it. Who sends is
    checked in the batch that writes it (proposals.services.send_comment)."""
    comment = services.send_comment(sender, workshop_id, data)
    return {"comment_id": comment.comment_id, "duplicate": comment.replayed}


@operation(ProposalRef)
def discussion_open(actor, workshop, data: ProposalRef) -> dict:
    """Follow one line's discussion live (leaving any other): its new comments come to this
    socket, in its language. Sent again after every reconnect, and by the projector when the
    line in the spotlight changes."""
    line_id = services.open_discussion(actor, workshop, data.proposal_id)
    follow_discussion(line_id)
    return {"proposal_id": line_id}


@operation(TranslationCreate)
def proposal_translate(actor, workshop, data: TranslationCreate) -> dict:
    """The author (or staff) translates a proposal; every screen gets the card again."""
    translation = services.translate_proposal(actor, workshop, data.proposal_id, data)
    return {"proposal_id": translation.proposal_id, "language": translation.language}


@operation(TranslationCreate)
def translation_suggest(actor, workshop, data: TranslationCreate) -> dict:
    """Another delegate suggests a translation: stored, shown to the author and staff only.

    (The service queues `translation.suggested` for them; no card changes.)
    """
    suggestion = services.suggest_translation(actor, workshop, data.proposal_id, data)
    return {"suggestion_id": suggestion.id, "proposal_id": suggestion.proposal_id,
            "language": suggestion.language}


@operation(SuggestionRef)
def translation_accept(actor, workshop, data: SuggestionRef) -> dict:
    """The author or a facilitator accepts a suggestion; every screen gets the card again."""
    suggestion = services.accept_suggestion(actor, workshop, data.suggestion_id)
    return {"suggestion_id": suggestion.id, "proposal_id": suggestion.proposal_id,
            "language": suggestion.language, "status": suggestion.status}


@operation(SuggestionRef)
def translation_reject(actor, workshop, data: SuggestionRef) -> dict:
    """The author or a facilitator turns a suggestion down (nothing anyone reads changes)."""
    suggestion = services.reject_suggestion(actor, workshop, data.suggestion_id)
    return {"suggestion_id": suggestion.id, "proposal_id": suggestion.proposal_id,
            "language": suggestion.language, "status": suggestion.status}


HANDLERS = {
    "proposal.create": proposal_create,
    "proposal.support": proposal_support,
    "proposal.comment": proposal_comment,
    "discussion.open": discussion_open,
    "proposal.translate": proposal_translate,
    "translation.suggest": translation_suggest,
    "translation.accept": translation_accept,
    "translation.reject": translation_reject,
}


def register(app) -> None:
    """Install the handlers under their operation names; coalesce the counts broadcast after
    +1s and comments (at most one message per workshop per `PROPOSAL_COUNTS_INTERVAL`, 0.5 s,
    naming the lines changed) and the cards of new and changed lines (at most one message per
    workshop and interval)."""
    interval = app.config.get("PROPOSAL_COUNTS_INTERVAL", 0.0 if app.testing else 0.5)
    live.counts.configure(app, float(interval))
    live.cards.configure(app, float(interval))
    for name, handler in HANDLERS.items():
        socketio.on_event(name, handler)
