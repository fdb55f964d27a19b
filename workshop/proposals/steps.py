"""The proposals part of propose and discuss steps, on phones and the projector."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale

from workshop.permissions import Actor, is_delegate_of
from workshop.proposals import services
from workshop.proposals.lines import lines_of
from workshop.proposals.listing import listing
from workshop.proposals.live import card_context
from workshop.steps import provides


@provides("propose", "discuss", scripts=("js/proposals.js",))
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
            can_submit=step.kind in services.SUBMIT_STEPS and not workshop.proposals_locked)
    else:
        context.update(lines=lines_of(actor, workshop), supported=[],
                       can_submit=False)
    return context
