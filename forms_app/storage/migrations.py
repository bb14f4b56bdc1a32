"""Create and upgrade the queue schema, keeping every row.

A fresh database gets every table of `schema.metadata` and the current `SCHEMA_VERSION`.
An older one gets the numbered steps of `UPGRADES` in order, in one transaction (SQLite and
PostgreSQL both run DDL transactionally). To change the schema: edit `schema.py`, bump
`SCHEMA_VERSION`, and add the step that brings version N-1 to N here.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, inspect, select, text

from forms_app.storage.db import is_sqlite, read_tx, write_tx
from forms_app.storage.schema import (
    SCHEMA_VERSION,
    failed_attempts,
    metadata,
    requests,
    schema_version,
    votes,
)

_PG_LOCK_ID = 0x636D736B  # advisory lock serializing concurrent migrations on PostgreSQL


class SchemaError(RuntimeError):
    """The queue schema is missing, behind or ahead of this app."""


def _v2_failed_attempts_at_index(conn: Connection) -> None:
    """Version 2: an index on failed_attempts.at for pruning old attempts."""
    index = next(ix for ix in failed_attempts.indexes if ix.name == "ix_failed_at")
    index.create(conn, checkfirst=True)


def _v3_session_key_and_outbox_request(conn: Connection) -> None:
    """Version 3: reviewers.session_key (a random key per account), outbox.request_id."""
    columns = {
        table: {c["name"] for c in inspect(conn).get_columns(table)}
        for table in ("reviewers", "outbox")
        if inspect(conn).has_table(table)
    }
    if "session_key" not in columns.get("reviewers", {"session_key"}):
        conn.execute(
            text("ALTER TABLE reviewers ADD COLUMN session_key VARCHAR(64) NOT NULL DEFAULT ''")
        )
        for (rid,) in conn.execute(text("SELECT id FROM reviewers")).all():
            conn.execute(
                text("UPDATE reviewers SET session_key = :k WHERE id = :i"),
                {"k": secrets.token_hex(16), "i": rid},
            )
    if "request_id" not in columns.get("outbox", {"request_id"}):
        conn.execute(text("ALTER TABLE outbox ADD COLUMN request_id INTEGER"))


def _v4_idempotency_key(conn: Connection) -> None:
    """Version 4: requests.idempotency_key and its unique index (rate_counters is created
    with the other missing tables)."""
    columns = {c["name"] for c in inspect(conn).get_columns("requests")}
    if "idempotency_key" not in columns:
        conn.execute(text("ALTER TABLE requests ADD COLUMN idempotency_key VARCHAR(64)"))
    index = next(ix for ix in requests.indexes if ix.name == "ix_requests_idempotency")
    index.create(conn, checkfirst=True)


def _v5_votes(conn: Connection) -> None:
    """Version 5: the votes table and its indexes (a new table, no existing row changes)."""
    votes.create(conn, checkfirst=True)


UPGRADES: dict[int, Callable[[Connection], None]] = {
    2: _v2_failed_attempts_at_index,
    3: _v3_session_key_and_outbox_request,
    4: _v4_idempotency_key,
    5: _v5_votes,
}


@dataclass(frozen=True, slots=True)
class MigrationResult:
    before: int | None  # None: the database was empty
    after: int


def current_version(conn: Connection) -> int | None:
    """The stored schema version, or None when the schema has never been created."""
    if not inspect(conn).has_table(schema_version.name):
        return None
    return conn.execute(select(schema_version.c.version)).scalar()


def migrate(engine: Engine) -> MigrationResult:
    """Create or upgrade the schema to `SCHEMA_VERSION` (safe to run again)."""
    with write_tx(engine) as conn:
        if not is_sqlite(engine):
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_ID})
        before = current_version(conn)
        if before is None:
            existing = set(inspect(conn).get_table_names()) & set(metadata.tables)
            if existing:
                raise SchemaError(
                    f"queue tables {sorted(existing)} exist without a schema_version row; "
                    "refusing to guess their version"
                )
            metadata.create_all(conn)
            conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
            return MigrationResult(None, SCHEMA_VERSION)
        if before > SCHEMA_VERSION:
            raise SchemaError(
                f"queue schema is version {before}, newer than this app ({SCHEMA_VERSION}): "
                "upgrade the app"
            )
        steps = range(before + 1, SCHEMA_VERSION + 1)
        if missing := [v for v in steps if v not in UPGRADES]:
            raise SchemaError(f"no upgrade step in migrations.UPGRADES for version(s) {missing}")
        for version in steps:
            UPGRADES[version](conn)
        metadata.create_all(conn, checkfirst=True)
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION))
        return MigrationResult(before, SCHEMA_VERSION)


def check_current(engine: Engine) -> None:
    """Raise SchemaError unless the schema is at `SCHEMA_VERSION`."""
    with read_tx(engine) as conn:
        version = current_version(conn)
    if version == SCHEMA_VERSION:
        return
    if version is None:
        raise SchemaError("the queue database has no schema yet: run `cmskit-forms migrate`")
    if version < SCHEMA_VERSION:
        raise SchemaError(
            f"queue schema is version {version}, this app needs {SCHEMA_VERSION}: "
            "run `cmskit-forms migrate`"
        )
    raise SchemaError(f"queue schema is version {version}, newer than this app ({SCHEMA_VERSION})")
