"""The projector's spotlight on a discuss step: one line of work and its discussion.

It is kept on the workshop (`Workshop.spotlight`, shared with the action plans' spotlight: the
screen shows one thing at a time), so a reloaded projector shows it too.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from workshop.agenda.models import Workshop
from workshop.agenda.state import announce
from workshop.audit.services import record
from workshop.errors import NotFound
from workshop.extensions import db
from workshop.permissions import Actor, require
from workshop.proposals import services as proposals
from workshop.proposals.lines import lines_of

SPOTLIGHT_KIND = "proposal"


def spotlit_line(workshop: Workshop) -> int | None:
    """The line of work the projector shows in full on discuss steps, if any."""
    spot = workshop.spotlight or {}
    return spot.get("id") if spot.get("kind") == SPOTLIGHT_KIND else None


def spotlight_proposal(actor: Actor, workshop: Workshop, proposal_id: int | None) -> int | None:
    """Show one line of work and its discussion on the projector, or take it off (None).

    A proposal merged into another puts the line it belongs to in the spotlight. Clearing
    leaves an action plan's spotlight alone. Audited; every screen gets the new state after
    the commit (the projector redraws its step part from it).

    :raise PermissionDenied: the actor does not facilitate this workshop.
    :raise NotFound: `proposal_id` names no visible line of work of this workshop.
    """
    require("proposal.spotlight", actor, workshop)
    line_id = None
    if proposal_id is not None:
        proposal = proposals.get_proposal(workshop, proposal_id)
        if proposal.hidden:
            raise NotFound(_l("This proposal does not exist."),
                           proposal_id=_l("Unknown proposal."))
        line_id = proposals.line_id(proposal)
        workshop.spotlight = {"kind": SPOTLIGHT_KIND, "id": line_id}
    elif spotlit_line(workshop) is not None:
        workshop.spotlight = None
    record(actor, "proposal.spotlight", workshop.id, proposal_id=line_id)
    announce(db.session, workshop)
    db.session.commit()
    return line_id


def spotlight_context(actor: Actor, workshop: Workshop, step: Any) -> dict[str, Any]:
    """The spotlighted line and its visible comments (threaded), on a discuss step only."""
    line_id = spotlit_line(workshop)
    if step is None or step.kind != "discuss" or line_id is None:
        return {}
    lines = lines_of(actor, workshop, only=line_id)
    if not lines:  # hidden or merged away since: back to the wall
        return {}
    replies: dict[int | None, list] = {}
    for comment in proposals.comments_of(actor, workshop, lines[0]):
        if not comment.hidden:  # the projector is no moderator: it shows what delegates see
            replies.setdefault(comment.parent_id, []).append(comment)
    return {"spot_line": lines[0], "spot_replies": replies}
