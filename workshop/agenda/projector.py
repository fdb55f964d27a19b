"""The projector view: a full-screen page for the room's big screen, and its spotlight.

On a discuss step the facilitator may put one line of work and its discussion in the
spotlight; it is kept on the workshop (`Workshop.spotlight`, shared with the action plans'
spotlight: the screen shows one thing at a time), so a reloaded projector shows it too.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from workshop.agenda.models import Workshop
from workshop.agenda.qr import join_qr_svg, join_url
from workshop.agenda.schemas import SpotlightIn
from workshop.agenda.services import get_workshop, get_workshop_for
from workshop.agenda.state import announce, snapshot
from workshop.audit.services import record
from workshop.errors import NotFound, PermissionDenied
from workshop.extensions import db
from workshop.permissions import Actor, ProjectorViewer, facilitates, require
from workshop.proposals import services as proposals
from workshop.proposals.live import card_context
from workshop.sockets import holds_projector_key, remember_projector_key
from workshop.steps import step_context
from workshop.validation import parse
from workshop.vocabulary import LANGUAGES, REGIONS, STEP_KINDS

bp = Blueprint("projector", __name__, url_prefix="/w/<int:workshop_id>/projector")

SPOTLIGHT_KIND = "proposal"


# --- The spotlight ------------------------------------------------------------------------------


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
    lines = proposals.lines_of(actor, workshop, only=line_id)
    if not lines:  # hidden or merged away since: back to the wall
        return {}
    replies: dict[int | None, list] = {}
    for comment in proposals.comments_of(actor, workshop, lines[0]):
        if not comment.hidden:  # the projector is no moderator: it shows what delegates see
            replies.setdefault(comment.parent_id, []).append(comment)
    return {"spot_line": lines[0], "spot_replies": replies}


# --- Pages --------------------------------------------------------------------------------------


def _viewer(workshop):
    """The projector's actor: the staff user, or the projector key's viewer."""
    if current_user.is_authenticated:
        return current_user._get_current_object()
    return ProjectorViewer(workshop.id)


def _projector_workshop(workshop_id: int):
    """The workshop, if the visitor facilitates it or brought its current projector key.

    A valid key is remembered in the session so the page's socket is let in too; once the
    key is replaced (projector.rotate_key) that session no longer counts.

    :raise 404: no such workshop.
    :raise 403: neither staff of the workshop nor the right key.
    """
    workshop = get_workshop(workshop_id)
    key = request.args.get("key", "")
    if key and hmac.compare_digest(key.encode(), workshop.projector_key.encode()):
        remember_projector_key(workshop)
    allowed = holds_projector_key(workshop) or facilitates(
        current_user._get_current_object() if current_user.is_authenticated else None, workshop
    )
    if not allowed:
        raise PermissionDenied(_l("Open the projector view from the facilitator's console."))
    return workshop


def _step_part(workshop: Workshop) -> dict[str, Any]:
    """What the step part of the big screen draws (the page and its fragment alike)."""
    viewer = _viewer(workshop)
    step = workshop.current_step
    return {"workshop": workshop, "step": step, "step_kinds": STEP_KINDS,
            "languages": LANGUAGES,
            **step_context(viewer, workshop, step),
            **spotlight_context(viewer, workshop, step)}


@bp.route("")
def projector(workshop_id: int):
    """The big screen: current step, join code and QR, delegates by region, countdown."""
    workshop = _projector_workshop(workshop_id)
    context = {"state": snapshot(db.session, workshop), "regions": REGIONS,
               "join_url": join_url(workshop), "qr_svg": join_qr_svg(workshop)}
    return render_template("projector/projector.html", **{**context, **_step_part(workshop)})


@bp.route("/step")
def step_fragment(workshop_id: int):
    """The current step's part of the big screen, fetched when the step changes."""
    workshop = _projector_workshop(workshop_id)
    return render_template("projector/_step.html", **_step_part(workshop))


@bp.route("/spotlight")
@login_required
def spotlight_panel(workshop_id: int):
    """The console's list of lines of work, each with "Spotlight on projector".

    :raise 403: the user does not facilitate this workshop.
    """
    actor = current_user._get_current_object()
    workshop = get_workshop_for("proposal.spotlight", actor, workshop_id)
    return render_template("projector/_spotlight_panel.html", workshop=workshop,
                           lines=proposals.lines_of(actor, workshop),
                           spotlit=spotlit_line(workshop), lang=str(get_locale()),
                           **card_context())


@bp.route("/spotlight", methods=["POST"])
@login_required
def spotlight(workshop_id: int):
    """Form fallback of `proposal.spotlight`.

    :raise 403: the user does not facilitate this workshop.
    :raise 404 / 422: no such line of work, or a malformed id (the field named).
    """
    actor = current_user._get_current_object()
    workshop = get_workshop_for("proposal.spotlight", actor, workshop_id)
    fields = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    data = parse(SpotlightIn, {**fields, "workshop_id": workshop_id})
    spotlight_proposal(actor, workshop, data.proposal_id)
    return redirect(url_for("console.console", workshop_id=workshop_id))
