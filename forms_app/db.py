"""Engine handling for the queue: one engine per process, SQLite or PostgreSQL.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and every transaction
opened through `write_tx` starts with ``BEGIN IMMEDIATE`` so concurrent writers queue on the
lock instead of failing with "database is locked" at commit. PostgreSQL needs none of this.
Engines are created lazily (never before gunicorn forks) and cached per process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text

_ENGINES: dict[tuple[int, str], Engine] = {}


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions start.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.info.pop("begin_mode", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def get_engine(url: str) -> Engine:
    """The engine for `url` in this process (created on first use, after any fork)."""
    key = (os.getpid(), url)
    engine = _ENGINES.get(key)
    if engine is None:
        if url.startswith("sqlite"):
            engine = create_engine(url, pool_size=4, max_overflow=4, pool_timeout=30)
            _configure_sqlite(engine)
        else:
            engine = create_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)
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
