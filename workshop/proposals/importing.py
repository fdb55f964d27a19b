"""Importing the input priorities of country consultations from CSV or XLSX files.

The file is read by `workshop.spreadsheets` (bounded in size, rows and time, off the event
loop), every row is validated, and only a file without a single bad row is imported, in one
transaction: a bad row never half-imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from pydantic import ValidationError as PydanticError

from workshop import heavy, spreadsheets
from workshop.agenda.models import Organisation, Workshop
from workshop.audit.services import record
from workshop.errors import ValidationFailed
from workshop.extensions import db
from workshop.permissions import Actor, require
from workshop.proposals.models import Proposal
from workshop.proposals.schemas import ImportRow
from workshop.spreadsheets import RowError
from workshop.validation import errors_by_field
from workshop.vocabulary import COUNTRY_REGIONS, LEVELS, THEMES, country_named

MAX_ROWS = 5000

#: Column names understood in the header row, in the four languages.
HEADERS = {
    "title": ("title", "titre", "título", "titulo", "titel"),
    "description": ("description", "descripción", "descripcion", "beschrijving",
                    "omschrijving"),
    "theme": ("theme", "thème", "tema", "thema"),
    "level": ("level", "niveau", "nivel"),
    "organisation": ("organisation", "organization", "organización", "organizacion",
                     "organisatie"),
    "country": ("country", "pays", "país", "pais", "land"),
    "language": ("language", "langue", "idioma", "taal", "lang"),
}


@dataclass
class ImportPreview:
    """The rows as they would be imported, and every error found."""

    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file can be imported as it is."""
        return bool(self.rows) and not self.errors


def _labels(vocabulary: dict) -> dict[str, str]:
    """Map keys and their labels in every language (lower case) to the key."""
    out = {key.lower(): key for key in vocabulary}
    for lang in ("en", "fr", "es", "nl"):
        with force_locale(lang):
            out.update({str(label).lower(): key for key, label in vocabulary.items()})
    return out


def preview(filename: str, data: bytes) -> ImportPreview:
    """Validate every row of a file without changing anything."""
    result = ImportPreview()
    try:
        table = spreadsheets.read_rows(filename, data, MAX_ROWS)
    except (ValidationFailed, heavy.TooSlow) as exc:
        result.errors.append(RowError(0, "file", str(exc.message)))
        return result
    if not table:
        result.errors.append(RowError(0, "file", _("The file is empty.")))
        return result
    columns = spreadsheets.column_map(table[0][1], HEADERS)
    missing = [k for k in ("title", "theme", "level", "language") if k not in columns]
    if "organisation" not in columns and "country" not in columns:
        missing.append("organisation")
    for key in missing:
        result.errors.append(RowError(1, key, _("This column is missing from the header row.")))
    if missing:
        return result
    themes, levels = _labels(THEMES), _labels(LEVELS)
    orgs = {o.name.lower(): o for o in db.session.scalars(sa.select(Organisation))}
    for number, cells in table[1:]:
        raw = {k: (cells[i].strip() if i < len(cells) else "") for k, i in columns.items()}
        raw["theme"] = themes.get(raw["theme"].lower(), raw["theme"])
        raw["level"] = levels.get(raw["level"].lower(), raw["level"])
        raw["language"] = raw["language"].lower()
        try:
            row = ImportRow.model_validate(raw)
        except PydanticError as exc:
            for name, message in errors_by_field(exc).items():
                result.errors.append(RowError(number, name, message))
            continue
        org = orgs.get(row.organisation.lower()) if row.organisation else None
        if row.organisation and org is None:
            result.errors.append(RowError(number, "organisation", _("Unknown organisation.")))
            continue
        country = org.country if org else (country_named(row.country) or row.country)
        region = org.region if org else COUNTRY_REGIONS.get(country, "")
        if not country:
            result.errors.append(RowError(number, "country",
                                          _("Give an organisation or a country.")))
            continue
        if not region:
            result.errors.append(RowError(number, "country", _("Unknown country.")))
            continue
        result.rows.append({
            "row": number, "title": row.title, "description": row.description,
            "theme": row.theme, "level": row.level, "language": row.language,
            "organisation_id": org.id if org else None,
            "organisation": org.name if org else "", "country": country, "region": region,
        })
    return result


def import_proposals(actor: Actor, workshop: Workshop, filename: str, data: bytes) -> int:
    """Import every row of the file as a proposal, or none at all.

    :raise PermissionDenied: not an organiser.
    :raise ValidationFailed: the file has errors (see `preview` for the list).
    """
    require("proposal.import", actor, workshop)
    checked = preview(filename, data)
    if not checked.ok:
        raise ValidationFailed(_("The file has errors: nothing was imported."),
                               file=_("%(n)s errors.", n=len(checked.errors)))
    for row in checked.rows:
        db.session.add(Proposal(
            workshop_id=workshop.id, title=row["title"], description=row["description"],
            theme=row["theme"], level=row["level"], tags=[], language=row["language"],
            source="import", organisation_id=row["organisation_id"], country=row["country"],
            region=row["region"],
        ))
    record(actor, "proposal.import", workshop.id, filename=filename[:200],
           count=len(checked.rows))
    db.session.commit()
    return len(checked.rows)
