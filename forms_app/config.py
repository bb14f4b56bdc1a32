"""Configuration of the forms sidecar: defaults, required settings, site data.

Order (flaskr style): `DEFAULTS`, then ``instance/config.py``, then environment variables
prefixed ``CMSKIT_FORMS_`` (``CMSKIT_FORMS_DATABASE_URL`` sets ``DATABASE_URL``); a test
passes its own mapping instead of the instance file and the environment.

Outside development and testing (``ENV``) the app refuses to start without ``SECRET_KEY``
and ``SUPPORT_ID_PEPPER``. In development both are generated once and kept in
``instance/dev-secrets.json`` so every worker and every restart share them.
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

ENV_PREFIX = "CMSKIT_FORMS"
DEV_ENVS = frozenset({"development", "testing"})
REQUIRED_OUTSIDE_DEV = ("SECRET_KEY", "SUPPORT_ID_PEPPER")
DEFAULT_CONTENT_DIR = Path(__file__).resolve().parents[1] / "content"

DEFAULTS: dict[str, Any] = {
    # "development", "testing" or anything else (treated as production).
    "ENV": "production",
    "SECRET_KEY": None,
    "SUPPORT_ID_PEPPER": None,
    # Empty: a SQLite file in the instance folder.
    "DATABASE_URL": "",
    # Seconds a submit may wait for the queue database (SQLite's write lock, a pooled
    # connection, a PostgreSQL connection) before it answers 503 with the form kept. Keep it
    # well below gunicorn's and nginx's timeouts (30 s in deploy/).
    "WRITE_TIMEOUT": 10,
    "CONTENT_DIR": str(DEFAULT_CONTENT_DIR),
    # Absolute URL of the public site; the docs form accepts page URLs of this host only.
    "SITE_URL": "",
    "TIMEZONE": "Asia/Tokyo",
    # The sidecar lives under /forms on the site's origin.
    "APPLICATION_ROOT": "/forms",
    "SESSION_COOKIE_NAME": "cmskit_forms_session",
    "SESSION_COOKIE_PATH": "/forms",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": None,  # None: True outside development
    # Number of reverse proxies in front of the app (0: ProxyFix off).
    "PROXY_COUNT": 0,
    # Long Japanese texts are percent-encoded to 9 bytes a character: 128 KiB leaves room
    # for every field at its limit and refuses anything bigger.
    "MAX_CONTENT_LENGTH": 128 * 1024,
    "WTF_CSRF_ENABLED": True,
    "WTF_CSRF_TIME_LIMIT": 4 * 3600,
    # Flask-Limiter: memory:// is per process (served by attempts.LocalMemoryStorage); use
    # redis://host:6379/0 with several workers.
    "RATELIMIT_STORAGE_URI": "memory://",
    # When Redis is down, Flask-Limiter counts in process memory until it is back (checked
    # now and then) instead of failing every request; any other limiter error is logged.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_SWALLOW_ERRORS": True,
    # Redis client timeouts (seconds): an unreachable Redis must answer fast, not hang.
    "REDIS_TIMEOUT": 2,
    "RATELIMIT_KEY_PREFIX": "cmskit-forms",
    "RATELIMIT_HEADERS_ENABLED": False,
    "SUBMIT_RATE_LIMIT": "20 per minute;200 per day",
    "STATUS_RATE_LIMIT": "60 per minute",
    # Failed support-ID attempts in a sliding window, per client address and per ID.
    # Storage: Redis when RATELIMIT_STORAGE_URI is redis://..., else the queue database.
    "FAILED_ATTEMPTS_PER_CLIENT": 10,
    "FAILED_ATTEMPTS_PER_ID": 5,
    "FAILED_ATTEMPTS_WINDOW": 900,
    # Enables POST /_bench/noop for bench/bench_forms.py; never set it in production.
    "BENCH": False,
}

# Settings whose environment value must stay a string even if it looks like JSON.
_STRING_SETTINGS = ("SECRET_KEY", "SUPPORT_ID_PEPPER", "DATABASE_URL", "SITE_URL", "CONTENT_DIR")


class ConfigError(RuntimeError):
    """The app cannot start with this configuration; the message says what to set."""


def is_development(config: dict[str, Any]) -> bool:
    return str(config.get("ENV", "")).lower() in DEV_ENVS


def read_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Settings from ``CMSKIT_FORMS_*`` variables (values parsed as JSON when they can be)."""
    environ = dict(os.environ if environ is None else environ)
    found: dict[str, Any] = {}
    prefix = ENV_PREFIX + "_"
    for name, raw in environ.items():
        if not name.startswith(prefix):
            continue
        key = name[len(prefix) :]
        if key in _STRING_SETTINGS:
            found[key] = raw
            continue
        try:
            found[key] = json.loads(raw)
        except ValueError:
            found[key] = raw
    return found


def finish(config: dict[str, Any], instance_path: Path) -> None:
    """Fill derived settings and check the required ones (raises ConfigError)."""
    development = is_development(config)
    missing = [key for key in REQUIRED_OUTSIDE_DEV if not config.get(key)]
    if missing and not development:
        names = ", ".join(f"{ENV_PREFIX}_{key}" for key in missing)
        raise ConfigError(
            f"forms sidecar refuses to start: {names} not set "
            f"(ENV={config.get('ENV')!r}; only development and testing generate them)."
        )
    if missing:
        generated = _dev_secrets(instance_path)
        for key in missing:
            config[key] = generated[key]
    for key in REQUIRED_OUTSIDE_DEV:
        config[key] = str(config[key])
        weak = None if development else secret_weakness(config[key])
        if weak:
            raise ConfigError(
                f"forms sidecar refuses to start: {ENV_PREFIX}_{key} is too weak ({weak}); "
                "use a random value such as the output of "
                "`python3 -c 'import secrets; print(secrets.token_hex(32))'`"
            )
    if not config.get("DATABASE_URL"):
        instance_path.mkdir(parents=True, exist_ok=True)
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'queue.sqlite3'}"
    if config.get("SESSION_COOKIE_SECURE") is None:
        config["SESSION_COOKIE_SECURE"] = not development
    for key in ("PROXY_COUNT", "FAILED_ATTEMPTS_PER_CLIENT", "FAILED_ATTEMPTS_PER_ID"):
        if not isinstance(config.get(key), int) or config[key] < 0:
            raise ConfigError(
                f"{ENV_PREFIX}_{key} must be a whole number >= 0, not {config.get(key)!r}"
            )
    for key in ("WRITE_TIMEOUT", "REDIS_TIMEOUT"):
        value = config.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 25:
            raise ConfigError(
                f"{ENV_PREFIX}_{key} must be a number of seconds from 0 to 25 "
                f"(below the servers' 30 s timeouts), not {value!r}"
            )


MIN_SECRET_CHARS = 32
# Shannon estimate (length x bits per character of its own character frequencies): 32 random
# hex digits score about 95-125, a repeated word or character far less.
MIN_SECRET_BITS = 90


def secret_weakness(value: str) -> str | None:
    """Why `value` is too weak for a secret key or pepper, or None when it is not."""
    if len(value) < MIN_SECRET_CHARS:
        return f"{len(value)} characters, at least {MIN_SECRET_CHARS} needed"
    # The shortest p with value[i] == value[i - p] everywhere ("abcabcab": 3).
    period = next((p for p in range(1, len(value)) if value[p:] == value[:-p]), len(value))
    if period <= len(value) // 2:
        return f"it repeats the same {period} characters"
    size = len(value)
    bits = abs(size * sum(n / size * math.log2(n / size) for n in Counter(value).values()))
    if bits < MIN_SECRET_BITS:
        return f"too repetitive: about {bits:.0f} bits, at least {MIN_SECRET_BITS} needed"
    return None


def _dev_secrets(instance_path: Path) -> dict[str, str]:
    """Development only: a secret key and pepper made once and kept in the instance folder."""
    path = instance_path / "dev-secrets.json"
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        if all(data.get(key) for key in REQUIRED_OUTSIDE_DEV):
            return data
    instance_path.mkdir(parents=True, exist_ok=True)
    data = {key: secrets.token_hex(32) for key in REQUIRED_OUTSIDE_DEV}
    # Create with 0600 and never overwrite a file another worker wrote meanwhile.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return json.loads(path.read_text(encoding="utf-8"))
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    log.warning("development secrets generated in %s (not for production)", path)
    return data


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """What the forms need from content/site.yml: the site name and the products."""

    name: str
    products: tuple[tuple[str, str], ...]  # (id, name)


@lru_cache(maxsize=8)
def load_site_info(content_dir: str) -> SiteInfo:
    """Site name and products from site.yml, validated by the content loader when it works."""
    root = Path(content_dir)
    try:
        from cmskb.content.loader import load_site

        site = load_site(root)
        return SiteInfo(site.name, tuple((p.id, p.name) for p in site.products))
    except ImportError:
        pass
    except Exception as exc:  # a content error must not take the forms down
        log.warning("content loader failed on site.yml (%s); reading it directly", exc)
    return _read_site_yml(root / "site.yml")


def _read_site_yml(path: Path) -> SiteInfo:
    if not path.is_file():
        raise ConfigError(f"{path} not found: set {ENV_PREFIX}_CONTENT_DIR to the content folder")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    products = data.get("products") or []
    pairs = tuple(
        (str(p["id"]), str(p["name"])) for p in products if isinstance(p, dict) and "id" in p
    )
    if not pairs:
        raise ConfigError(f"{path}: no products found (the forms need the product list)")
    return SiteInfo(str(data.get("name") or "CMSKIT サポート"), pairs)
