"""The shape of the JSON export, as the API documents it (the document itself is streamed by
`formats.json_chunks`; these models only describe it)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColumnOut(_Out):
    """One column: its key in every row, and its heading in the reader's language."""

    key: str
    label: str


class TableOut(_Out):
    """One table: its title in the reader's language, its columns and its rows."""

    title: str
    columns: list[ColumnOut]
    rows: list[dict[str, Any]] = Field(
        description="One object per row, keyed by the columns' keys. Times are ISO 8601 UTC.")


class ExportWorkshopOut(_Out):
    """The workshop the export is of."""

    id: int
    title: str
    kind: str
    place: str
    starts_on: date | None
    ends_on: date | None
    default_language: str


class ExportOut(_Out):
    """Every table of a workshop the reader may export, in one document.

    Tables: organisations, delegates, proposals (one row per language version), comments,
    supports (by region), ballots, ballot_papers (as published at close: a secret ballot's
    receipts apart from its choices), results, breakdowns and turnout (from the frozen
    results: no group of fewer than k voters in a secret ballot), audit (organisers only).
    """

    format: int = Field(description="The version of this document's shape.")
    language: str = Field(description="The language of titles, headings and labels.")
    generated_at: datetime
    workshop: ExportWorkshopOut
    tables: dict[str, TableOut]
