"""Input schemas of proposals and discussion."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from workshop.agenda.schemas import Language
from workshop.validation import Id, Schema, chars
from workshop.vocabulary import LEVELS, TAGS, THEMES

Theme = Literal[tuple(THEMES)]  # type: ignore[valid-type]
Level = Literal[tuple(LEVELS)]  # type: ignore[valid-type]
Tag = Literal[tuple(TAGS)]  # type: ignore[valid-type]
#: An idempotency key made by the sender (the page or the phone's outbox) for one action.
RequestId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,40}$")]


class ProposalIn(Schema):
    """A line of work as a delegate submits it."""

    title: chars(200)
    description: chars(5000, min_length=0, multiline=True) = ""
    theme: Theme
    level: Level
    tags: list[Tag] = Field(default_factory=list, max_length=len(TAGS))
    language: Language | None = None
    request_id: RequestId | None = None

    @field_validator("tags", mode="before")
    @classmethod
    def _one_tag_is_a_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class ProposalRef(Schema):
    """A payload naming one proposal of a workshop."""

    workshop_id: Id
    proposal_id: Id


class ProposalCreate(ProposalIn):
    """Socket payload of `proposal.create`."""

    workshop_id: Id


class SupportIn(ProposalRef):
    """Give (true) or withdraw (false) a +1."""

    on: bool = True


class CommentIn(ProposalRef):
    """A comment, or a reply when `parent_id` is given."""

    body: chars(2000, multiline=True)
    parent_id: Id | None = None
    request_id: RequestId | None = None


class TranslationIn(Schema):
    """A proposal's text in another language."""

    language: Language
    title: chars(200)
    description: chars(5000, min_length=0, multiline=True) = ""


class TranslationCreate(ProposalRef):
    """Socket payload of `proposal.translate` (author, staff) and `translation.suggest`
    (other delegates): a proposal's text in another language."""

    language: Language
    title: chars(200)
    description: chars(5000, min_length=0, multiline=True) = ""


class SuggestionRef(Schema):
    """A payload naming one suggested translation (`translation.accept`, `.reject`)."""

    workshop_id: Id
    suggestion_id: Id


class EditIn(Schema):
    """A moderator's edit of a proposal's text (the old text is kept)."""

    title: chars(200)
    description: chars(5000, min_length=0, multiline=True) = ""
    theme: Theme
    level: Level


class HideIn(Schema):
    """Hide (with a reason) or show again."""

    hidden: bool = True
    reason: chars(500, min_length=0) = ""


class MergeIn(Schema):
    """Merge two or more proposals into one line of work."""

    proposal_ids: list[Id] = Field(min_length=2, max_length=50)
    title: chars(200)
    description: chars(5000, min_length=0, multiline=True) = ""

    @field_validator("proposal_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        return [value] if isinstance(value, str | int) else value


class LockIn(Schema):
    """Lock or unlock new submissions."""

    locked: bool


class ImportRow(Schema):
    """One row of an imported file of input priorities (after header mapping)."""

    title: chars(200)
    description: chars(5000, min_length=0, multiline=True) = ""
    theme: Theme
    level: Level
    organisation: chars(200, min_length=0) = ""
    country: chars(80, min_length=0) = ""
    language: Language
