"""Socket.IO events of proposals and discussion; the same services as the forms."""

from __future__ import annotations

from workshop.extensions import socketio
from workshop.proposals import services
from workshop.proposals.schemas import (
    CommentIn,
    ProposalCreate,
    SuggestionRef,
    SupportIn,
    TranslationCreate,
)
from workshop.sockets import operation


@operation(ProposalCreate)
def proposal_create(actor, workshop, data: ProposalCreate) -> dict:
    """A delegate submits a line of work; every screen gets its card."""
    proposal = services.submit_proposal(actor, workshop, data)
    return {"proposal_id": proposal.id, "duplicate": proposal.replayed}


@operation(SupportIn)
def proposal_support(actor, workshop, data: SupportIn) -> dict:
    """Give or withdraw a +1."""
    on = services.set_support(actor, workshop, data.proposal_id, data.on)
    return {"proposal_id": data.proposal_id, "on": on}


@operation(CommentIn)
def proposal_comment(actor, workshop, data: CommentIn) -> dict:
    """Comment or reply; the discussion pages of every screen get it."""
    comment = services.add_comment(actor, workshop, data.proposal_id, data.body, data.parent_id,
                                   data.request_id)
    return {"comment_id": comment.id, "duplicate": comment.replayed}


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
    "proposal.translate": proposal_translate,
    "translation.suggest": translation_suggest,
    "translation.accept": translation_accept,
    "translation.reject": translation_reject,
}


def register() -> None:
    """Install the handlers under their operation names."""
    for name, handler in HANDLERS.items():
        socketio.on_event(name, handler)
