"""Schemas of the JSON API: the token form, and the shapes the API answers with.

Request bodies are the features' own input schemas (workshop.*.schemas): the API validates
them with `workshop.validation.parse`, as pages and socket events do. Where a feature's
schema also names ids that the API takes from the URL (`workshop_id`, `ballot_id`, ...),
`body_of` makes the documented body: the same fields without those. Responses are the models
below, so the OpenAPI document says exactly what is sent.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, create_model

from workshop.agenda.schemas import InviteIn
from workshop.validation import MAX_ID, Schema, chars

#: Rows of one bulk invitation: a workshop's delegates, with room to spare.
MAX_BULK_ROWS = 1000


class TokenIn(Schema):
    """A new API token: a name to recognise it by, and optionally the one workshop it serves."""

    name: chars(120)
    workshop_id: int | None = Field(default=None, ge=1, le=MAX_ID)


def body_of(schema: type[Schema], *from_path: str) -> type[Schema]:
    """The documented JSON body of `schema`: its fields except those the URL gives.

    Only for the OpenAPI document; requests are validated by `schema` itself.
    """
    fields = {name: (field.annotation, field) for name, field in schema.model_fields.items()
              if name not in from_path}
    return create_model(f"{schema.__name__}Body", __base__=Schema, __doc__=schema.__doc__,
                        __module__=schema.__module__, **fields)


class InviteList(RootModel[list[InviteIn]]):
    """Delegates to invite at once: every row is checked, and one bad row invites nobody."""

    root: list[InviteIn] = Field(min_length=1, max_length=MAX_BULK_ROWS)


def utc(moment: datetime | None) -> datetime | None:
    """A stored (naive UTC) time as an aware one, so it is written with its `Z`."""
    return moment.replace(tzinfo=UTC) if moment is not None else None


# --- Responses --------------------------------------------------------------------------------


class Out(BaseModel):
    """Base of every response model: what is documented is all that is sent."""

    model_config = ConfigDict(extra="forbid")


class Problem(Out):
    """An error, as RFC 9457 problem details (`application/problem+json`).

    `errors` names each wrong field (`title`, `steps.2.title`, `3.organisation_id` for the
    fourth row of a bulk request) with a message in the reader's language.
    """

    type: str = Field(description="A URI reference naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong this time, in the reader's language.")
    instance: str = Field(description="The path of the request.")
    code: str = Field(description="The kind of problem as a word: validation, forbidden, ...")
    errors: dict[str, str] = Field(default_factory=dict,
                                   description="One message per wrong or missing field.")
    current: dict[str, Any] | None = Field(
        default=None, description="Edit conflicts: the value now stored, and its version.")


class WorkshopOut(Out):
    """A workshop as its staff see it."""

    id: int
    title: str
    kind: str
    starts_on: date | None
    ends_on: date | None
    default_locale: str
    place: str
    plans_self_assign: bool
    plans_open_editing: bool
    voting_register: bool
    open_participation: bool
    join_code: str
    join_url: str
    current_step_id: int | None
    proposals_locked: bool
    created_at: datetime


class StepOut(Out):
    """One step of a workshop's agenda."""

    id: int
    position: int
    kind: str
    title: str
    body: str
    duration_minutes: int | None
    current: bool


class OrganisationOut(Out):
    """A member organisation of the network."""

    id: int
    name: str
    country: str
    region: str
    type: str


class DelegateOut(Out):
    """A delegate of a workshop (no secret: invitation links are shown once, at invitation)."""

    id: int
    name: str
    organisation_id: int
    organisation: str
    region: str
    locale: str | None
    invited_at: datetime | None
    joined_at: datetime | None
    admitted: bool
    online: bool
    last_seen_at: datetime | None


class InvitationOut(Out):
    """A personal invitation: the delegate and their link, shown this once."""

    delegate: DelegateOut
    token: str
    invite_url: str


class TranslationOut(Out):
    """A proposal's text in another language."""

    language: str
    title: str
    description: str


class ProposalOut(Out):
    """A line of work, with everything merged into it counted once per person."""

    id: int
    title: str
    description: str
    theme: str
    level: str
    tags: list[str]
    language: str
    source: str
    country: str
    region: str
    hidden: bool
    hidden_reason: str
    created_at: datetime
    updated_at: datetime
    supporters: int
    comments: int
    members: list[int] = Field(description="This proposal and every proposal merged into it.")
    organisations: list[str]
    regions: list[str]
    translations: list[TranslationOut]


class ImportOut(Out):
    """How many proposals a file added."""

    imported: int


class TurnoutOut(Out):
    """Who voted so far against who could (never what they chose). In a secret ballot a region
    where fewer than k delegates voted has `voted`: null."""

    voted: int
    eligible: int
    by_region: dict[str, dict[str, int | None]]


class BallotOut(Out):
    """A ballot and its turnout."""

    id: int
    title: str
    method: str
    weighting: str
    secret: bool
    status: Literal["open", "closed"]
    step_id: int | None
    options: list[int] = Field(description="Proposal ids on the ballot.")
    max_approvals: int | None
    budget: int | None
    max_per_option: int | None
    criterion_1: str
    criterion_2: str
    opened_at: datetime
    closes_at: datetime | None
    closed_at: datetime | None
    results_visible: bool
    hash: str | None = Field(description="Hash of every ballot paper, set at close.")
    turnout: TurnoutOut


class ResultsOut(Out):
    """A ballot's results: frozen at close, or a fresh count while it is open."""

    ballot_id: int
    frozen: bool
    results: dict[str, Any] = Field(
        description="Ranking (ties share a group), standings with score, consensus and "
                    "breakdowns by region and organisation type, turnout, Schulze (ranking "
                    "ballots), matrix (matrix ballots) and the hash of the ballot papers.")


class PaperOut(Out):
    """A paper ballot stored: the receipt code to hand to the delegate."""

    ballot_id: int
    receipt: str
    changed: bool


class PlanSummaryOut(Out):
    """An action plan in the list: its line of work and how far it is."""

    id: int
    title: str
    position: int
    proposal_id: int | None
    ballot_id: int | None
    locked: bool
    active: bool
    filled: int
    total: int
    updated_at: datetime


class PlanFieldOut(Out):
    """One field's current value, its version (send it back as `base_version`) and writer."""

    value: Any
    version: int
    by: str
    at: datetime | None


class PlanOut(PlanSummaryOut):
    """An action plan with every field and the template version it was made from."""

    vote: dict[str, Any] | None
    template_version: int
    sections: list[dict[str, Any]] = Field(
        description="The template: sections of typed fields, labelled in four languages.")
    fields: dict[str, PlanFieldOut]
    members: list[int] = Field(description="Delegate ids of the plan's working group.")


class EditOut(Out):
    """What an edit did: the field's new version and value, merged with others' or not."""

    plan_id: int
    field: str
    version: int
    value: Any
    merged: bool
    duplicate: bool
