"""Engine handling for the queue: one engine per process, SQLite or PostgreSQL.

SQLite (the embedded default) runs in WAL mode, and every transaction opened through
`write_tx` starts with ``BEGIN IMMEDIATE``, so concurrent writers queue on SQLite's write
lock instead of failing with "database is locked" at commit (ARCHITECTURE.md).

Every wait for the database is bounded by ONE deadline, the engine's `write_timeout`
(the app's ``WRITE_TIMEOUT``, 10 s by default): SQLite's busy timeout (how long
``BEGIN IMMEDIATE`` waits for another writer), the pool checkout and, on PostgreSQL, the
connection attempt. A writer that cannot get in by then fails with an OperationalError
that the views turn into a quick Japanese 503 with the form kept, well before gunicorn's
and nginx's 30 s timeouts answer with an English 502/504. (A home-made write gate that
queued writers on an ``flock`` before ``BEGIN IMMEDIATE`` was removed: it chained the waits
of queued writers past every server timeout and measured no clear gain, bench/README.md.)

Durability on SQLite: WAL with ``synchronous=NORMAL`` keeps every committed transaction
through a crash of the app or of any process; after a power cut or an OS crash the last
transactions before the cut may be rolled back (the database stays consistent). Set
``PRAGMA synchronous=FULL`` here if receipts must survive power loss too (an fsync a commit).
Engines are created lazily (never before gunicorn forks) and cached per process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text

DEFAULT_WRITE_TIMEOUT = 10.0  # seconds; below gunicorn's and nginx's 30 s (deploy/)

_ENGINES: dict[tuple[int, str, float], Engine] = {}


def _configure_sqlite(engine: Engine, busy_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions start.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.info.pop("begin_mode", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def get_engine(url: str, *, write_timeout: float = DEFAULT_WRITE_TIMEOUT) -> Engine:
    """The engine for `url` in this process (created on first use, after any fork).

    `write_timeout`: the longest any statement waits for a lock, a pooled connection or
    (PostgreSQL) a connection to the server, in seconds.
    """
    key = (os.getpid(), url, float(write_timeout))
    engine = _ENGINES.get(key)
    if engine is None:
        if url.startswith("sqlite"):
            engine = create_engine(
                url, pool_size=4, max_overflow=4, pool_timeout=write_timeout
            )
            _configure_sqlite(engine, max(int(write_timeout * 1000), 1))
        else:
            connect_args: dict[str, Any] = {}
            if url.startswith("postgresql") and "connect_timeout" not in make_url(url).query:
                connect_args["connect_timeout"] = max(int(write_timeout), 1)
            engine = create_engine(
                url, pool_size=5, max_overflow=5, pool_pre_ping=True,
                pool_timeout=write_timeout, connect_args=connect_args,
            )
        _ENGINES[key] = engine
    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """A write transaction: ``BEGIN IMMEDIATE`` on SQLite, a plain one elsewhere."""
    with engine.connect() as conn:
        if is_sqlite(engine):
            conn.info["begin_mode"] = "IMMEDIATE"
        with conn.begin():
            yield conn


@contextmanager
def read_tx(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction (deferred on SQLite)."""
    with engine.connect() as conn, conn.begin():
        yield conn


def dispose_all() -> None:
    """Close every engine of this process (tests, shutdown)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


def ping(engine: Engine) -> None:
    """Raise if the database cannot be reached."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
