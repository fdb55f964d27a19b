"""The facilitator's console: drive the agenda, the timer and messages from a laptop.

Every button is a plain form (it works without JavaScript); console.js sends the same operation
over the socket instead when it can, which is faster and keeps the page in place.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from workshop.agenda import services
from workshop.agenda.delegates import admit_delegate, list_delegates, waiting_for_admission
from workshop.agenda.qr import join_qr_svg, join_url
from workshop.agenda.schemas import AdmitIn, MessageIn, TimerExtend, TimerStart
from workshop.agenda.state import delegate_payload, snapshot
from workshop.audit.services import list_entries
from workshop.errors import NotFound
from workshop.extensions import db
from workshop.permissions import can
from workshop.validation import parse
from workshop.vocabulary import LANGUAGES, REGIONS, STEP_KINDS

bp = Blueprint("console", __name__, url_prefix="/w/<int:workshop_id>")


def _workshop(operation: str, workshop_id: int):
    return services.get_workshop_for(operation, current_user._get_current_object(), workshop_id)


def _back(workshop_id: int):
    return redirect(url_for("console.console", workshop_id=workshop_id))


@bp.route("/console")
@login_required
def console(workshop_id: int):
    """The console page.

    :raise 403: the user does not facilitate this workshop.
    """
    workshop = _workshop("workshop.console", workshop_id)
    actor = current_user._get_current_object()
    return render_template(
        "console/console.html",
        workshop=workshop,
        state=snapshot(db.session, workshop),
        delegates=[delegate_payload(d) for d in list_delegates(actor, workshop)],
        step_kinds=STEP_KINDS,
        regions=REGIONS,
        languages=LANGUAGES,
        join_url=join_url(workshop),
        qr_svg=join_qr_svg(workshop, scale=4),
        can_manage=can("agenda.edit", actor, workshop),
        waiting=waiting_for_admission(actor, workshop) if workshop.voting_register else [],
    )


@bp.route("/goto/<int:step_id>", methods=["POST"])
@login_required
def goto(workshop_id: int, step_id: int):
    """Form fallback of `agenda.goto`."""
    workshop = _workshop("workshop.console", workshop_id)
    services.goto_step(current_user._get_current_object(), workshop, step_id)
    return _back(workshop_id)


@bp.route("/timer/<action>", methods=["POST"])
@login_required
def timer(workshop_id: int, action: str):
    """Form fallback of `timer.start`, `timer.pause`, `timer.extend` and `timer.reset`.

    :raise 404: an unknown timer action.
    """
    workshop = _workshop("workshop.console", workshop_id)
    actor = current_user._get_current_object()
    fields = {"workshop_id": workshop_id, **request.form.to_dict()}
    fields.pop("csrf_token", None)
    fields = {k: v for k, v in fields.items() if v != ""}
    if action == "start":
        services.start_timer(actor, workshop, parse(TimerStart, fields))
    elif action == "pause":
        services.pause_timer(actor, workshop)
    elif action == "extend":
        services.extend_timer(actor, workshop, parse(TimerExtend, fields))
    elif action == "reset":
        services.reset_timer(actor, workshop)
    else:
        raise NotFound(_l("This page does not exist."))
    return _back(workshop_id)


@bp.route("/message", methods=["POST"])
@login_required
def message(workshop_id: int):
    """Form fallback of `message.broadcast`."""
    workshop = _workshop("workshop.console", workshop_id)
    data = parse(MessageIn, {"workshop_id": workshop_id, "text": request.form.get("text", "")})
    services.broadcast_message(current_user._get_current_object(), workshop, data.text)
    return _back(workshop_id)


@bp.route("/admit", methods=["POST"])
@login_required
def admit(workshop_id: int):
    """Form fallback of `delegate.admit`: check a delegate in on the register, or reject."""
    workshop = _workshop("workshop.console", workshop_id)
    fields = {k: v for k, v in request.form.to_dict().items() if k != "csrf_token" and v != ""}
    admit_delegate(current_user._get_current_object(), workshop,
                   parse(AdmitIn, {**fields, "workshop_id": workshop_id}))
    return _back(workshop_id)


@bp.route("/audit")
@login_required
def audit(workshop_id: int):
    """The workshop's audit log (organisers).

    :raise 403: the user is not an organiser.
    """
    workshop = services.get_workshop(workshop_id)
    entries = list_entries(current_user._get_current_object(), workshop)
    return render_template("console/audit.html", workshop=workshop, entries=entries)
