"""API of workshops, their agenda, the network's organisations and a workshop's delegates.

Each endpoint calls the service the organisers' pages and the console call, checked by the
same rule (see the `permission` of each declaration).
"""

from __future__ import annotations

from flask_babel import gettext as _

from workshop.agenda import delegates as delegate_services
from workshop.agenda import services
from workshop.agenda.models import Delegate, Organisation, Step, Workshop
from workshop.agenda.schemas import InviteIn, OrganisationIn, StepIn, WorkshopIn
from workshop.api.core import (
    ID,
    WORKSHOP,
    actor,
    answer,
    body,
    json_body,
    operation,
    outside_workshops,
    public_url,
    token,
    workshop_for,
)
from workshop.api.schemas import (
    MAX_BULK_ROWS,
    DelegateOut,
    InvitationOut,
    InviteList,
    OrganisationOut,
    StepOut,
    WorkshopOut,
    utc,
)
from workshop.errors import ValidationFailed
from workshop.permissions import require
from workshop.validation import parse

# --- Presenting ------------------------------------------------------------------------------


def workshop_out(workshop: Workshop) -> WorkshopOut:
    """A workshop as the API shows it."""
    return WorkshopOut(
        id=workshop.id, title=workshop.title, kind=workshop.kind, starts_on=workshop.starts_on,
        ends_on=workshop.ends_on, default_locale=workshop.default_locale, place=workshop.place,
        plans_self_assign=workshop.plans_self_assign,
        plans_open_editing=workshop.plans_open_editing,
        voting_register=workshop.voting_register,
        open_participation=workshop.open_participation, join_code=workshop.join_code,
        join_url=public_url("phone.join", code=workshop.join_code),
        current_step_id=workshop.current_step_id, proposals_locked=workshop.proposals_locked,
        created_at=utc(workshop.created_at),
    )


def step_out(step: Step, workshop: Workshop) -> StepOut:
    """An agenda step as the API shows it."""
    minutes = step.duration_seconds // 60 if step.duration_seconds else None
    return StepOut(id=step.id, position=step.position, kind=step.kind, title=step.title,
                   body=step.body, duration_minutes=minutes,
                   current=workshop.current_step_id == step.id)


def organisation_out(org: Organisation) -> OrganisationOut:
    """An organisation as the API shows it."""
    return OrganisationOut(id=org.id, name=org.name, country=org.country, region=org.region,
                           type=org.type)


def delegate_out(delegate: Delegate) -> DelegateOut:
    """A delegate as the API shows it (never their invitation token)."""
    return DelegateOut(
        id=delegate.id, name=delegate.name, organisation_id=delegate.organisation_id,
        organisation=delegate.organisation.name, region=delegate.organisation.region,
        locale=delegate.locale, invited_at=utc(delegate.invited_at),
        joined_at=utc(delegate.joined_at), admitted=delegate.admitted,
        online=delegate.connections > 0, last_seen_at=utc(delegate.last_seen_at),
    )


def invitation_out(delegate: Delegate, raw: str) -> InvitationOut:
    """A new invitation: the delegate and their personal link, shown this once."""
    return InvitationOut(delegate=delegate_out(delegate), token=raw,
                         invite_url=public_url("phone.invitation", token=raw))


# --- Workshops -------------------------------------------------------------------------------


@operation("GET", "/workshops", "workshop.list", "workshop.list", tag="workshops",
           scope="global_read", out=list[WorkshopOut], errors=())
def list_workshops():
    """Workshops the token may reach.

    Organisers see every workshop, facilitators those they are assigned to; a token limited
    to one workshop sees that one only.
    """
    items = services.list_workshops(actor())
    limit = token().workshop_id
    return answer([workshop_out(w) for w in items if limit is None or w.id == limit])


@operation("POST", "/workshops", "workshop.create", "workshop.create", tag="workshops",
           scope="global", body=WorkshopIn, out=WorkshopOut, status=201, errors=(422,))
def create_workshop():
    """Create a workshop with a fresh join code (organisers)."""
    user = outside_workshops("workshop.create")
    workshop = services.create_workshop(user, body(WorkshopIn))
    return answer(workshop_out(workshop), 201)


@operation("GET", WORKSHOP, "workshop.get", "workshop.console", tag="workshops",
           out=WorkshopOut, errors=(404,))
def get_workshop(workshop_id: int):
    """One workshop: details, join code and link, current step."""
    return answer(workshop_out(workshop_for("workshop.console", workshop_id)))


@operation("PUT", WORKSHOP, "workshop.update", "workshop.update", tag="workshops",
           body=WorkshopIn, out=WorkshopOut)
def update_workshop(workshop_id: int):
    """Replace a workshop's details (organisers): every field, as in the create body."""
    workshop = workshop_for("workshop.update", workshop_id)
    workshop = services.update_workshop(actor(), workshop, body(WorkshopIn))
    return answer(workshop_out(workshop))


# --- Agenda ----------------------------------------------------------------------------------


@operation("GET", f"{WORKSHOP}/steps", "agenda.list", "workshop.console", tag="agenda",
           out=list[StepOut], errors=(404,))
def list_steps(workshop_id: int):
    """The workshop's agenda, in order; `current` marks the step every screen shows."""
    workshop = workshop_for("workshop.console", workshop_id)
    return answer([step_out(s, workshop) for s in workshop.steps])


@operation("POST", f"{WORKSHOP}/steps", "agenda.add_step", "agenda.edit", tag="agenda",
           body=StepIn, out=StepOut, status=201)
def add_step(workshop_id: int):
    """Append a step to the agenda (organisers)."""
    workshop = workshop_for("agenda.edit", workshop_id)
    step = services.add_step(actor(), workshop, body(StepIn))
    return answer(step_out(step, workshop), 201)


@operation("PUT", f"{WORKSHOP}/steps/<{ID}:step_id>", "agenda.update_step", "agenda.edit",
           tag="agenda", body=StepIn, out=StepOut)
def update_step(workshop_id: int, step_id: int):
    """Replace a step's kind, title, text and duration (organisers)."""
    workshop = workshop_for("agenda.edit", workshop_id)
    step = services.update_step(actor(), workshop, step_id, body(StepIn))
    return answer(step_out(step, workshop))


@operation("POST", f"{WORKSHOP}/steps/<{ID}:step_id>/goto", "agenda.goto", "agenda.goto",
           tag="agenda", out=StepOut, errors=(404,))
def goto_step(workshop_id: int, step_id: int):
    """Make a step current: every phone and the projector switch to it."""
    workshop = workshop_for("agenda.goto", workshop_id)
    step = services.goto_step(actor(), workshop, step_id)
    return answer(step_out(step, workshop))


# --- Organisations ---------------------------------------------------------------------------


@operation("GET", "/organisations", "organisation.list", "organisation.list",
           tag="organisations", scope="global_read", out=list[OrganisationOut], errors=())
def list_organisations():
    """The network's organisations, by region then name (their ids are what invitations
    and joins name)."""
    require("organisation.list", actor())
    return answer([organisation_out(o) for o in delegate_services.list_organisations()])


@operation("POST", "/organisations", "organisation.create", "organisation.create",
           tag="organisations", scope="global", body=OrganisationIn, out=OrganisationOut,
           status=201, errors=(409, 422))
def create_organisation():
    """Add an organisation to the network's list (organisers)."""
    user = outside_workshops("organisation.create")
    org = delegate_services.create_organisation(user, body(OrganisationIn))
    return answer(organisation_out(org), 201)


# --- Delegates -------------------------------------------------------------------------------


@operation("GET", f"{WORKSHOP}/delegates", "delegate.list", "delegate.list", tag="delegates",
           out=list[DelegateOut], errors=(404,))
def list_delegates(workshop_id: int):
    """The workshop's delegates, those who joined first, by name."""
    workshop = workshop_for("delegate.list", workshop_id)
    return answer([delegate_out(d)
                   for d in delegate_services.list_delegates(actor(), workshop)])


@operation("POST", f"{WORKSHOP}/delegates", "delegate.invite", "delegate.invite",
           tag="delegates", body=InviteIn, out=InvitationOut, status=201)
def invite_delegate(workshop_id: int):
    """Invite one delegate (organisers): the answer holds their personal link, shown once."""
    workshop = workshop_for("delegate.invite", workshop_id)
    delegate, raw = delegate_services.invite_delegate(actor(), workshop, body(InviteIn))
    return answer(invitation_out(delegate, raw), 201)


@operation("POST", f"{WORKSHOP}/delegates/import", "delegate.import", "delegate.invite",
           tag="delegates", body=InviteList, out=list[InvitationOut], status=201)
def import_delegates(workshop_id: int):
    """Invite many delegates at once (organisers): all of them, or none.

    The body is a list of invitations. Every row is checked first; if any is wrong nobody is
    invited and the problem's `errors` name each wrong field by row (`3.organisation_id` is
    the fourth row's organisation). The answer holds every personal link, shown once.
    """
    workshop = workshop_for("delegate.invite", workshop_id)
    rows = json_body()
    if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_BULK_ROWS:
        needed = _("Send a list of 1 to %(n)s invitations.", n=MAX_BULK_ROWS)
        raise ValidationFailed(needed, payload=needed)
    checked, errors = [], {}
    for number, row in enumerate(rows):
        try:
            checked.append(parse(InviteIn, row))
        except ValidationFailed as exc:
            errors.update({f"{number}.{field}": message for field, message in exc.fields.items()})
    if errors:
        raise ValidationFailed(_("Some rows need correcting: nobody was invited."), **errors)
    made = delegate_services.invite_delegates(actor(), workshop, checked)
    return answer([invitation_out(d, raw) for d, raw in made], 201)

