"""Reading uploaded tables (CSV or XLSX) safely: bounded in size, rows, cells and time.

An XLSX file is a zip of XML: two megabytes on the wire can unpack to gigabytes, or hold
400,000 rows that openpyxl takes half a minute to parse (issue 9: the whole server froze).
So, before any parsing (`check_zip`): the file is at most MAX_BYTES; the zip's parts are
listed and their declared sizes summed against MAX_UNPACKED (Python's zip reader never yields
more than a part declares: a lying header fails its checksum); then the sheets and shared
strings are unpacked once, in pieces, and their rows, cells and texts counted, because
parsing costs per element (a few megabytes of tiny cells take minutes). Only then does
openpyxl read, in read-only mode, lazily, row by row (at most MAX_COLUMNS cells a row), and
reading stops at the first row past the caller's limit with an error that says so. The whole
read runs through `workshop.heavy.run`: off the event loop, with a time limit that the loops
here check as they go.

openpyxl itself parses a whole sheet when it opens a workbook whose sheet has no
`<dimension>`; `_size_from_header` replaces that step (see there).

Every message is a lazy string: under gevent the reading runs in a worker thread without the
request's context, and the message is translated when the page or the API shows it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.xml.functions import iterparse

from workshop import heavy
from workshop.errors import ValidationFailed

#: The largest file accepted, as uploaded (its message says "5 MB").
MAX_BYTES = 5 * 1024 * 1024
#: The most an XLSX may unpack to (all its members together). A sheet of 5,000 rows of long
#: texts stays well under it; a zip bomb does not.
MAX_UNPACKED = 60 * 1024 * 1024
#: The most members an XLSX may hold (a workbook of a few sheets has about a dozen).
MAX_MEMBERS = 500
#: Cells kept from each row; any further ones are dropped.
MAX_COLUMNS = 40
#: Cells (and shared texts) an XLSX may hold per row allowed: real tables are narrower.
CELLS_PER_ROW = 24
#: How long reading a file may take before it is stopped.
READ_TIMEOUT = 15.0
MB = 1024 * 1024

#: A row of a file: its number as a spreadsheet shows it (the header is row 1), its cells.
Row = tuple[int, list[str]]


@dataclass
class RowError:
    """What is wrong with one cell (or with the whole file when `row` is 0)."""

    row: int
    field: str
    message: str


def _size_from_header(sheet: ReadOnlyWorksheet) -> None:
    """Read a read-only sheet's `<dimension>`, which comes before its data, and stop where
    the data starts.

    openpyxl's own version waits for the *end* of `<sheetData>` when a sheet has no
    `<dimension>`: opening such a workbook parses every row before the first one is read (22 s
    for 400,000 rows here, the freeze of issue 9). Where a sheet has one, both give the same.
    """
    source = sheet._get_source()
    try:
        for _event, element in iterparse(source, events=("start",)):
            if element.tag == DIMENSION_TAG:
                bounds = SheetDimension.from_tree(element).boundaries
                if bounds is not None:
                    (sheet._min_column, sheet._min_row, sheet._max_column,
                     sheet._max_row) = bounds
                return
            if element.tag == DATA_TAG:
                return
    finally:
        source.close()


ReadOnlyWorksheet._get_size = _size_from_header


def _file_error(message: object, short: object) -> ValidationFailed:
    return ValidationFailed(message, file=short)


def _too_many_rows(max_rows: int) -> ValidationFailed:
    return _file_error(
        _l("The file has more than %(n)s rows: nothing was read past that. Split it into "
           "files of at most %(n)s rows.", n=max_rows),
        _l("Too many rows."))


def _blank_limit(max_rows: int) -> int:
    """Rows read at most, blank ones included, for a table of `max_rows` rows."""
    return 10 * max_rows + 1000


def _kept(rows: Iterable[list[str]], max_rows: int, deadline: heavy.Deadline) -> list[Row]:
    """The non-empty rows, numbered (header and at most `max_rows` more); reading stops at
    the first row past the limit.

    Blank rows are skipped but counted, so a sheet of a million empty rows stops early too.

    :raise ValidationFailed: more rows than allowed.
    :raise heavy.TooSlow: the deadline passed.
    """
    kept: list[Row] = []
    blank_limit = _blank_limit(max_rows)
    for number, cells in enumerate(rows, start=1):
        if number % 256 == 0:
            deadline.check()
        if not any(c.strip() for c in cells):
            if number - len(kept) > blank_limit:
                raise _too_many_rows(max_rows)
            continue
        kept.append((number, cells))
        if len(kept) > max_rows + 1:  # the header row is not counted
            raise _too_many_rows(max_rows)
    return kept


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    """The rows of a UTF-8 CSV (comma, semicolon or tab separated), lazily.

    :raise ValidationFailed: not UTF-8.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_error(
            _l("The file is not UTF-8 text (byte %(n)s). Save it as “CSV UTF-8” and try "
               "again.", n=exc.start + 1),
            _l("Wrong encoding.")) from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    csv.field_size_limit(MAX_BYTES)
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        for row in reader:
            yield row[:MAX_COLUMNS]
    except csv.Error:
        raise _file_error(
            _l("Row %(n)s of the file cannot be read as CSV.", n=reader.line_num),
            _l("Unreadable file.")) from None


#: Opening tags counted before parsing: rows and cells of the sheets, texts of the shared
#: strings (with or without a namespace prefix; `<col>`, `<sheetData>`... do not match).
_COUNTED = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c|si)[\s>/]")


def _count_tags(archive: zipfile.ZipFile, member: zipfile.ZipInfo,
                deadline: heavy.Deadline) -> Counter[bytes]:
    """How many rows, cells and shared texts a part holds, counted while unpacking it in
    pieces (a tag cut between two pieces is counted once, with the piece after)."""
    counts: Counter[bytes] = Counter()
    carry = b""
    with archive.open(member) as part:
        while chunk := part.read(MB):
            deadline.check()
            data = carry + chunk
            cut = data.rfind(b"<")
            cut = len(data) if cut == -1 else cut
            counts.update(_COUNTED.findall(data, 0, cut))
            carry = data[cut:]
            if len(carry) > 256:  # a long text: its opening "<" is all that matters
                counts.update(_COUNTED.findall(carry, 0, 256))
                carry = b""
    counts.update(_COUNTED.findall(carry))
    return counts


def check_zip(data: bytes, max_rows: int, deadline: heavy.Deadline) -> None:
    """Refuse an XLSX before openpyxl parses it: not a zip, too many parts, unpacking too
    large, or holding far more rows, cells or texts than a table of `max_rows` rows.

    Parsing costs per element, not per byte: a few megabytes of tiny cells or shared texts
    take openpyxl minutes. So the sheets and the shared strings are unpacked once in pieces
    and their tags counted (fast, and bounded by the unpacked size checked first).

    :raise ValidationFailed: with a message that names the limit.
    :raise heavy.TooSlow: the deadline passed.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise _file_error(
                    _l("This XLSX file holds too many parts to be a plain table."),
                    _l("Unreadable file."))
            unpacked = sum(m.file_size for m in members)
            if unpacked > MAX_UNPACKED:
                raise _file_error(
                    _l("This XLSX file unpacks to %(size)s MB, more than the %(limit)s MB "
                       "allowed. Save only the table, or split it into smaller files.",
                       size=unpacked // MB, limit=MAX_UNPACKED // MB),
                    _l("Too large when unpacked."))
            counts: Counter[bytes] = Counter()
            for member in members:
                name = member.filename.lower()
                if name.startswith("xl/worksheets/") or name.endswith("sharedstrings.xml"):
                    counts.update(_count_tags(archive, member, deadline))
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError):
        raise _file_error(_l("This is not a readable XLSX file."),
                          _l("Unreadable file.")) from None
    if counts[b"row"] > _blank_limit(max_rows):
        raise _too_many_rows(max_rows)
    most = (max_rows + 1) * CELLS_PER_ROW
    if max(counts[b"c"], counts[b"si"]) > most:
        raise _file_error(
            _l("This XLSX file holds more than %(n)s cells or texts, too many for a table of "
               "%(rows)s rows. Save only the table, or split it into smaller files.",
               n=most, rows=max_rows),
            _l("Too many cells."))


def _xlsx_rows(data: bytes, max_rows: int, deadline: heavy.Deadline) -> Iterator[list[str]]:
    """The rows of the first sheet of an XLSX, lazily (openpyxl, read-only), once
    `check_zip` let it through.

    :raise ValidationFailed: see `check_zip`; or not a workbook.
    """
    check_zip(data, max_rows, deadline)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged workbook
        raise _file_error(_l("This is not a readable XLSX file."),
                          _l("Unreadable file.")) from None
    try:
        if not book.worksheets:
            return
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception:  # a damaged sheet part
                raise _file_error(_l("This is not a readable XLSX file."),
                                  _l("Unreadable file.")) from None
            yield ["" if v is None else str(v) for v in values]
    finally:
        book.close()


def _read(filename: str, data: bytes, max_rows: int, deadline: heavy.Deadline) -> list[Row]:
    name = filename.lower()
    if name.endswith((".csv", ".txt")):
        return _kept(_csv_rows(data), max_rows, deadline)
    if name.endswith(".xlsx"):
        return _kept(_xlsx_rows(data, max_rows, deadline), max_rows, deadline)
    raise _file_error(_l("Upload a .csv or .xlsx file."), _l("Unknown file type."))


def read_rows(filename: str, data: bytes, max_rows: int,
              timeout: float = READ_TIMEOUT) -> list[Row]:
    """The non-empty rows of an uploaded CSV or XLSX file, numbered as a spreadsheet shows
    them, as text cells: the header row and at most `max_rows` more (the first sheet of a
    workbook; at most MAX_COLUMNS cells a row).

    Runs off the event loop (`workshop.heavy.run`) and stops after `timeout` seconds.

    :raise ValidationFailed: unknown type, too large (as sent or unpacked), more rows than
        `max_rows`, wrong encoding, unreadable; the field `file` says it in short.
    :raise heavy.TooSlow: reading took longer than `timeout`.
    """
    if len(data) > MAX_BYTES:
        raise _file_error(_l("The file is larger than 5 MB."), _l("Too large."))
    if not data:
        raise _file_error(_l("The file is empty."), _l("Empty file."))
    deadline = heavy.Deadline(timeout)
    return heavy.run(_read, filename, data, max_rows, deadline, timeout=timeout + 1)


def column_map(header: list[str], names: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Which column holds each known field: `names` gives the accepted header texts (lower
    case) of each field; the first matching column wins."""
    cleaned = [c.strip().lower() for c in header]
    columns: dict[str, int] = {}
    for key, accepted in names.items():
        for i, text in enumerate(cleaned):
            if text in accepted:
                columns[key] = i
                break
    return columns


#: Characters that make a spreadsheet read a cell as a formula (or a command, via DDE).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell value safe to open in a spreadsheet: text starting like a formula gets a leading
    apostrophe, so it shows as text and never runs (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(rows: Iterable[Iterable[object]]) -> bytes:
    """Rows as a UTF-8 CSV (with a byte order mark, so spreadsheets read the accents), every
    cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return out.getvalue().encode("utf-8-sig")
