"""Input schemas of action plans (socket events, forms and the JSON API alike)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from workshop.validation import MAX_ID, Schema


class WorkshopPayload(Schema):
    """Every plan event names the workshop the socket is connected to."""

    workshop_id: int = Field(ge=1, le=MAX_ID)


class PlanRef(WorkshopPayload):
    """One plan of the workshop."""

    plan_id: int = Field(ge=1, le=MAX_ID)


class EditIn(PlanRef):
    """A new value of one field, written from the version `base_version` the phone had.

    `value` is a string (text fields, a single choice) or a list (a multiple choice's keys,
    a list's or table's rows); the field's kind decides what is valid (checked in the
    service against the plan's template). `edit_id` makes a resend idempotent.
    """

    field: str = Field(min_length=1, max_length=40)
    base_version: int = Field(ge=0, le=MAX_ID)
    value: str | list[Any]
    edit_id: str | None = Field(default=None, min_length=8, max_length=40,
                                pattern=r"^[A-Za-z0-9_-]+$")


class RestoreIn(PlanRef):
    """Bring back the version saved by one change: of its field, or of the whole plan."""

    change_id: int = Field(ge=1, le=MAX_ID)
    scope: Literal["field", "plan"] = "field"


class AssignIn(WorkshopPayload):
    """Put a delegate in a plan's working group (`plan_id` null: in none)."""

    delegate_id: int = Field(ge=1, le=MAX_ID)
    plan_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class JoinIn(WorkshopPayload):
    """A delegate chooses a working group (`plan_id` null: leaves theirs)."""

    plan_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class LockIn(WorkshopPayload):
    """Lock or unlock one plan, or (no `plan_id`) every plan of the workshop."""

    plan_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    locked: bool = True


class SpotlightIn(WorkshopPayload):
    """Show one plan on the projector (`plan_id` null: every plan's progress)."""

    plan_id: int | None = Field(default=None, ge=1, le=MAX_ID)
