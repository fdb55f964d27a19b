"""Pages of action plans: the list with progress and working groups, one plan to read or
write, its history, and the organiser's template editor.

Writing is live over the socket (plans.js); every button here is also a plain form that
calls the same service, so nothing depends on JavaScript but the live co-writing itself.
"""

from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workshop.agenda.delegates import list_delegates
from workshop.agenda.services import get_workshop_for
from workshop.agenda.state import snapshot
from workshop.errors import Conflict, ValidationFailed, WorkshopError
from workshop.extensions import db
from workshop.permissions import can, facilitates
from workshop.plans import services
from workshop.plans import template as tpl
from workshop.plans.schemas import AssignIn, EditIn, JoinIn, LockIn, RestoreIn, SpotlightIn
from workshop.validation import parse

bp = Blueprint("plans", __name__, url_prefix="/w/<int:workshop_id>/plans")


def _actor():
    return current_user._get_current_object()


def _form(workshop_id: int, **extra) -> dict:
    """A form's fields plus the workshop id, as the schemas expect them."""
    data = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    return {**data, "workshop_id": workshop_id, **extra}


def _act(workshop_id: int, schema, service, back: str, done: str, **extra):
    """Run one form action through its schema and service; errors become a flash message."""
    workshop = get_workshop_for("plan.view", _actor(), workshop_id)
    try:
        service(_actor(), workshop, parse(schema, _form(workshop_id, **extra)))
    except WorkshopError as exc:
        db.session.rollback()
        details = "; ".join(str(v) for v in exc.fields.values())
        flash(f"{exc.message} {details}".strip(), "error")
    else:
        flash(done, "success")
    return redirect(back)


@bp.route("")
@login_required
def index(workshop_id: int):
    """Every plan with its progress; for facilitators, working groups, locks and spotlight.

    :raise 403: not a delegate or staff of this workshop.
    """
    actor = _actor()
    workshop = get_workshop_for("plan.view", actor, workshop_id)
    staff = facilitates(actor, workshop)
    plans = services.list_plans(actor, workshop, include_inactive=staff)
    groups = {}
    delegates = []
    if staff:
        delegates = list_delegates(actor, workshop)
        groups = {d.id: services.group_of(d) for d in delegates}
    return render_template(
        "plans/index.html", workshop=workshop, plans=plans, staff=staff,
        progress={p.id: services.progress(p) for p in plans},
        members={p.id: services.members_of(p) for p in plans},
        delegates=delegates, groups=groups, spotlit=services.spotlit_plan(workshop),
        my_group=None if staff else services.group_of(actor),
        can_template=can("plan.template", actor, workshop),
        state=snapshot(db.session, workshop),
    )


@bp.route("/<int:plan_id>")
@login_required
def show(workshop_id: int, plan_id: int):
    """One plan: the editor for those who may write, the text for the others.

    :raise 403 / 404:
    """
    actor = _actor()
    workshop = get_workshop_for("plan.view", actor, workshop_id)
    plan = services.get_plan(actor, workshop, plan_id)
    return render_template(
        "plans/show.html", workshop=workshop, state=snapshot(db.session, workshop),
        progress=services.progress(plan),
        **services.editor_context(actor, workshop, plan, str(get_locale())))


@bp.route("/<int:plan_id>/fields/<field>", methods=["POST"])
@login_required
def save_field(workshop_id: int, plan_id: int, field: str):
    """Save one text or choice field from the plain form (the editor without JavaScript).

    :raise 403 / 404 / 409 / 422: as the service.
    """
    actor = _actor()
    workshop = get_workshop_for("plan.view", actor, workshop_id)
    plan = services.get_plan(actor, workshop, plan_id)
    back = url_for("plans.show", workshop_id=workshop_id, plan_id=plan_id) + f"#f-{field}"
    fields = tpl.field_map(plan.template.sections)
    spec = fields.get(field)
    multiple = spec is not None and spec["kind"] == "choice" and spec.get("multiple")
    value = request.form.getlist("value") if multiple else request.form.get("value", "")
    try:
        data = parse(EditIn, {"workshop_id": workshop_id, "plan_id": plan_id, "field": field,
                              "base_version": request.form.get("base_version", ""),
                              "value": value,
                              "edit_id": request.form.get("edit_id") or None})
        services.edit_field(actor, workshop, data)
    except WorkshopError as exc:
        db.session.rollback()
        details = "; ".join(str(v) for v in exc.fields.values())
        flash(f"{exc.message} {details}".strip(), "error")
        return redirect(back)
    flash(_("Saved."), "success")
    return redirect(back)


@bp.route("/<int:plan_id>/history")
@login_required
def history(workshop_id: int, plan_id: int):
    """Every saved change of a plan (who, when, what), with restore buttons.

    :raise 403 / 404:
    """
    actor = _actor()
    workshop = get_workshop_for("plan.history", actor, workshop_id)
    plan = services.get_plan(actor, workshop, plan_id, "plan.history")
    lang = str(get_locale())
    labels = {f["key"]: tpl.label(f["label"], lang) for f in tpl.fields_of(plan.template.sections)}
    # Only a field of the plan's template narrows the history; anything else shows it whole.
    field = request.args.get("field") or None
    if field not in labels:
        field = None
    return render_template(
        "plans/history.html", workshop=workshop, plan=plan, field=field, labels=labels,
        changes=services.history(actor, workshop, plan, field),
        writable=services.may_write(actor, workshop, plan))


@bp.route("/<int:plan_id>/restore", methods=["POST"])
@login_required
def restore(workshop_id: int, plan_id: int):
    """Restore a field or the whole plan to an earlier version (form of the history page)."""
    return _act(workshop_id, RestoreIn, services.restore,
                url_for("plans.history", workshop_id=workshop_id, plan_id=plan_id),
                _("The earlier version is back; the restore is in the history."),
                plan_id=plan_id)


@bp.route("/assign", methods=["POST"])
@login_required
def assign(workshop_id: int):
    """Put a delegate in a working group (form of the plans page)."""
    return _act(workshop_id, AssignIn, services.assign_member,
                url_for("plans.index", workshop_id=workshop_id) + "#groups",
                _("Working group changed."))


@bp.route("/join", methods=["POST"])
@login_required
def join(workshop_id: int):
    """A delegate chooses a working group (form of the plans page)."""
    return _act(workshop_id, JoinIn, services.join_group,
                url_for("plans.index", workshop_id=workshop_id),
                _("Working group changed."))


@bp.route("/lock", methods=["POST"])
@login_required
def lock(workshop_id: int):
    """Lock or unlock one plan or all of them."""
    return _act(workshop_id, LockIn, services.lock_plans,
                url_for("plans.index", workshop_id=workshop_id),
                _("Done."))


@bp.route("/spotlight", methods=["POST"])
@login_required
def spotlight(workshop_id: int):
    """Show one plan on the projector, or every plan's progress."""
    return _act(workshop_id, SpotlightIn, services.spotlight,
                url_for("plans.index", workshop_id=workshop_id),
                _("The projector follows."))


@bp.route("/template", methods=["GET", "POST"])
@login_required
def template(workshop_id: int):
    """The organiser's template editor: sections and fields in the four languages, in order,
    with new ones added below; the whole template as JSON for what the form doesn't cover.

    New plans use the saved version; plans written already keep theirs.

    :raise 403: not an organiser.
    :raise 409: another organiser saved a version meanwhile.
    :raise 422: the template is not valid (the message names the place).
    """
    actor = _actor()
    workshop = get_workshop_for("plan.template", actor, workshop_id)
    current = services.latest_template(workshop)
    data = services.template_data(workshop)
    errors: dict[str, str] = {}
    text = None
    status = 200
    if request.method == "POST":
        try:
            opened = request.form.get("version", "")
            if opened != str(current.version if current else 0):
                raise Conflict(_("Another organiser saved the template meanwhile. Reload the "
                                 "page to edit the newest version."),
                               version=_("Changed meanwhile."))
            if request.form.get("reset"):
                wanted = tpl.default_template()
            elif "template" in request.form:
                text = request.form.get("template", "")
                try:
                    wanted = json.loads(text)
                except (ValueError, RecursionError):
                    raise ValidationFailed(_("Some fields need correcting."),
                                           template=_("This is not valid JSON.")) from None
            else:
                wanted = tpl.from_form(data, request.form)
            row = services.update_template(actor, workshop, wanted)
        except WorkshopError as exc:
            db.session.rollback()
            errors = {k: str(v) for k, v in exc.fields.items()} or {"template": str(exc.message)}
            status = exc.status
        else:
            flash(_("Template saved as version %(n)s. New plans use it; plans written "
                    "already keep theirs.", n=row.version), "success")
            return redirect(url_for("plans.template", workshop_id=workshop_id))
    return (
        render_template("plans/template.html", workshop=workshop, template=data,
                        version=current.version if current else 0,
                        text=text if text is not None
                        else json.dumps(data, ensure_ascii=False, indent=2),
                        errors=errors, lang=str(get_locale()), label=tpl.label,
                        kinds=tpl.KINDS, sources=tpl.SOURCES, langs=tpl.LANGS),
        status,
    )
