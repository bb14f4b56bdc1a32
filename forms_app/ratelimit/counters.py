"""The one counter primitive behind every limit: add to a counter, then compare the result.

`Counter.incr(key, expiry, amount)` adds `amount` to a fixed-window counter and returns its
new value in ONE atomic step, so a caller compares what it got with its limit and parallel
attempts can never all see "below the limit" (a check followed by a separate count lets them
through). The window starts with the first increment and lasts `expiry` seconds. Three
stores, one behaviour:

- `StorageCounter` over a `limits` storage: Redis (limits' Lua script: ``INCRBY`` and
  ``EXPIRE`` in one server-side step) or `ProcessMemoryStorage` (one lock per storage);
  Flask-Limiter's fixed-window limits (submits, status lookups) count through the same
  ``incr`` of the same storages.
- `SqlCounter`: the ``rate_counters`` table of the queue database, one
  ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement (SQLite and PostgreSQL; on
  PostgreSQL the row lock orders parallel increments, on SQLite the write lock does).
- `FallbackCounter`: Redis while it answers, this process's memory while it does not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from limits.errors import StorageError
from limits.storage import Storage
from sqlalchemy import BindParameter, Connection, Engine, bindparam, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from forms_app.storage.db import read_tx, write_tx
from forms_app.storage.schema import rate_counters
from forms_app.timeutil import utcnow

log = logging.getLogger(__name__)

# Expired rows are deleted at most this often per process (seconds), and only when they
# have been expired for a day, so no increment in flight can want the same row.
_PRUNE_EVERY = 60.0
_PRUNE_AFTER = dt.timedelta(days=1)


class CounterUnavailable(RuntimeError):
    """The counter's store (Redis) cannot be reached: nothing was counted."""


class Counter(Protocol):
    """A fixed-window counter store (see the module's docstring)."""

    def incr(
        self, key: str, expiry: int, amount: int = 1, *, conn: Connection | None = None
    ) -> int:
        """Add `amount` and return the new value (`conn`: a queue write transaction to use)."""
        ...

    def get(self, key: str, *, conn: Connection | None = None) -> int:
        """The current value (0 when the window has passed)."""
        ...


def counter_key(scope: str, *parts: str) -> str:
    """A short key for `scope` and its parts (usernames and addresses are hashed)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{scope}:{digest[:40]}"


class StorageCounter:
    """A counter in a `limits` storage (Redis, or this process's memory)."""

    def __init__(self, storage: Storage, prefix: str = "") -> None:
        self._storage = storage
        self._prefix = prefix

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except StorageError as exc:
            raise CounterUnavailable(str(exc.storage_error)) from exc

    def incr(
        self, key: str, expiry: int, amount: int = 1, *, conn: Connection | None = None
    ) -> int:
        with self._reachable():
            return int(self._storage.incr(self._prefix + key, expiry, amount=amount))

    def get(self, key: str, *, conn: Connection | None = None) -> int:
        with self._reachable():
            return int(self._storage.get(self._prefix + key))


def _upsert(dialect: str) -> Any:
    """``INSERT ... ON CONFLICT (key) DO UPDATE ... RETURNING n`` for this dialect."""
    when = rate_counters.c.expires_at.type
    now = bindparam("now", type_=when)
    new_expiry = bindparam("new_expiry", type_=when)
    amount: BindParameter[int] = bindparam("amount")
    insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(rate_counters)
    expired = rate_counters.c.expires_at <= now
    return (
        insert.values(key=bindparam("key"), n=amount, expires_at=new_expiry)
        .on_conflict_do_update(
            index_elements=[rate_counters.c.key],
            set_={
                "n": case((expired, amount), else_=rate_counters.c.n + amount),
                "expires_at": case((expired, new_expiry), else_=rate_counters.c.expires_at),
            },
        )
        .returning(rate_counters.c.n)
    )


_UPSERTS = {name: _upsert(name) for name in ("sqlite", "postgresql")}
_GET = select(rate_counters.c.n).where(
    rate_counters.c.key == bindparam("key"),
    rate_counters.c.expires_at > bindparam("now", type_=rate_counters.c.expires_at.type),
)


class SqlCounter:
    """A counter in the queue database, shared by every worker on the same database."""

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self._engine = engine  # looked up per call: engines are opened after any fork
        self._next_prune = 0.0
        self._prune_lock = threading.Lock()

    def incr(
        self, key: str, expiry: int, amount: int = 1, *, conn: Connection | None = None
    ) -> int:
        if conn is None:
            with write_tx(self._engine()) as own:
                return self._incr(own, key, expiry, amount)
        return self._incr(conn, key, expiry, amount)

    def _incr(self, conn: Connection, key: str, expiry: int, amount: int) -> int:
        now = utcnow()
        params = {
            "key": key,
            "amount": amount,
            "now": now,
            "new_expiry": now + dt.timedelta(seconds=expiry),
        }
        value = conn.execute(_UPSERTS[conn.dialect.name], params).scalar_one()
        self._prune(conn, now)
        return int(value)

    def _prune(self, conn: Connection, now: dt.datetime) -> None:
        if time.monotonic() < self._next_prune or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._next_prune = time.monotonic() + _PRUNE_EVERY
            stale = rate_counters.c.expires_at <= now - _PRUNE_AFTER
            conn.execute(delete(rate_counters).where(stale))
        finally:
            self._prune_lock.release()

    def get(self, key: str, *, conn: Connection | None = None) -> int:
        if conn is None:
            with read_tx(self._engine()) as own:
                return self.get(key, conn=own)
        value = conn.execute(_GET, {"key": key, "now": utcnow()}).scalar()
        return int(value or 0)


class FallbackCounter:
    """`primary` (Redis) while it answers; `fallback` (process memory) while it does not."""

    def __init__(self, primary: Counter, fallback: Counter) -> None:
        self._primary = primary
        self._fallback = fallback

    def incr(
        self, key: str, expiry: int, amount: int = 1, *, conn: Connection | None = None
    ) -> int:
        try:
            return self._primary.incr(key, expiry, amount)
        except CounterUnavailable as exc:
            log.warning("counter storage unreachable (%s): counting in this process", exc)
            return self._fallback.incr(key, expiry, amount)

    def get(self, key: str, *, conn: Connection | None = None) -> int:
        try:
            return self._primary.get(key)
        except CounterUnavailable as exc:
            log.warning("counter storage unreachable (%s): reading this process's count", exc)
            return self._fallback.get(key)
