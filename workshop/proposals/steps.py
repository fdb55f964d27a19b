"""The proposals part of propose and discuss steps, on phones and the projector."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale

from workshop.permissions import Actor, is_delegate_of
from workshop.proposals import services
from workshop.proposals.live import card_context
from workshop.steps import provides


@provides("propose", "discuss")
def proposals_context(actor: Actor, workshop: Any, step: Any) -> dict[str, Any]:
    """The lines of work, what the delegate supports, and whether they may submit."""
    delegate = is_delegate_of(actor, workshop)
    lines = services.lines_of(actor, workshop)
    mine = services.supported_by(actor) if delegate else set()
    return {
        "lines": lines,
        # A line counts as supported when the delegate supports anything merged into it.
        "supported": {line.proposal.id for line in lines
                      if mine & {m.id for m in line.members}},
        "can_submit": delegate and step.kind in services.SUBMIT_STEPS
        and not workshop.proposals_locked,
        "lang": str(get_locale()),
        **card_context(),
    }
