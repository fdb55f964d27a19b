"""The projector view: a full-screen page for the room's big screen."""

from __future__ import annotations

import hmac

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from workshop.agenda.qr import join_qr_svg, join_url
from workshop.agenda.services import get_workshop
from workshop.agenda.state import snapshot
from workshop.errors import PermissionDenied
from workshop.extensions import db
from workshop.permissions import ProjectorViewer, facilitates
from workshop.sockets import holds_projector_key, remember_projector_key
from workshop.steps import step_context
from workshop.vocabulary import REGIONS, STEP_KINDS

bp = Blueprint("projector", __name__, url_prefix="/w/<int:workshop_id>/projector")


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


@bp.route("")
def projector(workshop_id: int):
    """The big screen: current step, join code and QR, delegates by region, countdown."""
    workshop = _projector_workshop(workshop_id)
    context = {
        "workshop": workshop,
        "state": snapshot(db.session, workshop),
        "step": workshop.current_step,
        "step_kinds": STEP_KINDS,
        "regions": REGIONS,
        "join_url": join_url(workshop),
        "qr_svg": join_qr_svg(workshop),
    }
    context.update(step_context(_viewer(workshop), workshop, workshop.current_step))
    return render_template("projector/projector.html", **context)


@bp.route("/step")
def step_fragment(workshop_id: int):
    """The current step's part of the big screen, fetched when the step changes."""
    workshop = _projector_workshop(workshop_id)
    return render_template(
        "projector/_step.html", workshop=workshop, step=workshop.current_step,
        step_kinds=STEP_KINDS,
        **step_context(_viewer(workshop), workshop, workshop.current_step),
    )
