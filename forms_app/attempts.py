"""Rate limits: submits through Flask-Limiter, wrong support IDs and logins on one counter.

Every limit counts with the fixed-window counter of forms_app.counters (increment, then
compare): Flask-Limiter's limits in its storage, and the limits of this module in the
storage every worker shares, Redis when ``RATELIMIT_STORAGE_URI`` is ``redis://...``,
otherwise the ``rate_counters`` table of the queue database.

``memory://`` is served by `LocalMemoryStorage`, limits' own in-process storage without its
expiry timer thread and with one lock for its counters (see there why).

Clients are counted by `client_scope`: the address for IPv4, the /64 network for IPv6 (one
subscriber usually holds a whole /64, so rotating addresses inside it must not reset the
count). When Redis is down, Flask-Limiter and the login limits fall back to process memory
(config ``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``), while the failed-attempt counter raises
`AttemptsUnavailable`: the view answers 503 with the form kept rather than let guesses
through uncounted.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits.storage import MemoryStorage, storage_from_string
from sqlalchemy import Connection

from .counters import Counter, CounterUnavailable, FallbackCounter, SqlCounter, StorageCounter

log = logging.getLogger(__name__)

LIMITER_KEY = "cmskit_forms_limiter"
ATTEMPTS_KEY = "cmskit_forms_attempts"
LOGIN_COUNTER_KEY = "cmskit_forms_login_counter"


class AttemptsUnavailable(RuntimeError):
    """The failed-attempt storage (Redis) cannot be reached: nothing may be checked now."""


class FailedAttempts:
    """Wrong support IDs per client and per ID, on the app's `counters.Counter`.

    `fail` counts a wrong ID first and compares after (increment, then check), so parallel
    wrong guesses get at most the limit of "wrong ID" answers; the rest are told to wait.
    `blocked` only reads, for the submits whose ID is right. With the counts in the queue
    database (`in_queue`) both run inside the submit's own transaction (`conn`).
    """

    def __init__(
        self, counter: Counter, *, per_client: int, per_id: int, window: int, in_queue: bool
    ) -> None:
        self.counter = counter
        self.in_queue = in_queue
        self._limits = (per_client, per_id)
        self._window = window

    @staticmethod
    def keys(client: str, id_key: str) -> tuple[str, str]:
        """The counter keys of a client and of an ID (client first: one lock order)."""
        return f"failed-client:{client}", f"failed-id:{id_key}"

    def over_limit(self, by_client: int, by_id: int) -> bool:
        """True when either count has reached its limit (no attempt left)."""
        return by_client >= self._limits[0] or by_id >= self._limits[1]

    def blocked(self, *, client: str, id_key: str, conn: Connection | None = None) -> bool:
        """True when the client or the ID has no attempt left (reads only)."""
        with self._reachable():
            counts = [self.counter.get(key, conn=conn) for key in self.keys(client, id_key)]
        return self.over_limit(*counts)

    def fail(self, *, client: str, id_key: str, conn: Connection | None = None) -> bool:
        """Count one wrong ID for the client and the ID; True while both stay within
        their limits (the wrong ID may be told), False when this one went past."""
        with self._reachable():
            counts = [
                self.counter.incr(key, self._window, conn=conn)
                for key in self.keys(client, id_key)
            ]
        return counts[0] <= self._limits[0] and counts[1] <= self._limits[1]

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except CounterUnavailable as exc:
            raise AttemptsUnavailable(str(exc)) from exc


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
        # One lock for every fixed-window counter: the base class reads the expiry and
        # returns the value outside its per-key lock, and may drop a key's lock while
        # another thread holds it. Here an increment and its result are one step.
        self._counting = threading.RLock()

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        with self._counting:
            now = time.time()
            if self.expirations.get(key, 0) <= now:
                self.storage.pop(key, None)
                self.expirations[key] = now + expiry
            value = self.storage[key] = self.storage.get(key, 0) + amount
        self._MemoryStorage__schedule_expiry()
        return value

    def decr(self, key: str, amount: int = 1) -> int:
        with self._counting:
            if key not in self.storage:
                return 0
            value = self.storage[key] = max(self.storage[key] - amount, 0)
            return value

    def get(self, key: str) -> int:
        with self._counting:
            if self.expirations.get(key, 0) <= time.time():
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                return 0
            return self.storage.get(key, 0)

    def clear(self, key: str) -> None:
        with self._counting:
            super().clear(key)

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
        with self._counting:
            for key, expiry in list(self.expirations.items()):
                if expiry <= now:
                    self.storage.pop(key, None)
                    self.expirations.pop(key, None)
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


FORWARDED_WARNING_EVERY = 600.0  # seconds between two warnings of one process


class ForwardedForWarning:
    """Logs (at most every `FORWARDED_WARNING_EVERY` seconds) when a request carries
    X-Forwarded-For while ``PROXY_COUNT`` is 0: a proxy is in front but not trusted, so every
    client counts as the proxy's address and shares its limits."""

    def __init__(self) -> None:
        self._next = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        if "X-Forwarded-For" not in request.headers or time.monotonic() < self._next:
            return
        with self._lock:
            if time.monotonic() < self._next:
                return
            self._next = time.monotonic() + FORWARDED_WARNING_EVERY
        log.warning(
            "X-Forwarded-For received from %s but CMSKIT_FORMS_PROXY_COUNT is 0: every client "
            "counts as that address and shares its rate limits; set PROXY_COUNT to the number "
            "of proxies in front (1 for deploy/nginx.conf)",
            request.remote_addr,
        )


def redis_persistence_problems(uri: str, timeout: float) -> list[str]:
    """What in Redis's settings lets counters vanish (no persistence, an evicting policy).

    Empty when all is well or when the settings cannot be read (Redis down, CONFIG
    disabled): this only informs, the limits work either way.
    """
    client = redis.Redis.from_url(uri, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        config = client.config_get("appendonly")
        config.update(client.config_get("save"))
        config.update(client.config_get("maxmemory-policy"))
    except redis.RedisError:
        return []
    finally:
        client.close()
    problems = []
    if config.get("appendonly") != "yes" and not config.get("save"):
        problems.append(
            "no persistence (appendonly no, no save points): a restart forgets every lockout"
        )
    policy = config.get("maxmemory-policy", "noeviction")
    if policy != "noeviction":
        problems.append(f"maxmemory-policy {policy} may evict live lockout counters")
    return problems


def _is_redis(uri: str) -> bool:
    return uri.startswith(("redis://", "rediss://", "redis+"))


def init_app(app: Flask) -> None:
    """Create this app's Flask-Limiter, its counter store and the failed-attempt limits."""
    config = app.config
    uri = str(config["RATELIMIT_STORAGE_URI"])
    redis_options: dict[str, Any] = {}
    if _is_redis(uri):
        timeout = float(config["REDIS_TIMEOUT"])
        redis_options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
        config.setdefault("RATELIMIT_STORAGE_OPTIONS", redis_options)
    if not config["PROXY_COUNT"]:
        app.before_request(ForwardedForWarning())
    limiter = Limiter(key_func=request_client, storage_uri=_limiter_storage_uri(uri))
    limiter.init_app(app)
    app.extensions[LIMITER_KEY] = limiter
    counter: Counter
    if _is_redis(uri):
        for problem in redis_persistence_problems(uri, float(config["REDIS_TIMEOUT"])):
            log.warning("Redis for rate limits: %s (see deploy/redis.conf)", problem)
        storage = storage_from_string(uri, wrap_exceptions=True, **redis_options)
        counter = StorageCounter(storage, prefix=f"{config['RATELIMIT_KEY_PREFIX']}:")
        # Logins keep counting in this process while Redis is away (as Flask-Limiter's own
        # limits do); wrong support IDs are refused instead (AttemptsUnavailable).
        app.extensions[LOGIN_COUNTER_KEY] = FallbackCounter(
            counter, StorageCounter(LocalMemoryStorage())
        )
    else:
        from .queue import app_engine

        counter = SqlCounter(lambda: app_engine(app))
        app.extensions[LOGIN_COUNTER_KEY] = counter
    app.extensions[ATTEMPTS_KEY] = FailedAttempts(
        counter,
        per_client=int(config["FAILED_ATTEMPTS_PER_CLIENT"]),
        per_id=int(config["FAILED_ATTEMPTS_PER_ID"]),
        window=int(config["FAILED_ATTEMPTS_WINDOW"]),
        in_queue=isinstance(counter, SqlCounter),
    )


def limiter(app: Flask | None = None) -> Limiter:
    """The app's Flask-Limiter (for other blueprints, e.g. the reviewers' login)."""
    return (app or current_app).extensions[LIMITER_KEY]


def login_counter(app: Flask | None = None) -> Counter:
    """The counter of the reviewers' login limits (shared by every worker)."""
    return (app or current_app).extensions[LOGIN_COUNTER_KEY]


def attempts(app: Flask | None = None) -> FailedAttempts:
    return (app or current_app).extensions[ATTEMPTS_KEY]
