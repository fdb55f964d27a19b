"""Spreadsheets for registration tests: real CSV and XLSX bytes, and XLSX bombs."""

from __future__ import annotations

import csv
import io
import zipfile

from openpyxl import Workbook

HEADER = ["name", "email", "organisation", "country", "region", "type", "language"]


def csv_file(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    """Rows as CSV bytes."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_file(rows: list[list[str]]) -> bytes:
    """Rows as the first sheet of an XLSX workbook (openpyxl)."""
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _workbook_parts(sheet_xml_chunks, level: int = 6, shared: str | None = None) -> bytes:
    """A minimal valid XLSX whose one sheet is written from the given chunks of XML (and
    with a shared strings part, if given)."""
    strings_type = (
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sharedStrings+xml"/>' if shared else "")
    strings_rel = (
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/>' if shared else "")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            f'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>{strings_type}</Types>'))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        z.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'relationships/worksheet" Target="worksheets/sheet1.xml"/>{strings_rel}'
            '</Relationships>'))
        if shared:
            z.writestr("xl/sharedStrings.xml", shared)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for chunk in sheet_xml_chunks:
                sheet.write(chunk.encode("ascii"))
    return out.getvalue()


def _sheet(rows_xml) -> object:
    yield ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
           'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    yield from rows_xml
    yield "</sheetData></worksheet>"


def _row(n: int, *values: str) -> str:
    cells = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values)
    return f'<row r="{n}">{cells}</row>'


def many_rows_xlsx(rows: int = 400_000) -> bytes:
    """An XLSX of a header and `rows` short rows (numbers, no row numbers written): about
    15 MB unpacked, so it passes the size check and only the row limit stops it."""
    def body():
        yield _row(1, *HEADER)
        row = "<row><c><v>1</v></c><c><v>2</v></c></row>"
        for _ in range(rows // 10_000):
            yield row * 10_000
        yield row * (rows % 10_000)
    return _workbook_parts(_sheet(body()))


def wide_row_xlsx(cells: int = 1_000_000) -> bytes:
    """An XLSX whose second row holds `cells` tiny cells: small unpacked, slow to parse."""
    def body():
        yield _row(1, *HEADER)
        yield "<row>" + "<c><v>1</v></c>" * cells + "</row>"
    return _workbook_parts(_sheet(body()), level=1)


def shared_strings_xlsx(texts: int = 2_000_000) -> bytes:
    """An XLSX with a header row and `texts` tiny shared strings (openpyxl reads them all
    when it opens the workbook: minutes for a few million)."""
    shared = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.'
              'org/spreadsheetml/2006/main">' + "<si><t>a</t></si>" * texts + "</sst>")
    return _workbook_parts(_sheet(iter([_row(1, *HEADER)])), level=1, shared=shared)


def zip_bomb_xlsx(unpacked_mb: int = 100) -> bytes:
    """A tiny XLSX whose sheet unpacks to `unpacked_mb` megabytes (one huge run of blanks)."""
    def body():
        yield _row(1, *HEADER)
        blank = " " * (1024 * 1024)
        for _ in range(unpacked_mb):
            yield blank
    return _workbook_parts(_sheet(body()), level=1)
