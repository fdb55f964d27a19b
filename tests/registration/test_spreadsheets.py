"""Reading uploaded tables safely (workshop.spreadsheets): XLSX bombs and floods of rows are
refused with a clear error before they cost much, for delegates and proposals alike."""

from __future__ import annotations

import time

import pytest

from tests.helpers import create_user, create_workshop
from tests.registration.files import (
    HEADER,
    csv_file,
    many_rows_xlsx,
    shared_strings_xlsx,
    wide_row_xlsx,
    xlsx_file,
    zip_bomb_xlsx,
)
from workshop import heavy, spreadsheets
from workshop.errors import ValidationFailed
from workshop.proposals import importing
from workshop.registration import services


@pytest.fixture(scope="module")
def flood() -> bytes:
    return many_rows_xlsx(400_000)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return zip_bomb_xlsx(100)


def test_a_zip_bomb_is_refused_before_parsing(app, bomb):
    assert len(bomb) < 1024 * 1024
    start = time.monotonic()
    with pytest.raises(ValidationFailed) as caught:
        spreadsheets.read_rows("bomb.xlsx", bomb, 100)
    assert time.monotonic() - start < 2
    assert "unpacks to 100 MB" in str(caught.value.message)
    assert caught.value.fields["file"]


def test_400000_rows_are_refused_before_parsing(app, flood):
    start = time.monotonic()
    with pytest.raises(ValidationFailed) as caught:
        spreadsheets.read_rows("flood.xlsx", flood, 2000)
    # openpyxl parses these 400,000 rows in over 20 s here; counted unparsed, well under 5.
    assert time.monotonic() - start < 5
    assert "more than 2000 rows" in str(caught.value.message)


def test_reading_stops_at_the_first_row_past_the_limit(app):
    data = many_rows_xlsx(15_000)  # few enough to pass the count, too many to import
    with pytest.raises(ValidationFailed) as caught:
        spreadsheets.read_rows("rows.xlsx", data, 2000)
    assert "more than 2000 rows" in str(caught.value.message)
    assert len(spreadsheets.read_rows("rows.xlsx", data, 20_000)) == 15_001


@pytest.mark.parametrize("maker", [wide_row_xlsx, shared_strings_xlsx])
def test_dense_little_files_are_refused_before_parsing(app, maker):
    # Each takes openpyxl tens of seconds (per element, not per byte); counted, a moment.
    data = maker(1_000_000)
    assert len(data) < 200_000
    start = time.monotonic()
    with pytest.raises(ValidationFailed) as caught:
        spreadsheets.read_rows("dense.xlsx", data, 2000)
    assert time.monotonic() - start < 5
    assert "cells or texts" in str(caught.value.message)


def test_a_million_blank_csv_lines_stop_early(app):
    data = csv_file([HEADER, ["Amina", "", "Org", "", "", "", ""]]) + b",,,\n" * 1_000_000
    with pytest.raises(ValidationFailed):
        spreadsheets.read_rows("blank.csv", data[:spreadsheets.MAX_BYTES], 100)


def test_rows_are_numbered_as_the_spreadsheet_shows_them(app):
    rows = spreadsheets.read_rows("a.xlsx", xlsx_file([HEADER, [], ["Amina"], [""], ["Sita"]]),
                                  10)
    assert [(n, cells[0]) for n, cells in rows] == [(1, "name"), (3, "Amina"), (5, "Sita")]


def test_a_deadline_stops_long_reading(app):
    deadline = heavy.Deadline(0)
    time.sleep(0.01)
    with pytest.raises(heavy.TooSlow):
        spreadsheets._kept(([str(i)] for i in range(10_000)), 100_000, deadline)


def test_heavy_runs_plainly_outside_gevent():
    assert not heavy.under_gevent()
    assert heavy.run(sum, [1, 2, 3]) == 6


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)",
                                  "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell):
    assert spreadsheets.neutralise(cell) == "'" + cell
    assert spreadsheets.neutralise("Amina") == "Amina"


def test_both_imports_refuse_the_bomb_and_the_flood(app, bomb, flood):
    workshop = create_workshop(create_user("organiser"))
    for data in (bomb, flood):
        for checked in (services.preview_file(workshop, "x.xlsx", data),
                        importing.preview("x.xlsx", data)):
            assert not checked.ok
            assert [(e.row, e.field) for e in checked.errors] == [(0, "file")]
