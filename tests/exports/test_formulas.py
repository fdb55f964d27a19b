"""Cells a spreadsheet would run as a formula are neutralised in CSV and XLSX (a leading
quote); numbers stay numbers; JSON keeps the text as it is."""

from __future__ import annotations

import io

import openpyxl
import pytest

from tests.exports.conftest import FORMULAS, read_csv, read_zip, staff_client
from workshop.exports import formats

DANGEROUS = ["=1+1", "+SUM(A1:A9)", "-2+3", "@cmd", "\t=1", "\r=1",
             '=HYPERLINK("http://example.com","x")']


@pytest.mark.parametrize("value", DANGEROUS)
def test_text_starting_a_formula_gets_a_quote(value):
    assert formats.neutralise(value) == "'" + value
    assert formats.text_cell(value) == "'" + value
    assert formats.xlsx_cell(value) == "'" + value
    assert formats.text_cell([value, "b"]) == "'" + value + ", b"


@pytest.mark.parametrize("value", ["Plain", "a=b", "1+1", "'quoted", "", "é=mc²"])
def test_other_text_is_left_alone(value):
    assert formats.neutralise(value) == value


def test_numbers_dates_and_booleans_stay_typed():
    assert formats.text_cell(-3) == "-3"
    assert formats.xlsx_cell(-3) == -3
    assert formats.xlsx_cell(-0.5) == -0.5
    assert formats.xlsx_cell(True) is True
    assert formats.text_cell(None) == ""
    assert formats.xlsx_cell("a\x00b\x07c") == "abc"  # XML cannot hold these


def test_the_files_neutralise_what_people_typed(app, room):
    client = staff_client(app, room.organiser)
    base = f"/w/{room.workshop.id}"
    _headings, rows = read_csv(client.get(f"{base}/exports/proposals.csv").data)
    cells = {cell for row in rows for cell in row}
    for key in ("proposal_title", "proposal_description", "translation", "hidden_reason"):
        assert "'" + FORMULAS[key] in cells, key
        assert FORMULAS[key] not in cells, key
    zipped = read_zip(client.get(f"{base}/exports.zip").data)
    comment_cells = {cell for row in zipped["comments"][1] for cell in row}
    assert "'" + FORMULAS["comment"] in comment_cells
    org_cells = {cell for row in zipped["organisations"][1] for cell in row}
    assert "'" + FORMULAS["organisation"] in org_cells
    # Every text cell of every CSV: none starts a formula.
    for name, (_h, table_rows) in zipped.items():
        for row in table_rows:
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
                if cell.startswith("-"):
                    float(cell)  # only a negative number may start with a minus

    workbook = openpyxl.load_workbook(io.BytesIO(client.get(f"{base}/exports.xlsx").data))
    texts = set()
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.add(cell.value)
                    assert not cell.value.startswith(formats.FORMULA_PREFIXES), cell.value
    for value in FORMULAS.values():
        assert "'" + value in texts, value

    # JSON is data for programs: the text as it was typed.
    doc = client.get(f"{base}/exports.json").get_json()
    titles = {r["title"] for r in doc["tables"]["proposals"]["rows"]}
    assert FORMULAS["proposal_title"] in titles
    assert FORMULAS["translation"] in titles
