"""Writing tables as CSV (alone or in a ZIP), XLSX and JSON, in pieces so a download streams.

Pure: headings and rows in, bytes (or a file) out; no Flask, no database.

Cells a spreadsheet would run as a formula (text starting with `=`, `+`, `-`, `@`, a tab or
a carriage return) get a leading single quote in CSV and XLSX, so a delegate's proposal titled
`=HYPERLINK(...)` is shown as text, never run on the organiser's laptop (OWASP's "CSV
injection"). Numbers, dates and booleans stay typed: only text is neutralised. JSON is data
for programs and is written as it is.

CSV: UTF-8 with a byte order mark (spreadsheets then read accents and non-Latin scripts right),
comma-separated, CRLF line ends, times in ISO 8601 UTC (`2027-03-01T09:30:00Z`), booleans
`true`/`false`, lists of plain values joined by ", ", anything nested as compact JSON.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
ZIP_TYPE = "application/zip"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_TYPE = "application/json"
#: Bytes gathered before a piece of a download is sent.
CHUNK = 64 * 1024
#: The most characters an XLSX cell may hold (Excel refuses a file with more).
XLSX_MAX_CELL = 32767
#: Sheet names: at most 31 characters, none of these.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def neutralise(text: str) -> str:
    """Text a spreadsheet would run as a formula, made plain text by a leading quote."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def utc_text(moment: datetime | date) -> str:
    """A stored (naive UTC) time in ISO 8601 with its Z; a date as YYYY-MM-DD."""
    if isinstance(moment, datetime):
        return moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    return moment.isoformat()


def _compound_text(value: list | tuple | dict) -> str:
    if isinstance(value, list | tuple) and all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=json_default)


def text_cell(value: Any) -> str:
    """A value as the text of a CSV cell (neutralised)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime | date):
        return utc_text(value)
    if isinstance(value, list | tuple | dict):
        return neutralise(_compound_text(value))
    return neutralise(str(value))


def xlsx_cell(value: Any) -> Any:
    """A value as an XLSX cell: numbers, booleans and times typed; text neutralised, with the
    characters XML cannot hold dropped and cut at Excel's limit."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        return value.replace(microsecond=0, tzinfo=None)
    if isinstance(value, date):
        return value
    text = _compound_text(value) if isinstance(value, list | tuple | dict) else str(value)
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", text))[:XLSX_MAX_CELL]


def json_default(value: Any) -> Any:
    """What json.dumps cannot write by itself: times, dates, lazy strings."""
    if isinstance(value, datetime | date):
        return utc_text(value)
    return str(value)


# --- CSV and ZIP ------------------------------------------------------------------------------


def csv_chunks(headings: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """A CSV file in pieces of about CHUNK bytes: byte order mark, headings, rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([text_cell(h) for h in headings])
    for row in rows:
        writer.writerow([text_cell(v) for v in row])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


class _Sink(io.RawIOBase):
    """A write-only, unseekable file that keeps what is written until it is taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def zip_chunks(files: Iterable[tuple[str, Iterable[bytes]]]) -> Iterator[bytes]:
    """A ZIP of the given (name, pieces) files, itself in pieces: written as it is read, so
    nothing but the current piece is held (zipfile writes to an unseekable stream with data
    descriptors)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, pieces in files:
            with archive.open(name, mode="w", force_zip64=True) as entry:
                for piece in pieces:
                    entry.write(piece)
                    data = sink.take()
                    if data:
                        yield data
            yield sink.take()
    yield sink.take()


# --- XLSX -------------------------------------------------------------------------------------


@dataclass
class Sheet:
    """One sheet: its title, headings, and rows of plain values (in the headings' order)."""

    title: str
    headings: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def sheet_title(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name: no []:*?/\\, at most 31 characters, not empty."""
    cleaned = " ".join(_SHEET_FORBIDDEN.sub(" ", title).split()).strip("'")
    base = cleaned[:31].strip() or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def write_xlsx(sheets: Sequence[Sheet], target: IO[bytes]) -> IO[bytes]:
    """Write the workbook (openpyxl's write-only mode: rows go to disk as they come) into the
    open binary file `target`, and return it rewound to its start."""
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    bold = Font(bold=True)
    for sheet in sheets:
        ws = workbook.create_sheet(title=sheet_title(sheet.title, taken))
        ws.freeze_panes = "A2"
        heading_cells = []
        for heading in sheet.headings:
            cell = WriteOnlyCell(ws, value=xlsx_cell(heading))
            cell.font = bold
            heading_cells.append(cell)
        ws.append(heading_cells)
        for row in sheet.rows:
            ws.append([xlsx_cell(v) for v in row])
    workbook.save(target)
    target.seek(0)
    return target


# --- JSON -------------------------------------------------------------------------------------


@dataclass
class JsonTable:
    """One table of the JSON document: name, title, (key, heading) columns, rows as dicts."""

    name: str
    title: str
    columns: list[tuple[str, str]]
    rows: Iterable[dict[str, Any]]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=json_default)


def json_chunks(head: dict[str, Any], tables: Iterable[JsonTable]) -> Iterator[bytes]:
    """One JSON document in pieces: the members of `head`, then `tables`, an object of
    {name: {"title", "columns": [{"key", "label"}], "rows": [{key: value}]}}."""
    out = ["{"]
    for key, value in head.items():
        out.append(f"{_dumps(key)}:{_dumps(value)},")
    out.append('"tables":{')
    size = 0
    for t, table in enumerate(tables):
        columns = [{"key": key, "label": label} for key, label in table.columns]
        out.append(f'{"," if t else ""}{_dumps(table.name)}:{{"title":{_dumps(table.title)},'
                   f'"columns":{_dumps(columns)},"rows":[')
        for r, row in enumerate(table.rows):
            text = ("," if r else "") + _dumps(row)
            out.append(text)
            size += len(text)
            if size >= CHUNK:
                yield "".join(out).encode("utf-8")
                out, size = [], 0
        out.append("]}")
    out.append("}}")
    yield "".join(out).encode("utf-8")
