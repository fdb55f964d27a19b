"""The proposals part of propose and discuss steps, on phones and the projector."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale

from workshop.permissions import Actor, ProjectorViewer, is_delegate_of
from workshop.proposals import services
from workshop.proposals.lines import lines_of
from workshop.proposals.listing import listing
from workshop.proposals.live import card_context
from workshop.steps import SharedPart, provides


def shared_proposals_context(workshop: Any, step: Any) -> SharedPart:
    """The same part for every phone of a language: the list drawn for everyone, which line
    each proposal is in (the page marks the lines its delegate supports) and the form."""
    shared = listing(ProjectorViewer(workshop.id), workshop)
    return SharedPart({"lang": str(get_locale()), **card_context(), "listing": shared.html,
                       "line_of": shared.line_of, "supported": [],
                       "can_submit": _can_submit(workshop, step)})


def _can_submit(workshop: Any, step: Any) -> bool:
    return step.kind in services.SUBMIT_STEPS and not workshop.proposals_locked


def supported_proposals(actor: Actor, workshop: Any) -> dict[str, Any]:
    """What a phone's page keeps to mark the lines its delegate supports in a shared list
    (proposals.js keeps it up to date as they support and withdraw)."""
    return {"supported_proposals": sorted(services.supported_by(actor))}


@provides("propose", "discuss", scripts=("js/proposals.js",), shared=shared_proposals_context,
          keeps=supported_proposals)
def proposals_context(actor: Actor, workshop: Any, step: Any) -> dict[str, Any]:
    """The lines of work, what the delegate supports, and whether they may submit.

    A delegate's phone gets the list drawn once for everyone reading its language (see
    listing.py) and what they support beside it; the projector draws its wall from the lines.
    """
    context: dict[str, Any] = {"lang": str(get_locale()), **card_context()}
    if is_delegate_of(actor, workshop):
        shared = listing(actor, workshop)
        context.update(
            listing=shared.html,
            # A line counts as supported when the delegate supports anything merged into it.
            supported=shared.lines_supported(services.supported_by(actor)),
            can_submit=_can_submit(workshop, step))
    else:
        context.update(lines=lines_of(actor, workshop), supported=[],
                       can_submit=False)
    return context
