"""Rate limits: submits and status lookups (Flask-Limiter), wrong support IDs and reviewer
logins (the counters of this package), all counting the same way (increment, then compare).

- `counters`: the one counter primitive and its stores (Redis, process memory, the queue
  database's ``rate_counters`` table);
- `attempts`: wrong support IDs per client and per ID (`FailedAttempts.check`);
- `clients`: who a limit counts (IPv4 address or IPv6 /64);
- `memory`: what ``memory://`` means here (counters in process memory, no timer thread).

`init_app` creates the app's Flask-Limiter and counters. Storage: Redis when
``RATELIMIT_STORAGE_URI`` is ``redis://...`` (shared by every worker; when it is down,
Flask-Limiter and the login limits count in process memory until it is back, while wrong
support IDs are refused with a 503), otherwise process memory for Flask-Limiter and the
queue database for wrong IDs and logins.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Flask, current_app
from flask_limiter import Limiter
from limits.storage import Storage, storage_from_string

from forms_app.ratelimit.attempts import FailedAttempts
from forms_app.ratelimit.clients import ForwardedForWarning, request_client
from forms_app.ratelimit.counters import Counter, FallbackCounter, SqlCounter, StorageCounter
from forms_app.ratelimit.memory import SCHEME, ProcessMemoryStorage
from forms_app.storage.db import app_engine

log = logging.getLogger(__name__)

LIMITER_KEY = "cmskit_forms_limiter"
ATTEMPTS_KEY = "cmskit_forms_attempts"
LOGIN_COUNTER_KEY = "cmskit_forms_login_counter"


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
    return uri.startswith(("redis://", "rediss://"))


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
    limiter_uri = uri.replace("memory://", f"{SCHEME}://", 1) if not _is_redis(uri) else uri
    limiter = Limiter(key_func=request_client, storage_uri=limiter_uri)
    limiter.init_app(app)
    app.extensions[LIMITER_KEY] = limiter
    counter: Counter
    if _is_redis(uri):
        for problem in redis_persistence_problems(uri, float(config["REDIS_TIMEOUT"])):
            log.warning("Redis for rate limits: %s (see deploy/redis.conf)", problem)
        storage = storage_from_string(uri, wrap_exceptions=True, **redis_options)
        assert isinstance(storage, Storage)  # redis:// is never one of limits' async storages
        counter = StorageCounter(storage, prefix=f"{config['RATELIMIT_KEY_PREFIX']}:")
        # Logins keep counting in this process while Redis is away (as Flask-Limiter's own
        # limits do); wrong support IDs are refused instead (AttemptsUnavailable).
        app.extensions[LOGIN_COUNTER_KEY] = FallbackCounter(
            counter, StorageCounter(ProcessMemoryStorage())
        )
    else:
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
    """The app's Flask-Limiter (for the blueprints' own limits)."""
    found: Limiter = (app or current_app).extensions[LIMITER_KEY]
    return found


def login_counter(app: Flask | None = None) -> Counter:
    """The counter of the reviewers' login limits (shared by every worker)."""
    found: Counter = (app or current_app).extensions[LOGIN_COUNTER_KEY]
    return found


def failed_attempts(app: Flask | None = None) -> FailedAttempts:
    """The app's wrong-support-ID limits."""
    found: FailedAttempts = (app or current_app).extensions[ATTEMPTS_KEY]
    return found
