"""Registering delegates from a spreadsheet: check every row, then invite them all, or none.

A file (CSV or XLSX, read by `workshop.spreadsheets`: bounded and off the event loop) has one
delegate a row: name, e-mail (optional), organisation, country, region, type, language. Each
row is checked on its own and against the others: organisations are matched by name (any
case) or created from the row's country, region and type; labels may be written in any of
the four languages. A preview lists every problem by row and column; only a file without a
single one is imported, in one transaction (`register`): new organisations, the delegates,
their personal invitations (`workshop.agenda.delegates.invite_delegates`) and the audit.

Invitation tokens are stored hashed, so a link can be shown only when it is made. The links
of an import (or of a re-issue) are therefore returned once, to be exported and printed at
that moment; `verify_links` checks links sent back for printing against the stored hashes.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from pydantic import ValidationError as PydanticError
from sqlalchemy.exc import IntegrityError

from workshop import heavy, spreadsheets
from workshop.agenda.delegates import hash_token, invite_delegates
from workshop.agenda.models import Delegate, Organisation, Workshop
from workshop.agenda.schemas import InviteIn
from workshop.audit.services import record
from workshop.errors import Conflict, ValidationFailed
from workshop.extensions import db
from workshop.permissions import Actor, require
from workshop.registration.schemas import IssuedLink, RegistrationRow
from workshop.spreadsheets import RowError
from workshop.validation import errors_by_field
from workshop.vocabulary import COUNTRY_REGIONS, LANGUAGES, ORG_TYPES, REGIONS, country_named

#: Delegates in one file.
MAX_ROWS = 2000

#: Column names understood in the header row, in the four languages.
HEADERS = {
    "name": ("name", "full name", "nom", "nom complet", "nombre", "nombre completo", "naam",
             "delegate", "délégué", "delegado", "afgevaardigde"),
    "email": ("email", "e-mail", "mail", "courriel", "adresse e-mail", "correo",
              "correo electrónico", "correo electronico", "e-mailadres"),
    "organisation": ("organisation", "organization", "organización", "organizacion",
                     "organisatie"),
    "country": ("country", "pays", "país", "pais", "land"),
    "region": ("region", "région", "región", "regio"),
    "type": ("type", "organisation type", "organization type", "type d'organisation",
             "tipo", "tipo de organización", "soort", "type organisatie"),
    "language": ("language", "langue", "idioma", "taal", "lang", "locale"),
}
REQUIRED = ("name", "organisation")

#: Language names a file may give instead of the codes.
LANGUAGE_NAMES = {
    "english": "en", "anglais": "en", "inglés": "en", "ingles": "en", "engels": "en",
    "french": "fr", "français": "fr", "francais": "fr", "francés": "fr", "frances": "fr",
    "frans": "fr",
    "spanish": "es", "espagnol": "es", "español": "es", "espanol": "es", "castellano": "es",
    "spaans": "es",
    "dutch": "nl", "néerlandais": "nl", "neerlandais": "nl", "neerlandés": "nl",
    "neerlandes": "nl", "nederlands": "nl", "flemish": "nl", "vlaams": "nl",
}


@dataclass
class Planned:
    """A checked row: the delegate to invite and the organisation they belong to."""

    row: int
    data: RegistrationRow
    organisation: str
    country: str
    region: str
    type: str
    organisation_id: int | None = None  # None: the organisation is created by the import

    @property
    def new_organisation(self) -> bool:
        """True when the import creates the organisation."""
        return self.organisation_id is None


@dataclass
class Preview:
    """The rows as they would be imported, and every problem found (by row and column)."""

    rows: list[Planned] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file can be imported as it is."""
        return bool(self.rows) and not self.errors

    def fields(self) -> dict[str, str]:
        """The errors as fields named `row.column` (`0.file` for the file itself)."""
        return {f"{e.row}.{e.field}": e.message for e in self.errors}


@dataclass
class Issued:
    """A personal invitation just made: the delegate, the link's token (known this once) and
    the e-mail address the file gave (for the mail merge; not stored)."""

    delegate: Delegate
    token: str
    email: str = ""


# --- Reading and checking ----------------------------------------------------------------------


def _labels(vocabulary: dict) -> dict[str, str]:
    """Keys and their labels in every language (lower case), each to its key."""
    out = {key.lower(): key for key in vocabulary}
    for lang in LANGUAGES:
        with force_locale(lang):
            out.update({str(label).lower(): key for key, label in vocabulary.items()})
    return out


def _key(text: str) -> str:
    """How two names are compared: case and surrounding spaces do not count."""
    return " ".join(text.split()).casefold()


def _normalised(raw: dict[str, str], regions: dict[str, str],
                types: dict[str, str]) -> dict[str, str]:
    """A row's cells with labels turned into keys; blanks dropped (optional fields)."""
    data = {k: v for k, v in raw.items() if v}
    if "region" in data:
        data["region"] = regions.get(data["region"].lower(), data["region"])
    if "type" in data:
        data["type"] = types.get(data["type"].lower(), data["type"])
    if "country" in data:
        data["country"] = country_named(data["country"]) or data["country"]
    if "language" in data:
        lang = data["language"].lower()
        data["language"] = LANGUAGE_NAMES.get(lang, lang)
    return data


def check_rows(workshop: Workshop, rows: list[tuple[int, dict[str, str]]]) -> Preview:
    """Check delegates given as cells by field (`name`, `email`, `organisation`, ...), each
    with its row number; nothing is changed.

    Existing organisations are matched by name (any case) and keep their own country, region
    and type; a new one needs its type, and a region (given, or known from its country). A
    name may not appear twice for one organisation, in the file or in the workshop already.
    """
    result = Preview()
    regions, types = _labels(REGIONS), _labels(ORG_TYPES)
    existing = {_key(o.name): o for o in db.session.scalars(sa.select(Organisation))}
    present = {(_key(name), org_id) for name, org_id in db.session.execute(
        sa.select(Delegate.name, Delegate.organisation_id)
        .where(Delegate.workshop_id == workshop.id))}
    created: dict[str, Planned] = {}
    seen: dict[tuple[str, str], int] = {}
    for number, raw in rows:
        try:
            data = RegistrationRow.model_validate(_normalised(raw, regions, types))
        except PydanticError as exc:
            for name, message in errors_by_field(exc).items():
                result.errors.append(RowError(number, name, message))
            continue
        planned = _plan_organisation(number, data, existing, created, result.errors)
        if planned is None:
            continue
        person = (_key(data.name), _key(planned.organisation))
        if person in seen:
            result.errors.append(RowError(number, "name", _(
                "This person is on row %(n)s already, with the same organisation.",
                n=seen[person])))
            continue
        seen[person] = number
        if planned.organisation_id is not None and (person[0], planned.organisation_id) in present:
            result.errors.append(RowError(number, "name", _(
                "A delegate of this name and organisation is in this workshop already: issue "
                "them a new link from the list instead.")))
            continue
        result.rows.append(planned)
    return result


def _plan_organisation(number: int, data: RegistrationRow, existing: dict[str, Organisation],
                       created: dict[str, Planned], errors: list[RowError]) -> Planned | None:
    """The row's organisation: an existing one, one an earlier row creates, or a new one
    (its details checked); None with the errors added when the row cannot say which."""
    org = existing.get(_key(data.organisation))
    if org is not None:
        return Planned(number, data, org.name, org.country, org.region, org.type, org.id)
    earlier = created.get(_key(data.organisation))
    if earlier is not None:
        clash = [name for name, value in (("country", data.country), ("region", data.region),
                                          ("type", data.type))
                 if value and value != getattr(earlier, name)]
        for name in clash:
            errors.append(RowError(number, name, _(
                "Row %(n)s gives this new organisation other details.", n=earlier.row)))
        if clash:
            return None
        return Planned(number, data, earlier.organisation, earlier.country, earlier.region,
                       earlier.type)
    region = data.region or COUNTRY_REGIONS.get(data.country, "")
    problems = []
    if not data.country:
        problems.append(("country", _("A new organisation needs its country.")))
    if not region:
        problems.append(("region", _("A new organisation needs its region (or a country of "
                                     "the programme).")))
    if not data.type:
        problems.append(("type", _("A new organisation needs its type.")))
    for name, message in problems:
        errors.append(RowError(number, name, message))
    if problems:
        return None
    planned = Planned(number, data, data.organisation, data.country, region, data.type or "")
    created[_key(data.organisation)] = planned
    return planned


def preview_file(workshop: Workshop, filename: str, data: bytes) -> Preview:
    """Read and check every row of a file without changing anything."""
    result = Preview()
    try:
        table = spreadsheets.read_rows(filename, data, MAX_ROWS)
    except (ValidationFailed, heavy.TooSlow) as exc:
        result.errors.append(RowError(0, "file", str(exc.message)))
        return result
    if len(table) < 2:
        result.errors.append(RowError(0, "file", _("The file has no delegates under its "
                                                   "header row.")))
        return result
    header_row, header = table[0]
    columns = spreadsheets.column_map(header, HEADERS)
    missing = [key for key in REQUIRED if key not in columns]
    for key in missing:
        result.errors.append(RowError(header_row, key,
                                      _("This column is missing from the header row.")))
    if missing:
        return result
    rows = [(number, {key: (cells[i].strip() if i < len(cells) else "")
                      for key, i in columns.items()})
            for number, cells in table[1:]]
    return check_rows(workshop, rows)


# --- Importing ---------------------------------------------------------------------------------


def register(actor: Actor, workshop: Workshop, checked: Preview,
             source: str = "") -> list[Issued]:
    """Create the new organisations and invite every delegate of a checked file, in one
    transaction; returns their links (tokens shown this once).

    :raise PermissionDenied: the actor is not an organiser.
    :raise ValidationFailed: the file has errors (nothing is changed).
    :raise Conflict: an organisation of the same name was created meanwhile (nothing is
        changed; check the file again).
    """
    require("registration.import", actor, workshop)
    if not checked.ok:
        raise ValidationFailed(_("The file has errors: nothing was imported."),
                               **(checked.fields() or {"0.file": _("The file is empty.")}))
    try:
        ids = _create_organisations(actor, checked.rows)
        record(actor, "registration.import", workshop.id, source=source[:200],
               count=len(checked.rows), organisations_created=len(set(ids.values())))
        invitations = [InviteIn(name=p.data.name,
                                organisation_id=p.organisation_id or ids[_key(p.organisation)],
                                locale=p.data.language or workshop.default_locale)
                       for p in checked.rows]
        made = invite_delegates(actor, workshop, invitations)  # commits the whole import
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("An organisation of the same name was added meanwhile: check the "
                         "file again.")) from None
    except Exception:
        db.session.rollback()
        raise
    return [Issued(delegate, token, p.data.email)
            for (delegate, token), p in zip(made, checked.rows, strict=True)]


def _create_organisations(actor: Actor, rows: list[Planned]) -> dict[str, int]:
    """Add the organisations the rows create (flushed, audited, not committed), by name key."""
    ids: dict[str, int] = {}
    for p in rows:
        if not p.new_organisation or _key(p.organisation) in ids:
            continue
        require("organisation.create", actor)
        org = Organisation(name=p.organisation, country=p.country, region=p.region, type=p.type)
        db.session.add(org)
        db.session.flush()
        record(actor, "organisation.create", None, organisation_id=org.id, name=org.name,
               imported=True)
        ids[_key(p.organisation)] = org.id
    return ids


def import_file(actor: Actor, workshop: Workshop, filename: str, data: bytes) -> list[Issued]:
    """Check a file and, if every row is right, register all its delegates (`register`).

    :raise PermissionDenied: the actor is not an organiser.
    :raise ValidationFailed: the file has errors, each named `row.column` (nothing imported).
    :raise Conflict: see `register`.
    """
    require("registration.import", actor, workshop)
    return register(actor, workshop, preview_file(workshop, filename, data), filename)


# --- Links made earlier, sent back to be printed -------------------------------------------------


def verify_links(actor: Actor, workshop: Workshop, links: list[IssuedLink]) -> list[Issued]:
    """The delegates of links issued a moment ago, each link checked against the stored hash,
    so only links that still work are exported or printed.

    :raise PermissionDenied: the actor is not an organiser.
    :raise ValidationFailed: a link is not (or no longer) the delegate's, named by its
        position (`3.token`).
    """
    require("delegate.invite", actor, workshop)
    wanted = {link.delegate_id for link in links}
    delegates = {d.id: d for d in db.session.scalars(
        sa.select(Delegate).where(Delegate.workshop_id == workshop.id,
                                  Delegate.id.in_(wanted)))}
    issued, errors = [], {}
    for n, link in enumerate(links):
        delegate = delegates.get(link.delegate_id)
        if delegate is None or delegate.invite_token_hash is None or not hmac.compare_digest(
                delegate.invite_token_hash, hash_token(link.token)):
            errors[f"{n}.token"] = _("This link was replaced or withdrawn since.")
            continue
        issued.append(Issued(delegate, link.token, link.email))
    if errors:
        raise ValidationFailed(_("Some links no longer work: issue new ones from the list."),
                               **errors)
    return issued
