"""API of action plans: the list with progress, one plan with every field, and field edits.

An edit goes through `plan.edit` exactly as a phone's does: sent with the `base_version` it
was written from, merged with what others saved since where the changes do not overlap, and
refused with both versions (409, `current`) where they do; an `edit_id` makes a retry safe.
"""

from __future__ import annotations

from workshop.api.core import ID, WORKSHOP, actor, answer, body, operation, workshop_for
from workshop.api.schemas import EditOut, PlanFieldOut, PlanOut, PlanSummaryOut, body_of, utc
from workshop.plans import services
from workshop.plans.models import Plan
from workshop.plans.schemas import EditIn

PLAN = f"{WORKSHOP}/plans/<{ID}:plan_id>"


def _summary(plan: Plan) -> dict:
    progress = services.progress(plan)
    return {"id": plan.id, "title": plan.title, "position": plan.position,
            "proposal_id": plan.proposal_id, "ballot_id": plan.ballot_id,
            "locked": plan.locked, "active": plan.active, "filled": progress["filled"],
            "total": progress["total"], "updated_at": utc(plan.updated_at)}


@operation("GET", f"{WORKSHOP}/plans", "plan.list", "plan.view", tag="plans",
           out=list[PlanSummaryOut], errors=(404,))
def list_plans(workshop_id: int):
    """The workshop's action plans in the order of the vote (set-aside ones too, marked
    inactive), with how many fields each has filled."""
    workshop = workshop_for("plan.view", workshop_id)
    plans = services.list_plans(actor(), workshop, include_inactive=True)
    return answer([PlanSummaryOut(**_summary(p)) for p in plans])


@operation("GET", PLAN, "plan.get", "plan.view", tag="plans", out=PlanOut, errors=(404,))
def get_plan(workshop_id: int, plan_id: int):
    """One action plan: its template, every field's value and version, its working group."""
    workshop = workshop_for("plan.view", workshop_id)
    plan = services.get_plan(actor(), workshop, plan_id)
    fields = {f.key: PlanFieldOut(value=f.value, version=f.version, by=f.updated_by,
                                  at=utc(f.updated_at)) for f in plan.fields}
    return answer(PlanOut(
        **_summary(plan), vote=plan.vote, template_version=plan.template.version,
        sections=plan.template.sections["sections"], fields=fields,
        members=[d.id for d in services.members_of(plan)]))


@operation("POST", f"{PLAN}/edits", "plan.edit", "plan.edit", tag="plans",
           body=body_of(EditIn, "workshop_id", "plan_id"), out=EditOut, errors=(404, 409, 422))
def edit_field(workshop_id: int, plan_id: int):
    """Save a new value of one field, written from the version `base_version` you read.

    Changes others saved since are merged in where they do not overlap; where they do,
    nothing is stored and the 409 problem carries `current` (the stored value and version).
    Send the same `edit_id` again after a network failure: the edit is stored once.
    """
    workshop = workshop_for("plan.edit", workshop_id)
    data = body(EditIn, workshop_id=workshop_id, plan_id=plan_id)
    return answer(EditOut(**services.edit_field(actor(), workshop, data).as_dict()))
