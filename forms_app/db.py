"""Engine handling for the queue: one engine per process, SQLite or PostgreSQL.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and every transaction
opened through `write_tx` starts with ``BEGIN IMMEDIATE`` so concurrent writers queue on the
lock instead of failing with "database is locked" at commit. Before that, `write_tx` takes a
write gate (a thread lock plus an ``flock`` on a file beside the database) so writers of every
thread and process wait in the kernel and wake as soon as the previous one commits; without
it they poll in SQLite's busy handler, which sleeps 1, 2, 5, 10 ... ms between tries. The
busy timeout stays as the fallback for writers that do not use `write_tx`. PostgreSQL needs
none of this.

Durability on SQLite: WAL with ``synchronous=NORMAL`` keeps every committed transaction
through a crash of the app or of any process; after a power cut or an OS crash the last
transactions before the cut may be rolled back (the database stays consistent). Set
``PRAGMA synchronous=FULL`` here if receipts must survive power loss too (an fsync a commit).
Engines are created lazily (never before gunicorn forks) and cached per process.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text

_ENGINES: dict[tuple[int, str], Engine] = {}


class _WriteGate:
    """One SQLite writer at a time across threads (lock) and processes (flock).

    Re-entrant in one thread: only the outermost acquisition takes the file lock.
    """

    def __init__(self, path: str) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> None:
        self._lock.acquire()
        if self._depth == 0:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._lock.release()
                raise
        self._depth += 1

    def __exit__(self, *_: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()


_GATES: dict[tuple[int, str], _WriteGate] = {}
_GATES_LOCK = threading.Lock()


def _write_gate(engine: Engine) -> _WriteGate | None:
    """This process's gate for the engine's SQLite file (None for memory databases)."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    key = (os.getpid(), os.path.abspath(database))
    gate = _GATES.get(key)
    if gate is None:
        with _GATES_LOCK:
            gate = _GATES.get(key)
            if gate is None:
                gate = _GATES[key] = _WriteGate(key[1] + "-writegate")
    return gate


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
    """A write transaction: gate + ``BEGIN IMMEDIATE`` on SQLite, a plain one elsewhere."""
    gate = _write_gate(engine) if is_sqlite(engine) else None
    if gate is None:
        with engine.connect() as conn:
            if is_sqlite(engine):
                conn.info["begin_mode"] = "IMMEDIATE"
            with conn.begin():
                yield conn
        return
    with gate, engine.connect() as conn:
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
