"""Importing the input priorities of country consultations from CSV or XLSX files.

A file is read whole, every row is validated, and only a file without a single bad row is
imported, in one transaction: a bad row never half-imports.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import load_workbook
from pydantic import ValidationError as PydanticError

from workshop.agenda.models import Organisation, Workshop
from workshop.audit.services import record
from workshop.errors import ValidationFailed
from workshop.extensions import db
from workshop.permissions import Actor, require
from workshop.proposals.models import Proposal
from workshop.proposals.schemas import ImportRow
from workshop.validation import errors_by_field
from workshop.vocabulary import COUNTRY_REGIONS, LEVELS, THEMES

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024

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
class RowError:
    """What is wrong with one cell (or the whole file when `row` is 0)."""

    row: int
    field: str
    message: str


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


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            _("The file is not UTF-8 text (byte %(n)s). Save it as “CSV UTF-8” and try again.",
              n=exc.start + 1), file=_("Wrong encoding.")) from None
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    csv.field_size_limit(MAX_BYTES)
    return [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]


def _read_xlsx(data: bytes) -> list[list[str]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise ValidationFailed(_("This is not a readable XLSX file."),
                               file=_("Unreadable file.")) from None
    sheet = book.worksheets[0]
    rows = []
    for values in sheet.iter_rows(values_only=True):
        cells = ["" if v is None else str(v) for v in values]
        if any(c.strip() for c in cells):
            rows.append(cells)
    book.close()
    return rows


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """The file's rows of cells (CSV or XLSX).

    :raise ValidationFailed: unknown type, too large, wrong encoding, unreadable.
    """
    if len(data) > MAX_BYTES:
        raise ValidationFailed(_("The file is larger than 5 MB."), file=_("Too large."))
    name = filename.lower()
    if name.endswith(".csv") or name.endswith(".txt"):
        return _read_csv(data)
    if name.endswith(".xlsx"):
        return _read_xlsx(data)
    raise ValidationFailed(_("Upload a .csv or .xlsx file."), file=_("Unknown file type."))


def preview(filename: str, data: bytes) -> ImportPreview:
    """Validate every row of a file without changing anything."""
    result = ImportPreview()
    try:
        table = read_table(filename, data)
    except ValidationFailed as exc:
        result.errors.append(RowError(0, "file", str(exc.message)))
        return result
    if not table:
        result.errors.append(RowError(0, "file", _("The file is empty.")))
        return result
    header = [c.strip().lower() for c in table[0]]
    columns: dict[str, int] = {}
    for key, names in HEADERS.items():
        for i, name in enumerate(header):
            if name in names:
                columns[key] = i
                break
    missing = [k for k in ("title", "theme", "level", "language") if k not in columns]
    if "organisation" not in columns and "country" not in columns:
        missing.append("organisation")
    for key in missing:
        result.errors.append(RowError(1, key, _("This column is missing from the header row.")))
    if missing:
        return result
    if len(table) - 1 > MAX_ROWS:
        result.errors.append(RowError(0, "file", _("At most %(n)s rows at a time.", n=MAX_ROWS)))
        return result
    themes, levels = _labels(THEMES), _labels(LEVELS)
    orgs = {o.name.lower(): o for o in db.session.scalars(sa.select(Organisation))}
    for number, cells in enumerate(table[1:], start=2):
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
        country = org.country if org else row.country
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
