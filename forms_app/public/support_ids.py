"""Support IDs: normalization, peppered hashes, lookup, CSV import, revoke and list.

Only HMAC-SHA256(pepper, normalized ID) is stored. Normalization applies NFKC (full-width
letters, digits and hyphens become ASCII), drops spaces and every kind of hyphen or dash,
and upper-cases, so ``ｃｋ－１２３４ ５６７８`` and ``CK12345678`` are the same ID.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select, update

from forms_app.storage.db import read_tx, write_tx
from forms_app.storage.schema import support_ids
from forms_app.timeutil import utcnow

HOLDER_KINDS = ("customer", "partner")
MAX_INPUT_CHARS = 100  # what the form accepts before normalization
_VALID_SHAPE = re.compile(r"^[A-Z0-9]{4,64}$")
# Spaces, and hyphens/dashes/long-vowel marks customers type between groups (after NFKC).
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc\u2500_.]+")
CSV_COLUMNS = ("support_id", "holder_kind", "product", "expires_on", "label")


def normalize(raw: str) -> str:
    """The canonical form of a typed ID (may be empty or of an invalid shape)."""
    text = unicodedata.normalize("NFKC", raw)
    return _SEPARATORS.sub("", text).upper()


def is_valid_shape(normalized: str) -> bool:
    """True for 4 to 64 ASCII letters and digits."""
    return bool(_VALID_SHAPE.match(normalized))


def id_hash(pepper: str, normalized: str) -> str:
    """HMAC-SHA256 of the normalized ID under the pepper, as hex."""
    return hmac.new(pepper.encode(), normalized.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class SupportId:
    """A valid (known, not revoked, not expired) support ID."""

    id_hash: str
    holder_kind: str
    product: str
    expires_on: dt.date


_SELECT_BY_HASH = select(
    support_ids.c.id_hash,
    support_ids.c.holder_kind,
    support_ids.c.product,
    support_ids.c.expires_on,
    support_ids.c.revoked_at,
).where(support_ids.c.id_hash == bindparam("id_hash"))


def _valid(row: Any, today: dt.date) -> SupportId | None:
    if row is None or row.revoked_at is not None or row.expires_on < today:
        return None
    return SupportId(row.id_hash, row.holder_kind, row.product, row.expires_on)


def find_valid(conn: Connection, id_hash_hex: str, today: dt.date) -> SupportId | None:
    """The ID with this hash if it exists, is not revoked and has not expired."""
    return _valid(conn.execute(_SELECT_BY_HASH, {"id_hash": id_hash_hex}).first(), today)


@dataclass(slots=True)
class ImportReport:
    """Outcome of a CSV import: counts, or every problem found (then nothing was written)."""

    inserted: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Row:
    id_hash: str
    holder_kind: str
    product: str
    expires_on: dt.date
    label: str


def _parse_rows(
    text: str, *, pepper: str, products: Iterable[str], source: str
) -> tuple[list[_Row], list[str]]:
    known_products = set(products)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS[:4] if c not in header]
    if missing:
        expected = ",".join(CSV_COLUMNS)
        return [], [f"{source}:1: missing column(s) {', '.join(missing)}; expected {expected}"]
    rows: list[_Row] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        record = {(k or "").strip(): (v or "").strip() for k, v in record.items()}
        problems: list[str] = []
        normalized = normalize(record.get("support_id", ""))
        if not is_valid_shape(normalized):
            problems.append("support_id must be 4-64 letters or digits (hyphens, spaces ignored)")
        kind = record.get("holder_kind", "").lower()
        if kind not in HOLDER_KINDS:
            problems.append(f"holder_kind must be one of {', '.join(HOLDER_KINDS)}, not {kind!r}")
        product = record.get("product", "")
        if product not in known_products:
            known = ", ".join(sorted(known_products))
            problems.append(f"product {product!r} is not in site.yml ({known})")
        try:
            expires = dt.date.fromisoformat(record.get("expires_on", ""))
        except ValueError:
            problems.append(f"expires_on must be YYYY-MM-DD, not {record.get('expires_on')!r}")
            expires = dt.date.min
        if normalized in seen:
            problems.append(f"same support_id as line {seen[normalized]}")
        seen.setdefault(normalized, line)
        if problems:
            errors.extend(f"{source}:{line}: {p}" for p in problems)
            continue
        label = record.get("label", "")[:200]
        rows.append(_Row(id_hash(pepper, normalized), kind, product, expires, label))
    return rows, errors


def import_csv(
    engine: Engine, path: Path, *, pepper: str, products: Iterable[str]
) -> ImportReport:
    """Insert or update every row of the CSV, all or nothing; the plain IDs are not kept."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return ImportReport(errors=[f"{path}: cannot read as UTF-8 CSV: {exc}"])
    rows, errors = _parse_rows(text, pepper=pepper, products=products, source=str(path))
    report = ImportReport(errors=errors)
    if errors:
        return report
    now = utcnow()
    with write_tx(engine) as conn:
        for row in rows:
            result = conn.execute(
                update(support_ids)
                .where(support_ids.c.id_hash == row.id_hash)
                .values(
                    holder_kind=row.holder_kind,
                    product=row.product,
                    expires_on=row.expires_on,
                    label=row.label,
                    updated_at=now,
                )
            )
            if result.rowcount:
                report.updated += 1
                continue
            _insert(conn, row, now)
            report.inserted += 1
    return report


def _insert(conn: Connection, row: _Row, now: dt.datetime) -> None:
    conn.execute(
        support_ids.insert().values(
            id_hash=row.id_hash,
            holder_kind=row.holder_kind,
            product=row.product,
            expires_on=row.expires_on,
            label=row.label,
            created_at=now,
            updated_at=now,
        )
    )


def revoke(engine: Engine, raw_id: str, *, pepper: str, undo: bool = False) -> bool:
    """Revoke (or with `undo`, reinstate) an ID; False when it is not known."""
    digest = id_hash(pepper, normalize(raw_id))
    now = utcnow()
    with write_tx(engine) as conn:
        result = conn.execute(
            update(support_ids)
            .where(support_ids.c.id_hash == digest)
            .values(revoked_at=None if undo else now, updated_at=now)
        )
        return bool(result.rowcount)


@dataclass(frozen=True, slots=True)
class ListedId:
    """One stored ID as staff see it: never the ID itself, only the start of its hash."""

    hash_prefix: str
    holder_kind: str
    product: str
    expires_on: dt.date
    revoked: bool
    label: str


def list_ids(engine: Engine) -> list[ListedId]:
    """Every stored ID, soonest expiry first."""
    with read_tx(engine) as conn:
        rows = conn.execute(
            select(support_ids).order_by(support_ids.c.expires_on, support_ids.c.id)
        ).all()
    return [
        ListedId(
            hash_prefix=r.id_hash[:12],
            holder_kind=r.holder_kind,
            product=r.product,
            expires_on=r.expires_on,
            revoked=r.revoked_at is not None,
            label=r.label,
        )
        for r in rows
    ]


_DEMO_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def create_demo_id(
    engine: Engine, *, pepper: str, product: str, days: int = 365, today: dt.date | None = None
) -> str:
    """Store a fresh random ID valid for `days` (development and tests) and return it."""
    groups = ["".join(secrets.choice(_DEMO_ALPHABET) for _ in range(4)) for _ in range(3)]
    plain = "DEMO-" + "-".join(groups)
    today = today or dt.date.today()
    row = _Row(
        id_hash(pepper, normalize(plain)), "customer", product, today + dt.timedelta(days=days),
        "demo",
    )
    with write_tx(engine) as conn:
        _insert(conn, row, utcnow())
    return plain
