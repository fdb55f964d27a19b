"""Input schemas of the voting feature: opening and driving ballots, casting, proxies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask_babel import gettext as _
from pydantic import BeforeValidator, Field, field_validator

from workshop.validation import MAX_ID, Id, Schema, chars, whole_number
from workshop.vocabulary import THEMES
from workshop.voting.models import METHODS, WEIGHTINGS

Method = Literal[tuple(METHODS)]  # type: ignore[valid-type]
Weighting = Literal[tuple(WEIGHTINGS)]  # type: ignore[valid-type]
Theme = Literal[tuple(THEMES)]  # type: ignore[valid-type]

MAX_CHOICES = 500


def _whole(value: Any) -> int:
    # Bounded like ids: a choice is an id or a small number, never an overflow.
    if isinstance(value, int) and not isinstance(value, bool) and -MAX_ID <= value <= MAX_ID:
        return value
    raise ValueError(_("Each choice must be a whole number."))


def _key(value: Any) -> int:
    number = whole_number(value)
    return _whole(value if number is None else number)


def _choices_shape(value: Any) -> Any:
    """Normalise what a phone sent: JSON object keys arrive as strings, ids must be integers.

    A list of ids stays a list (approval, ranking); a mapping becomes {id: points} or
    {id: (rating, rating)} (matrix). Which shape the ballot's method needs is checked later.
    """
    if isinstance(value, list | tuple):
        if len(value) > MAX_CHOICES:
            raise ValueError(_("Too many choices."))
        return [_whole(v) for v in value]
    if isinstance(value, dict):
        if len(value) > MAX_CHOICES:
            raise ValueError(_("Too many choices."))
        out: dict[int, Any] = {}
        for key, item in value.items():
            if isinstance(item, list | tuple):
                out[_key(key)] = tuple(_whole(v) for v in item)
            else:
                out[_key(key)] = _whole(item)
        return out
    raise ValueError(_("This value has the wrong type."))


#: What a phone may send as `choices`: a list of ids (approval, ranking), a mapping of id to
#: points (points) or to two ratings (matrix). The ballot's method decides which is right.
Choices = Annotated[Any, BeforeValidator(_choices_shape)]

SECRET_PATTERN = r"^[0-9a-f]{32,128}$"  # noqa: S105  (a shape, not a password)


class BallotOpen(Schema):
    """Open a ballot: its question, method, weighting, options and optional closing time."""

    workshop_id: Id
    title: chars(200)
    method: Method
    weighting: Weighting = "delegate"
    secret: bool = False
    scope: Literal["all", "theme", "pick"] = "all"
    theme: Theme | None = None
    proposal_ids: list[Id] = Field(default_factory=list, max_length=500)
    step_id: Id | None = None
    max_approvals: int | None = Field(default=None, ge=1, le=500)
    budget: int | None = Field(default=None, ge=1, le=1000)
    max_per_option: int | None = Field(default=None, ge=1, le=1000)
    criterion_1: chars(60, min_length=0) = ""
    criterion_2: chars(60, min_length=0) = ""
    closes_in_minutes: int | None = Field(default=None, ge=1, le=1440)

    @field_validator("proposal_ids", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        # A form with one ticked box sends a single value, not a list.
        return [value] if isinstance(value, str | int) else value


class BallotRef(Schema):
    """A payload that names a ballot of a workshop."""

    workshop_id: Id
    ballot_id: Id


class BallotExtend(Schema):
    """Move a ballot's closing time (negative shortens it); a ballot without one gets one."""

    workshop_id: Id
    ballot_id: Id
    minutes: int = Field(ge=-120, le=240)


class ResultsVisibility(Schema):
    """Show or hide a ballot's results on the screens before it closes."""

    workshop_id: Id
    ballot_id: Id
    visible: bool


class CastIn(Schema):
    """A ballot paper from a phone: choices by proposal id, the phone's secret, a proxy."""

    workshop_id: Id
    ballot_id: Id
    choices: Choices
    secret: Annotated[str, Field(pattern=SECRET_PATTERN)] | None = None
    on_behalf_of: Id | None = None
    # A secret ballot's voter who lost the secret of their paper replaces it (secrecy.py).
    replace_lost: bool = False


class PaperIn(Schema):
    """A paper ballot a facilitator types in for a delegate without a phone."""

    workshop_id: Id
    ballot_id: Id
    delegate_id: Id
    choices: Choices


class ProxyIn(Schema):
    """Let a present delegate carry an absent one's vote (or take that right back)."""

    workshop_id: Id
    holder_id: Id
    absent_id: Id
    assigned: bool = True


class SelectTopIn(Schema):
    """Carry the top N lines of work forward; `picks` settles a tie at the cut-off."""

    workshop_id: Id
    ballot_id: Id
    n: int = Field(ge=1, le=100)
    by: Literal["score", "schulze"] = "score"
    picks: list[Id] = Field(default_factory=list, max_length=100)

    @field_validator("picks", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str | int) else value


class ReceiptCheck(Schema):
    """A receipt code typed into the check form."""

    code: chars(30)
