"""Input schemas of registration: one delegate of an imported file, and links to print."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from pydantic import Field, RootModel, field_validator

from workshop.agenda.schemas import Language, OrgType, Region
from workshop.validation import Schema, chars

#: A plain check of an e-mail address (one @, a dot in the domain, no spaces): the address is
#: only handed to the organisers' mail merge, never used to send anything from here.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
#: Links printed or exported at once: a workshop's delegates, with room to spare.
MAX_ISSUED = 2000


class RegistrationRow(Schema):
    """One delegate of an imported file, once its header is mapped and its labels read
    (regions, types, countries and languages as the vocabulary's keys)."""

    name: chars(120)
    email: chars(254, min_length=0) = ""
    organisation: chars(200)
    country: chars(80, min_length=0) = ""
    region: Region | None = None
    type: OrgType | None = None
    language: Language | None = None

    @field_validator("email")
    @classmethod
    def _an_address(cls, email: str) -> str:
        if email and not EMAIL.match(email):
            raise ValueError(_("Enter an e-mail address such as name@example.org."))
        return email


class IssuedLink(Schema):
    """A personal link just issued, as the organiser's page sends it back to be printed or
    exported: the delegate, the link's token (checked against the stored hash) and the e-mail
    address the file gave (not stored)."""

    delegate_id: int = Field(ge=1, le=2**31 - 1)
    token: chars(200)
    email: chars(254, min_length=0) = ""


class IssuedLinks(RootModel[list[IssuedLink]]):
    """The links of one import or re-issue."""

    root: list[IssuedLink] = Field(min_length=1, max_length=MAX_ISSUED)


class ReissueIn(Schema):
    """Delegates whose links are replaced at once."""

    delegate_ids: list[int] = Field(min_length=1, max_length=MAX_ISSUED)

    @field_validator("delegate_ids")
    @classmethod
    def _ids(cls, ids: list[int]) -> list[int]:
        if any(not 1 <= i <= 2**31 - 1 for i in ids):
            raise ValueError(_("Choose delegates from the list."))
        return ids
