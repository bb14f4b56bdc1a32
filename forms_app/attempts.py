"""Rate limits: submits through Flask-Limiter, failed support-ID attempts across workers.

Flask-Limiter's ``memory://`` storage is per process, so the failed-attempt limit has its
own storage that every worker shares: Redis (through the `limits` library, the same storage
Flask-Limiter uses) when ``RATELIMIT_STORAGE_URI`` is ``redis://...``, otherwise the
``failed_attempts`` table of the queue database.

``memory://`` is served by `LocalMemoryStorage`, limits' own in-process storage without its
expiry timer thread (see there why).

Clients are counted by `client_scope`: the address for IPv4, the /64 network for IPv6 (one
subscriber usually holds a whole /64, so rotating addresses inside it must not reset the
count). When Redis is down, Flask-Limiter falls back to process memory (config
``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``), while the failed-attempt counter raises
`AttemptsUnavailable`: the view answers 503 with the form kept rather than let guesses
through uncounted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import logging
import threading
import time
from typing import Any, Protocol

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter
from sqlalchemy import Connection, Engine, bindparam, delete, func, select

from .db import read_tx, write_tx
from .schema import failed_attempts
from .timeutil import utcnow

log = logging.getLogger(__name__)

LIMITER_KEY = "cmskit_forms_limiter"
ATTEMPTS_KEY = "cmskit_forms_attempts"
FALLBACK_KEY = "cmskit_forms_fallback_strategy"


class AttemptsUnavailable(RuntimeError):
    """The failed-attempt storage (Redis) cannot be reached: nothing may be checked now."""


class FailedAttempts(Protocol):
    """Counts failed support-ID attempts per client and per ID in a sliding window.

    When the counts live in the queue database (`queue_counter` is not None) a submit checks
    and records them inside its own transaction; Redis counts are checked before it.
    """

    def blocked(self, *, client: str, id_key: str, conn: Connection | None = None) -> bool:
        """True when the client or the ID has reached its limit.

        `conn`: an open queue connection to reuse (the database storage reads through it).
        """
        ...

    def record(self, *, client: str, id_key: str, conn: Connection | None = None) -> None:
        """Count one failed attempt for both the client and the ID.

        `conn`: an open write transaction on the queue to write through (database storage).
        """
        ...


def _recent(scope: str, key: str) -> object:
    return (
        select(func.count())
        .select_from(failed_attempts)
        .where(
            failed_attempts.c.scope == scope,
            failed_attempts.c.key == bindparam(key),
            failed_attempts.c.at > bindparam("since"),
        )
        .scalar_subquery()
    )


# Both counts as columns (served by ix_failed_scope_key_at); bind parameters from
# `DatabaseAttempts.window_params`. The support-ID lookup of a submit adds them to its row.
RECENT_COUNTS = (
    _recent("client", "client_key").label("failed_by_client"),
    _recent("id", "id_key").label("failed_by_id"),
)
_COUNT_BOTH = select(*RECENT_COUNTS)


class DatabaseAttempts:
    """Failed attempts in the queue database: shared by every worker on the same file."""

    def __init__(self, engine: Engine, *, per_client: int, per_id: int, window: int) -> None:
        self._engine = engine
        self._limits = {"client": per_client, "id": per_id}
        self._window = dt.timedelta(seconds=window)

    def window_params(self, client: str, id_key: str) -> dict[str, Any]:
        """Bind parameters of `RECENT_COUNTS` for this client and ID."""
        since = utcnow() - self._window
        return {"client_key": client, "id_key": id_key, "since": since}

    def over_limit(self, by_client: int, by_id: int) -> bool:
        """True when either count of `RECENT_COUNTS` has reached its limit."""
        return by_client >= self._limits["client"] or by_id >= self._limits["id"]

    def _counts(self, conn: Connection, client: str, id_key: str) -> tuple[int, int]:
        row = conn.execute(_COUNT_BOTH, self.window_params(client, id_key)).one()
        return row[0], row[1]

    def blocked(self, *, client: str, id_key: str, conn: Connection | None = None) -> bool:
        if conn is None:
            with read_tx(self._engine) as own:
                by_client, by_id = self._counts(own, client, id_key)
        else:
            by_client, by_id = self._counts(conn, client, id_key)
        return self.over_limit(by_client, by_id)

    def record(self, *, client: str, id_key: str, conn: Connection | None = None) -> None:
        if conn is None:
            with write_tx(self._engine) as own:
                self._record(own, client, id_key)
        else:
            self._record(conn, client, id_key)

    def _record(self, conn: Connection, client: str, id_key: str) -> None:
        now = utcnow()
        conn.execute(delete(failed_attempts).where(failed_attempts.c.at <= now - self._window))
        conn.execute(
            failed_attempts.insert(),
            [
                {"scope": "client", "key": client, "at": now},
                {"scope": "id", "key": id_key, "at": now},
            ],
        )


class RedisAttempts:
    """Failed attempts in Redis with a moving window (the `limits` library)."""

    def __init__(
        self,
        storage_uri: str,
        *,
        prefix: str,
        per_client: int,
        per_id: int,
        window: int,
        options: dict[str, Any] | None = None,
    ) -> None:
        storage = storage_from_string(storage_uri, wrap_exceptions=True, **(options or {}))
        self._strategy = MovingWindowRateLimiter(storage)
        self._prefix = prefix
        self._items = {
            "client": RateLimitItemPerSecond(max(per_client, 1), window),
            "id": RateLimitItemPerSecond(max(per_id, 1), window),
        }
        self._zero = {"client": per_client == 0, "id": per_id == 0}

    def _exceeded(self, scope: str, key: str) -> bool:
        if self._zero[scope]:
            return True
        return not self._strategy.test(self._items[scope], self._prefix, "failed", scope, key)

    def blocked(self, *, client: str, id_key: str, conn: Connection | None = None) -> bool:
        try:
            return self._exceeded("client", client) or self._exceeded("id", id_key)
        except StorageError as exc:
            raise AttemptsUnavailable(str(exc.storage_error)) from exc

    def record(self, *, client: str, id_key: str, conn: Connection | None = None) -> None:
        try:
            self._strategy.hit(self._items["client"], self._prefix, "failed", "client", client)
            self._strategy.hit(self._items["id"], self._prefix, "failed", "id", id_key)
        except StorageError as exc:
            raise AttemptsUnavailable(str(exc.storage_error)) from exc


class LocalMemoryStorage(MemoryStorage):
    """limits' in-process `MemoryStorage`, expiring idle keys inline instead of by a timer.

    `MemoryStorage` starts a new ``threading.Timer`` (10 ms) on every hit when none is alive
    and blocks until that thread has started: under load, a thread start every 10 ms per
    worker, which cost a third of a submit's server time on this machine (bench/README.md).
    Counters already expire when read (`get`), so the limits are the same; only freeing the
    memory of idle keys moves into the request path, at most once per `SWEEP_INTERVAL`.
    """

    STORAGE_SCHEME = ["cmskit-memory"]  # noqa: RUF012 (read by limits' storage registry)
    SWEEP_INTERVAL = 10.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._next_sweep = time.monotonic() + self.SWEEP_INTERVAL
        self._sweeping = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the base class's timer
        now = time.monotonic()
        if now < self._next_sweep or not self._sweeping.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + self.SWEEP_INTERVAL
            self.sweep()
        finally:
            self._sweeping.release()

    def sweep(self) -> None:
        """Forget expired counters and moving-window entries."""
        now = time.time()
        for key, expiry in list(self.expirations.items()):
            if expiry <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)
        for key in list(self.events):
            with self.locks[key]:
                live = [entry for entry in self.events.get(key, ()) if entry.expiry > now]
                if live:
                    self.events[key] = live
                else:
                    self.events.pop(key, None)
                    self.locks.pop(key, None)


def _limiter_storage_uri(uri: str) -> str:
    """The storage Flask-Limiter opens: `LocalMemoryStorage` for ``memory://``."""
    if uri.startswith("memory://"):
        return "cmskit-memory://" + uri[len("memory://") :]
    return uri


def client_scope(address: str | None) -> str:
    """Who a limit counts: the IPv4 address, or the /64 network of an IPv6 address.

    An IPv4-mapped IPv6 address counts as its IPv4 address; anything that is not an
    address (a test client, a Unix socket) is used as it is.
    """
    raw = address or ""
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def request_client() -> str:
    """Flask-Limiter's key function: `client_scope` of the request's address."""
    return client_scope(request.remote_addr)


def client_key(pepper: str, address: str | None) -> str:
    """A keyed hash of the client's scope (the raw address is not kept with attempts)."""
    scope = client_scope(address)
    return hmac.new(pepper.encode(), f"client:{scope}".encode(), hashlib.sha256).hexdigest()


def _is_redis(uri: str) -> bool:
    return uri.startswith(("redis://", "rediss://", "redis+"))


def init_app(app: Flask) -> None:
    """Create this app's Flask-Limiter and failed-attempt counter."""
    config = app.config
    uri = str(config["RATELIMIT_STORAGE_URI"])
    redis_options: dict[str, Any] = {}
    if _is_redis(uri):
        timeout = float(config["REDIS_TIMEOUT"])
        redis_options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
        config.setdefault("RATELIMIT_STORAGE_OPTIONS", redis_options)
    limiter = Limiter(key_func=request_client, storage_uri=_limiter_storage_uri(uri))
    limiter.init_app(app)
    app.extensions[LIMITER_KEY] = limiter
    app.extensions[FALLBACK_KEY] = FixedWindowRateLimiter(LocalMemoryStorage())
    options = {
        "per_client": int(config["FAILED_ATTEMPTS_PER_CLIENT"]),
        "per_id": int(config["FAILED_ATTEMPTS_PER_ID"]),
        "window": int(config["FAILED_ATTEMPTS_WINDOW"]),
    }
    attempts: FailedAttempts
    if _is_redis(uri):
        attempts = RedisAttempts(
            uri, prefix=str(config["RATELIMIT_KEY_PREFIX"]), options=redis_options, **options
        )
    else:
        attempts = _LazyDatabaseAttempts(app, options)
    app.extensions[ATTEMPTS_KEY] = attempts


class _LazyDatabaseAttempts:
    """DatabaseAttempts whose engine is looked up per call (opened after any fork)."""

    def __init__(self, app: Flask, options: dict[str, int]) -> None:
        self._app = app
        self._options = options
        self._made: dict[int, DatabaseAttempts] = {}

    def _real(self) -> DatabaseAttempts:
        from .queue import app_engine

        engine = app_engine(self._app)
        real = self._made.get(id(engine))
        if real is None or real._engine is not engine:
            real = self._made[id(engine)] = DatabaseAttempts(engine, **self._options)
        return real

    def blocked(self, *, client: str, id_key: str, conn: Connection | None = None) -> bool:
        return self._real().blocked(client=client, id_key=id_key, conn=conn)

    def record(self, *, client: str, id_key: str, conn: Connection | None = None) -> None:
        self._real().record(client=client, id_key=id_key, conn=conn)


def limiter(app: Flask | None = None) -> Limiter:
    """The app's Flask-Limiter (for other blueprints, e.g. the reviewers' login)."""
    return (app or current_app).extensions[LIMITER_KEY]


def shared_strategy(app: Flask | None = None) -> RateLimiter:
    """Flask-Limiter's strategy on its shared storage, or a per-process one while that
    storage (Redis) cannot be reached, so hand-made limits (the reviewers' login) keep
    counting instead of failing, as Flask-Limiter's own in-memory fallback does."""
    app = app or current_app
    shared = limiter(app)
    if shared.storage.check():
        return shared.limiter
    log.warning("rate-limit storage unreachable: counting in this process for now")
    return app.extensions[FALLBACK_KEY]


def attempts(app: Flask | None = None) -> FailedAttempts:
    return (app or current_app).extensions[ATTEMPTS_KEY]


def queue_counter(app: Flask | None = None) -> DatabaseAttempts | None:
    """The counter in the queue database (None when the counts live in Redis)."""
    counter = attempts(app)
    return counter._real() if isinstance(counter, _LazyDatabaseAttempts) else None
