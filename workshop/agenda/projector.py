"""The projector view: a full-screen page for the room's big screen, and the console's list
of lines to spotlight on it (the spotlight's rules: workshop/agenda/spotlight.py)."""

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
from workshop.agenda.spotlight import spotlight_context, spotlight_proposal, spotlit_line
from workshop.agenda.state import snapshot
from workshop.errors import PermissionDenied
from workshop.extensions import db
from workshop.permissions import ProjectorViewer, facilitates
from workshop.proposals.lines import lines_of
from workshop.proposals.live import card_context
from workshop.sockets import holds_projector_key, remember_projector_key
from workshop.steps import step_context
from workshop.validation import parse
from workshop.vocabulary import LANGUAGES, REGIONS, STEP_KINDS

bp = Blueprint("projector", __name__, url_prefix="/w/<int:workshop_id>/projector")

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
                           lines=lines_of(actor, workshop),
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
