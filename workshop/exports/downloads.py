"""The export files as HTTP responses, for the organisers' pages and the API alike.

CSV, ZIP and JSON stream: a generator reads the rows from the database a batch at a time and
sends each piece as soon as it is written, so neither the whole file nor the whole table is
ever held, and the server keeps serving phones in between. XLSX cannot be sent before it is
finished: its rows are read here, and openpyxl (write-only mode) writes the workbook into a
temporary file off the event loop (`heavy.run`: the gevent hub's thread pool under the
server), which is then streamed from disk.

The caller checks the permission first (`tables.tables_for` / `tables.table_for`), so a
refusal is a proper 403 and never a broken download.

The responses are plain werkzeug responses, not Flask's: spectree (which wraps every API
endpoint) reads the whole body of a `flask.Response` to validate it, even with validation
skipped, which would hold a streamed export in memory (and cannot read a file sent as it is).
Flask turns a werkzeug response into its own by changing its class, never reading the body.
tests/exports check that the pages and the API both stream.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from flask import request, stream_with_context
from flask_babel import get_locale
from werkzeug.utils import send_file
from werkzeug.wrappers import Response

from workshop import heavy
from workshop.agenda.models import Workshop
from workshop.db import utcnow
from workshop.documents import slug
from workshop.exports import formats
from workshop.exports.tables import Table

#: The version of the JSON document's shape (bump it when the shape changes).
FORMAT = 1
#: The longest a workbook may take to write (a workshop's tables are far smaller).
XLSX_TIMEOUT = 120.0


def file_stem(workshop: Workshop) -> str:
    """An ASCII file name stem for the workshop's exports."""
    return slug(workshop.title, f"workshop-{workshop.id}")


def headings(table: Table) -> list[str]:
    """The table's column headings in the reader's language."""
    return [str(c.label) for c in table.columns]


def rows_of(table: Table, workshop: Workshop) -> Iterator[list[Any]]:
    """The table's rows as lists of values in the columns' order."""
    keys = table.keys
    for row in table.rows(workshop):
        yield [row.get(key) for key in keys]


def _private(response: Response, filename: str) -> Response:
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _streamed(pieces: Iterable[bytes], mimetype: str, filename: str) -> Response:
    """A response sent piece by piece, in the request's context (database, language)."""
    response = Response(stream_with_context(iter(pieces)), mimetype=mimetype)
    return _private(response, filename)


def csv_download(table: Table, workshop: Workshop) -> Response:
    """One table as a streamed CSV file."""
    pieces = formats.csv_chunks(headings(table), rows_of(table, workshop))
    return _streamed(pieces, formats.CSV_TYPE, f"{file_stem(workshop)}-{table.name}.csv")


def zip_download(tables: Sequence[Table], workshop: Workshop) -> Response:
    """Every table as a CSV file in one streamed ZIP."""
    files = ((f"{t.name}.csv", formats.csv_chunks(headings(t), rows_of(t, workshop)))
             for t in tables)
    return _streamed(formats.zip_chunks(files), formats.ZIP_TYPE,
                     f"{file_stem(workshop)}-csv.zip")


def document_head(workshop: Workshop) -> dict[str, Any]:
    """The JSON document's members before its tables."""
    return {
        "format": FORMAT,
        "language": str(get_locale() or "en"),
        "generated_at": formats.utc_text(utcnow()),
        "workshop": {"id": workshop.id, "title": workshop.title, "kind": workshop.kind,
                     "place": workshop.place,
                     "starts_on": formats.utc_text(workshop.starts_on)
                     if workshop.starts_on else None,
                     "ends_on": formats.utc_text(workshop.ends_on) if workshop.ends_on else None,
                     "default_language": workshop.default_locale},
    }


def json_download(tables: Sequence[Table], workshop: Workshop) -> Response:
    """Every table in one streamed JSON document (see `formats.json_chunks`)."""
    head = document_head(workshop)
    parts = (formats.JsonTable(t.name, str(t.title), [(c.key, str(c.label)) for c in t.columns],
                               t.rows(workshop)) for t in tables)
    return _streamed(formats.json_chunks(head, parts), formats.JSON_TYPE,
                     f"{file_stem(workshop)}.json")


def xlsx_download(tables: Sequence[Table], workshop: Workshop) -> Response:
    """Every table as one sheet of a workbook, written off the event loop into a temporary
    file that is then streamed.

    :raise heavy.TooSlow: writing took longer than XLSX_TIMEOUT.
    """
    sheets = [formats.Sheet(str(t.title), headings(t), list(rows_of(t, workshop)))
              for t in tables]
    # Closed by the response once sent (or here, if writing fails).
    target = tempfile.TemporaryFile(prefix="workshop-export-", suffix=".xlsx")  # noqa: SIM115
    try:
        heavy.run(formats.write_xlsx, sheets, target, timeout=XLSX_TIMEOUT)
    except BaseException:
        target.close()
        raise
    response = send_file(target, request.environ, mimetype=formats.XLSX_TYPE,
                         as_attachment=True, download_name=f"{file_stem(workshop)}.xlsx",
                         max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
