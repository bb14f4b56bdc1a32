"""Export requests, or the votes, as CSV (safe to open in a spreadsheet) or JSON (for scripts)."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from forms_app.review.triage import public_view

COLUMNS: tuple[str, ...] = (
    "id",
    "receipt",
    "form",
    "status",
    "product",
    "title",
    "body",
    "fields",
    "contact_email",
    "created_at",
    "updated_at",
    "claimed_by",
    "duplicate_of",
    "published_faq_id",
)

# A spreadsheet reads a cell starting with one of these as a formula (or a DDE command).
_FORMULA_STARTS = frozenset("=+-@")
_CONTROL_STARTS = frozenset("\t\r\n")


def _skippable(ch: str) -> bool:
    """Characters a spreadsheet may drop before reading a formula: any Unicode space
    (incl. U+3000 and U+00A0) and invisible format characters (U+FEFF, U+200B, ...)."""
    return ch.isspace() or unicodedata.category(ch) == "Cf"


def neutralise(cell: str) -> str:
    """Prefix a would-be formula with an apostrophe so spreadsheets show it as text.

    Looks at the first character that is neither a space nor invisible, after NFKC (so the
    full-width ＝ ＋ － ＠ count too); a cell starting with a tab or line break is prefixed too.
    """
    if cell[:1] in _CONTROL_STARTS:
        return "'" + cell
    first = next((ch for ch in cell if not _skippable(ch)), "")
    if first and (
        first in _FORMULA_STARTS or unicodedata.normalize("NFKC", first)[:1] in _FORMULA_STARTS
    ):
        return "'" + cell
    return cell


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict | list):
        return neutralise(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return neutralise(str(value))


def _csv(views: Iterable[Mapping[str, Any]], columns: tuple[str, ...]) -> str:
    """CSV text of `columns` with a header row; every text cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for data in views:
        writer.writerow([_cell(data.get(col)) for col in columns])
    return buffer.getvalue()


def _json(data: list[dict[str, Any]]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """CSV text with a header row; every text cell neutralised against formula injection."""
    return _csv((public_view(row) for row in rows), COLUMNS)


def to_json(rows: Iterable[Mapping[str, Any]]) -> str:
    """A JSON array of the rows (datetimes as ISO 8601), unmodified text."""
    views = (public_view(row) for row in rows)
    return _json([{col: view.get(col) for col in COLUMNS} for view in views])


VOTE_COLUMNS: tuple[str, ...] = ("id", "question_id", "vote", "created_at", "updated_at")


def _vote_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """A vote as exported: no voter, dates in ISO 8601 UTC (as the requests' export)."""
    return public_view({col: row.get(col) for col in VOTE_COLUMNS})


def votes_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The votes (forms_app.votes.store.export_rows) as formula-safe CSV with a header."""
    return _csv((_vote_view(row) for row in rows), VOTE_COLUMNS)


def votes_json(rows: Iterable[Mapping[str, Any]]) -> str:
    """The votes as a JSON array."""
    return _json([_vote_view(row) for row in rows])
