"""Input schemas of the agenda feature (workshops, steps, timer, joining)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from flask_babel import gettext as _
from pydantic import Field, ValidationInfo, field_validator

from workshop.validation import Id, Schema, chars
from workshop.vocabulary import LANGUAGES, ORG_TYPES, REGIONS, STEP_KINDS, WORKSHOP_KINDS

Language = Literal[tuple(LANGUAGES)]  # type: ignore[valid-type]
StepKind = Literal[tuple(STEP_KINDS)]  # type: ignore[valid-type]
WorkshopKind = Literal[tuple(WORKSHOP_KINDS)]  # type: ignore[valid-type]
Region = Literal[tuple(REGIONS)]  # type: ignore[valid-type]
OrgType = Literal[tuple(ORG_TYPES)]  # type: ignore[valid-type]


class WorkshopIn(Schema):
    """Create or edit a workshop."""

    title: chars(200)
    kind: WorkshopKind
    starts_on: date | None = None
    ends_on: date | None = None
    default_locale: Language = "en"
    place: chars(200, min_length=0) = ""
    plans_self_assign: bool = False
    plans_open_editing: bool = False
    voting_register: bool = False
    open_participation: bool = False

    @field_validator("ends_on")
    @classmethod
    def _dates_in_order(cls, ends_on: date | None, info: ValidationInfo) -> date | None:
        starts_on = info.data.get("starts_on")
        if starts_on and ends_on and ends_on < starts_on:
            raise ValueError(_("The workshop cannot end before it starts."))
        return ends_on


class StepIn(Schema):
    """Add or edit an agenda step."""

    kind: StepKind
    title: chars(200)
    body: chars(5000, min_length=0, multiline=True) = ""
    duration_minutes: int | None = Field(default=None, ge=1, le=600)


class StepRef(Schema):
    """A socket or API payload that names a step of a workshop."""

    workshop_id: Id
    step_id: Id


class WorkshopRef(Schema):
    """A payload that names a workshop only."""

    workshop_id: Id


class TimerStart(Schema):
    """Start or resume the current step's timer; `seconds` sets a fresh duration."""

    workshop_id: Id
    seconds: int | None = Field(default=None, ge=1, le=36000)


class TimerExtend(Schema):
    """Add time to the current step's timer (negative shortens it)."""

    workshop_id: Id
    seconds: int = Field(ge=-3600, le=3600)


class MessageIn(Schema):
    """A message the facilitator pushes to every screen."""

    workshop_id: Id
    text: chars(500, min_length=0) = ""


class SpotlightIn(Schema):
    """Put a line of work on the projector (`proposal_id` null: take it off)."""

    workshop_id: Id
    proposal_id: Id | None = None


class MoveIn(Schema):
    """Move a step up or down the agenda."""

    direction: Literal["up", "down"]


class JoinCodeIn(Schema):
    """The code a delegate types on the landing page."""

    code: chars(20)


class JoinIn(Schema):
    """What a delegate gives to join: a name, an organisation, a language."""

    name: chars(120)
    organisation_id: Id
    locale: Language | None = None


class InviteIn(Schema):
    """A personal invitation an organiser makes for one delegate."""

    name: chars(120)
    organisation_id: Id
    locale: Language | None = None


class OrganisationIn(Schema):
    """A member organisation."""

    name: chars(200)
    country: chars(80)
    region: Region
    type: OrgType


class AssignIn(Schema):
    """Assign or unassign a facilitator."""

    user_id: Id
    assigned: bool = True


class AdmitIn(Schema):
    """Admit a delegate to the voting register, or reject their join."""

    workshop_id: Id
    delegate_id: Id
    admitted: bool = True


class LocaleIn(Schema):
    """A language choice."""

    locale: Language
