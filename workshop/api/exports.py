"""API of exports: each table as CSV, every table as a ZIP of CSVs, as XLSX and as JSON.

The same tables, permission rules and files as the organisers' pages (workshop.exports):
`workshop.export` (organisers, and facilitators of the workshop); the audit log also needs
`audit.view` (organisers), so a facilitator's ZIP, XLSX and JSON leave it out. CSV, ZIP and
JSON are streamed; headings and labels follow `Accept-Language`.

Each table has its own path (`/exports/<table>.csv`, declared in a loop below) rather than a
path parameter, so every operation declares its own permission rule.
"""

from __future__ import annotations

from collections.abc import Callable

from workshop.api.core import WORKSHOP, actor, operation, workshop_for
from workshop.exports import downloads
from workshop.exports import tables as export_tables
from workshop.exports.formats import CSV_TYPE, XLSX_TYPE, ZIP_TYPE
from workshop.exports.schemas import ExportOut
from workshop.exports.tables import Table

EXPORTS = f"{WORKSHOP}/exports"


def _csv_operation(table: Table) -> Callable:
    """Declare the download of one table as CSV."""

    def export_table_csv(workshop_id: int):
        workshop = workshop_for("workshop.export", workshop_id)
        return downloads.csv_download(
            export_tables.table_for(actor(), workshop, table.name), workshop)

    export_table_csv.__name__ = f"export_{table.name}_csv"
    export_table_csv.__doc__ = (
        f"The `{table.name}` table as CSV: UTF-8 with a byte order mark, headings in the "
        f"reader's language, streamed.\n\nColumns: {', '.join(table.keys)}. Text a "
        f"spreadsheet would run as a formula starts with a single quote.")
    return operation(
        "GET", f"{EXPORTS}/{table.name}.csv", f"export.csv.{table.name}",
        table.permission or "workshop.export", tag="exports",
        out=(None, f"The table as a CSV file ({CSV_TYPE})."), errors=(404,),
    )(export_table_csv)


for _table in export_tables.TABLES.values():
    _csv_operation(_table)


@operation("GET", f"{EXPORTS}/all.zip", "export.zip", "workshop.export", tag="exports",
           out=(None, f"One CSV file per table in a ZIP archive ({ZIP_TYPE})."), errors=(404,))
def export_zip(workshop_id: int):
    """Every table the token's owner may export, one CSV file each (`<table>.csv`), in one
    ZIP archive; streamed."""
    workshop = workshop_for("workshop.export", workshop_id)
    return downloads.zip_download(export_tables.tables_for(actor(), workshop), workshop)


@operation("GET", f"{EXPORTS}/all.xlsx", "export.xlsx", "workshop.export", tag="exports",
           out=(None, f"One sheet per table ({XLSX_TYPE})."), errors=(404, 503))
def export_xlsx(workshop_id: int):
    """Every table the token's owner may export, one sheet each, in an XLSX workbook
    (headings in the first row; text a spreadsheet would run as a formula starts with a
    single quote)."""
    workshop = workshop_for("workshop.export", workshop_id)
    return downloads.xlsx_download(export_tables.tables_for(actor(), workshop), workshop)


@operation("GET", f"{EXPORTS}/all.json", "export.json", "workshop.export", tag="exports",
           out=ExportOut, errors=(404,))
def export_json(workshop_id: int):
    """Every table the token's owner may export in one JSON document; streamed.

    A secret ballot's papers are as published at close (receipt codes apart from choices),
    and its results hold no group of fewer than k voters.
    """
    workshop = workshop_for("workshop.export", workshop_id)
    return downloads.json_download(export_tables.tables_for(actor(), workshop), workshop)
