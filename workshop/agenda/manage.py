"""Organisers' pages: workshops, their agenda, facilitators, invitations and organisations."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workshop.agenda import delegates as delegate_services
from workshop.agenda import services
from workshop.agenda.schemas import AssignIn, InviteIn, MoveIn, OrganisationIn, StepIn, WorkshopIn
from workshop.auth.services import list_staff
from workshop.errors import Conflict, ValidationFailed
from workshop.permissions import can, require
from workshop.validation import parse
from workshop.vocabulary import LANGUAGES, ORG_TYPES, REGIONS, STEP_KINDS, WORKSHOP_KINDS

bp = Blueprint("manage", __name__)


def _actor():
    return current_user._get_current_object()


def _vocab() -> dict:
    return {
        "languages": LANGUAGES,
        "org_types": ORG_TYPES,
        "regions": REGIONS,
        "step_kinds": STEP_KINDS,
        "workshop_kinds": WORKSHOP_KINDS,
    }


@bp.route("/workshops")
@login_required
def workshops():
    """The workshops this user may open.

    :raise 403: a delegate, not staff.
    """
    items = services.list_workshops(_actor())
    return render_template("manage/workshops.html", workshops=items,
                           can_create=can("workshop.create", _actor()))


@bp.route("/workshops/new", methods=["GET", "POST"])
@login_required
def new_workshop():
    """Create a workshop.

    :raise 403: not an organiser.
    :raise 422: a missing or wrong field.
    """
    require("workshop.create", _actor())
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            workshop = services.create_workshop(_actor(), parse(WorkshopIn, request.form))
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            flash(_("Workshop created. Now add the steps of its agenda."), "success")
            return redirect(url_for("manage.manage", workshop_id=workshop.id))
    return (
        render_template("manage/workshop_form.html", workshop=None, errors=errors,
                        form=request.form, **_vocab()),
        422 if errors else 200,
    )


def _manage_page(workshop, errors: dict | None = None, invited: tuple | None = None,
                 status: int = 200):
    actor = _actor()
    return (
        render_template(
            "manage/manage.html",
            workshop=workshop,
            delegates=delegate_services.list_delegates(actor, workshop),
            organisations=delegate_services.list_organisations(),
            staff=[u for u in list_staff() if u.role == "facilitator"],
            errors=errors or {},
            form=request.form,
            invited=invited,
            **_vocab(),
        ),
        status,
    )


@bp.route("/w/<int:workshop_id>/manage")
@login_required
def manage(workshop_id: int):
    """Prepare a workshop: details, agenda, facilitators, invitations.

    :raise 403: not an organiser.
    """
    workshop = services.get_workshop_for("workshop.update", _actor(), workshop_id)
    return _manage_page(workshop)


def _form_action(workshop_id: int, operation: str, action) -> object:
    """Run one manage form: parse errors re-render the page with the fields marked."""
    workshop = services.get_workshop_for(operation, _actor(), workshop_id)
    try:
        result = action(workshop)
    except ValidationFailed as exc:
        return _manage_page(workshop, errors=exc.fields, status=422)
    if isinstance(result, tuple):
        return _manage_page(workshop, invited=result)
    return redirect(url_for("manage.manage", workshop_id=workshop_id) + "#" + operation)


@bp.route("/w/<int:workshop_id>/edit", methods=["POST"])
@login_required
def edit(workshop_id: int):
    """Save the workshop's details."""
    return _form_action(
        workshop_id, "workshop.update",
        lambda w: services.update_workshop(_actor(), w, parse(WorkshopIn, request.form)),
    )


@bp.route("/w/<int:workshop_id>/projector-key", methods=["POST"])
@login_required
def rotate_projector_key(workshop_id: int):
    """Replace the projector key: the old projector address stops working and the screens
    opened with it are disconnected.

    :raise 403: not an organiser.
    :raise 404: no such workshop.
    """
    response = _form_action(
        workshop_id, "projector.rotate_key",
        lambda w: services.rotate_projector_key(_actor(), w),
    )
    flash(_("The projector has a new address; the old one no longer works."), "success")
    return response


@bp.route("/w/<int:workshop_id>/steps", methods=["POST"])
@login_required
def add_step(workshop_id: int):
    """Append a step to the agenda."""
    return _form_action(
        workshop_id, "agenda.edit",
        lambda w: services.add_step(_actor(), w, parse(StepIn, request.form)),
    )


@bp.route("/w/<int:workshop_id>/steps/<int:step_id>", methods=["POST"])
@login_required
def update_step(workshop_id: int, step_id: int):
    """Save a step."""
    return _form_action(
        workshop_id, "agenda.edit",
        lambda w: services.update_step(_actor(), w, step_id, parse(StepIn, request.form)),
    )


@bp.route("/w/<int:workshop_id>/steps/<int:step_id>/delete", methods=["POST"])
@login_required
def delete_step(workshop_id: int, step_id: int):
    """Remove a step."""
    return _form_action(
        workshop_id, "agenda.edit", lambda w: services.delete_step(_actor(), w, step_id)
    )


@bp.route("/w/<int:workshop_id>/steps/<int:step_id>/move", methods=["POST"])
@login_required
def move_step(workshop_id: int, step_id: int):
    """Move a step up or down."""
    return _form_action(
        workshop_id, "agenda.edit",
        lambda w: services.move_step(
            _actor(), w, step_id, parse(MoveIn, request.form).direction
        ),
    )


@bp.route("/w/<int:workshop_id>/facilitators", methods=["POST"])
@login_required
def assign(workshop_id: int):
    """Assign or unassign a facilitator."""

    def action(w):
        data = parse(AssignIn, request.form)
        services.assign_facilitator(_actor(), w, data.user_id, data.assigned)

    return _form_action(workshop_id, "facilitator.assign", action)


@bp.route("/w/<int:workshop_id>/invitations", methods=["POST"])
@login_required
def invite(workshop_id: int):
    """Make a personal invitation link for one delegate (shown once)."""
    return _form_action(
        workshop_id, "delegate.invite",
        lambda w: delegate_services.invite_delegate(_actor(), w, parse(InviteIn, request.form)),
    )


@bp.route("/w/<int:workshop_id>/invitations/<int:delegate_id>", methods=["POST"])
@login_required
def renew(workshop_id: int, delegate_id: int):
    """Replace a delegate's invitation link."""
    return _form_action(
        workshop_id, "delegate.invite",
        lambda w: delegate_services.renew_invitation(_actor(), w, delegate_id),
    )


@bp.route("/organisations", methods=["GET", "POST"])
@login_required
def organisations():
    """The network's organisations; organisers add new ones here.

    :raise 403: not an organiser.
    """
    require("organisation.create", _actor())
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            delegate_services.create_organisation(_actor(), parse(OrganisationIn, request.form))
        except (ValidationFailed, Conflict) as exc:
            errors = exc.fields
        else:
            return redirect(url_for("manage.organisations"))
    return (
        render_template("manage/organisations.html", errors=errors, form=request.form,
                        organisations=delegate_services.list_organisations(), **_vocab()),
        422 if errors else 200,
    )
