"""Every setting of the forms sidecar: defaults, the one reader, and the check at start.

One path (flaskr style): `DEFAULTS`, then ``instance/config.py``, then environment
variables prefixed ``CMSKIT_FORMS_`` (``CMSKIT_FORMS_DATABASE_URL`` sets ``DATABASE_URL``,
read by `read_environment`); a test passes its own mapping instead of the instance file
and the environment. `validate` then checks every setting the app reads (secrets, database,
timeouts, rate limits, time zone, reviewer login, notifications) and raises ConfigError
naming the first wrong one, so a typo stops the start instead of a page or a channel
failing later. Derived values are kept in the config too: ``NOTIFY_SETTINGS``
(`NotifySettings`) and ``SITE`` (`SiteInfo`).

Outside development and testing (``ENV``) the app refuses to start without ``SECRET_KEY``
and ``SUPPORT_ID_PEPPER``. In development both are generated once and kept in
``instance/dev-secrets.json`` so every worker and every restart share them.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from cmskb.content.loader import load_site
from limits import parse_many
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

log = logging.getLogger(__name__)

ENV_PREFIX = "CMSKIT_FORMS"
DEV_ENVS = frozenset({"development", "testing"})
REQUIRED_OUTSIDE_DEV = ("SECRET_KEY", "SUPPORT_ID_PEPPER")
DEFAULT_CONTENT_DIR = Path(__file__).resolve().parents[1] / "content"
DEFAULT_SITE_DIR = Path(__file__).resolve().parents[1] / "site"

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
    # The built site (mkdocs build / cmskb build): its frame page (site-frame/index.html)
    # frames the customer pages (forms_app.frame); required outside development and testing.
    "SITE_DIR": str(DEFAULT_SITE_DIR),
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
    # Flask-Limiter: memory:// is per process (forms_app.ratelimit.memory); use
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
    # "役に立ちましたか?" votes (forms_app.votes): votes sent per client, state/token reads
    # per client, the browser's voter cookie's lifetime, and how many はい votes put a
    # question in popular.json.
    "VOTE_RATE_LIMIT": "30 per minute;300 per day",
    "VOTE_STATE_RATE_LIMIT": "120 per minute",
    "VOTE_COOKIE_DAYS": 365,
    "VOTE_POPULAR_MIN_YES": 3,
    # Failed support-ID attempts in a sliding window, per client address and per ID.
    # Storage: Redis when RATELIMIT_STORAGE_URI is redis://..., else the queue database.
    "FAILED_ATTEMPTS_PER_CLIENT": 10,
    "FAILED_ATTEMPTS_PER_ID": 5,
    "FAILED_ATTEMPTS_WINDOW": 900,
    # Reviewers' web view (forms_app.review.auth: what each login limit counts).
    "REVIEW_SESSION_HOURS": 8,
    "REVIEW_LOGIN_LIMIT": "5 per 15 minutes;20 per day",
    "REVIEW_LOGIN_CLIENT_LIMIT": "30 per 15 minutes;100 per day",
    "REVIEW_LOGIN_USER_LIMIT": "100 per day",
    "REVIEW_DEVICE_DAYS": 365,
    "REVIEW_PER_PAGE": 50,
    # Notifications to reviewers (forms_app.review.notify); any channel left unset is off.
    "NOTIFY_EMAIL_TO": "",
    "NOTIFY_EMAIL_FROM": "",
    "NOTIFY_SMTP_HOST": "",
    "NOTIFY_SMTP_PORT": None,
    "NOTIFY_SMTP_USER": "",
    "NOTIFY_SMTP_PASSWORD": "",
    "NOTIFY_SMTP_STARTTLS": "",
    "NOTIFY_WEBHOOK_URL": "",
    "NOTIFY_WEBHOOK_SECRET": "",
    "NOTIFY_REVIEW_URL": "",
    "NOTIFY_TIMEOUT": None,
    # Enables POST /_bench/noop for bench/bench_forms.py; never set it in production.
    "BENCH": False,
}
MAX_REVIEW_PER_PAGE = 200

# Settings whose environment value must stay a string even if it looks like JSON.
_STRING_SETTINGS = (
    "SECRET_KEY", "SUPPORT_ID_PEPPER", "DATABASE_URL", "SITE_URL", "CONTENT_DIR", "SITE_DIR",
    "TIMEZONE",
    "NOTIFY_SMTP_USER", "NOTIFY_SMTP_PASSWORD", "NOTIFY_WEBHOOK_SECRET",
)


class ConfigError(RuntimeError):
    """The app cannot start with this configuration; the message says what to set."""


class _SettingError(ValueError):
    """One wrong setting (turned into ConfigError by `validate`)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{ENV_PREFIX}_{key} {problem}")
        self.key = key


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


def validate(config: dict[str, Any], instance_path: Path) -> None:
    """Check every setting and fill the derived ones (raises ConfigError naming the setting).

    Called once by `create_app`, before anything else reads the configuration.
    """
    _secrets(config, instance_path)
    development = is_development(config)
    if not config.get("DATABASE_URL"):
        instance_path.mkdir(parents=True, exist_ok=True)
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'queue.sqlite3'}"
    if config.get("SESSION_COOKIE_SECURE") is None:
        config["SESSION_COOKIE_SECURE"] = not development
    try:
        _check_settings(config)
        config["NOTIFY_SETTINGS"] = NotifySettings.from_config(config)
    except _SettingError as err:
        raise ConfigError(f"forms sidecar refuses to start: {err}") from err


def _secrets(config: dict[str, Any], instance_path: Path) -> None:
    development = is_development(config)
    missing = [key for key in REQUIRED_OUTSIDE_DEV if not config.get(key)]
    if missing and not development:
        names = ", ".join(f"{ENV_PREFIX}_{key}" for key in missing)
        raise ConfigError(
            f"forms sidecar refuses to start: {names} not set "
            f"(ENV={config.get('ENV')!r}; only development and testing generate them: "
            f"for the queue of scripts/run, set {ENV_PREFIX}_ENV=development)."
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


def _whole(config: Mapping[str, Any], key: str, low: int, high: int | None = None) -> int:
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (
        high is not None and value > high
    ):
        bounds = f"from {low} to {high}" if high is not None else f">= {low}"
        raise _SettingError(key, f"must be a whole number {bounds}, not {value!r}")
    return value


def _seconds(config: Mapping[str, Any], key: str, high: float) -> float:
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= high:
        raise _SettingError(
            key, f"must be a number of seconds above 0 and at most {high:g}, not {value!r}"
        )
    return float(value)


def _limit_string(config: Mapping[str, Any], key: str) -> None:
    value = config.get(key)
    try:
        ok = isinstance(value, str) and bool(parse_many(value))
    except ValueError:
        ok = False
    if not ok:
        raise _SettingError(
            key, f"must be rate limits such as '20 per minute;200 per day', not {value!r}"
        )


def _check_settings(config: dict[str, Any]) -> None:
    """Every setting the app reads, by kind (see DEFAULTS for what each one means)."""
    for key in ("PROXY_COUNT", "FAILED_ATTEMPTS_PER_CLIENT", "FAILED_ATTEMPTS_PER_ID"):
        _whole(config, key, 0)
    _whole(config, "FAILED_ATTEMPTS_WINDOW", 1)
    _whole(config, "MAX_CONTENT_LENGTH", 1024)
    _whole(config, "REVIEW_DEVICE_DAYS", 1)
    _whole(config, "VOTE_COOKIE_DAYS", 1)
    _whole(config, "VOTE_POPULAR_MIN_YES", 1)
    _whole(config, "REVIEW_PER_PAGE", 1, MAX_REVIEW_PER_PAGE)
    # Below gunicorn's and nginx's 30 s timeouts (deploy/), so our 503 comes first.
    _seconds(config, "WRITE_TIMEOUT", 25)
    _seconds(config, "REDIS_TIMEOUT", 25)
    _seconds(config, "REVIEW_SESSION_HOURS", 24 * 365)
    for key in ("SUBMIT_RATE_LIMIT", "STATUS_RATE_LIMIT", "REVIEW_LOGIN_LIMIT",
                "REVIEW_LOGIN_CLIENT_LIMIT", "REVIEW_LOGIN_USER_LIMIT", "VOTE_RATE_LIMIT",
                "VOTE_STATE_RATE_LIMIT"):
        _limit_string(config, key)
    if config.get("RATELIMIT_STRATEGY", "fixed-window") != "fixed-window":
        raise _SettingError("RATELIMIT_STRATEGY", "must be fixed-window (every limit counts so)")
    uri = config.get("RATELIMIT_STORAGE_URI")
    if not isinstance(uri, str) or not uri.startswith(("memory://", "redis://", "rediss://")):
        raise _SettingError(
            "RATELIMIT_STORAGE_URI", f"must be memory:// or redis://host:port/db, not {uri!r}"
        )
    try:
        make_url(str(config["DATABASE_URL"]))
    except ArgumentError as err:
        raise _SettingError("DATABASE_URL", f"is not a database URL ({err})") from err
    zone = config.get("TIMEZONE")
    try:
        ZoneInfo(str(zone))
    except (ValueError, ZoneInfoNotFoundError) as err:
        raise _SettingError(
            "TIMEZONE", f"must be a time zone name such as Asia/Tokyo, not {zone!r}"
        ) from err
    _http_url(str(config.get("SITE_URL") or ""), "SITE_URL")
    site_dir = config.get("SITE_DIR")
    if not isinstance(site_dir, str | os.PathLike) or not str(site_dir).strip():
        raise _SettingError("SITE_DIR", f"must be the built site's folder, not {site_dir!r}")
    config["SITE_DIR"] = str(site_dir)
    for key in ("BENCH", "SESSION_COOKIE_SECURE"):
        if not isinstance(config.get(key), bool):
            raise _SettingError(key, f"must be true or false, not {config.get(key)!r}")


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
        data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        if all(data.get(key) for key in REQUIRED_OUTSIDE_DEV):
            return data
    instance_path.mkdir(parents=True, exist_ok=True)
    data = {key: secrets.token_hex(32) for key in REQUIRED_OUTSIDE_DEV}
    # Create with 0600 and never overwrite a file another worker wrote meanwhile.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        written: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return written
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
        site = load_site(root)
        return SiteInfo(site.name, tuple((p.id, p.name) for p in site.products))
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


_ADDRESS = re.compile(r"^[^@\s,<>]+@[^@\s,<>]+$")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """Where reviewers' notifications go (forms_app.review.notify); empty: channel off."""

    email_to: tuple[str, ...] = ()
    email_from: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    webhook_url: str = ""
    webhook_secret: str = ""
    review_url: str = ""
    timeout: float = 10.0

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.email_to)

    @property
    def webhook_enabled(self) -> bool:
        return bool(self.webhook_url)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> NotifySettings:
        """Settings from the app's config; _SettingError names a wrong setting."""

        def text(key: str) -> str:
            value = config.get(key)
            return "" if value is None else str(value).strip()

        raw_to = config.get("NOTIFY_EMAIL_TO") or ()
        if isinstance(raw_to, str):
            raw_to = raw_to.split(",")
        recipients = tuple(str(a).strip() for a in raw_to if str(a).strip())
        for address in recipients:
            if not _ADDRESS.fullmatch(address):
                raise _SettingError(
                    "NOTIFY_EMAIL_TO", f"must be comma-separated e-mail addresses, not {address!r}"
                )
        sender = text("NOTIFY_EMAIL_FROM") or "cmskit-forms@localhost"
        if not _ADDRESS.fullmatch(sender):
            raise _SettingError(
                "NOTIFY_EMAIL_FROM", f"must be an e-mail address, not {sender!r}"
            )
        smtp_host = text("NOTIFY_SMTP_HOST")
        if recipients and not smtp_host:
            raise _SettingError(
                "NOTIFY_SMTP_HOST", "is not set but NOTIFY_EMAIL_TO is: e-mail would never be sent"
            )
        if smtp_host and not recipients:
            raise _SettingError(
                "NOTIFY_EMAIL_TO", "is not set but NOTIFY_SMTP_HOST is: nobody would get e-mail"
            )
        starttls = text("NOTIFY_SMTP_STARTTLS").lower()
        if starttls not in _TRUE + _FALSE:
            raise _SettingError(
                "NOTIFY_SMTP_STARTTLS", f"must be true or false, not {starttls!r}"
            )
        return cls(
            email_to=recipients,
            email_from=sender,
            smtp_host=smtp_host,
            smtp_port=_number(config, "NOTIFY_SMTP_PORT", 25, int, 1, 65535),
            smtp_user=text("NOTIFY_SMTP_USER"),
            smtp_password=text("NOTIFY_SMTP_PASSWORD"),
            smtp_starttls=starttls in _TRUE,
            webhook_url=_http_url(text("NOTIFY_WEBHOOK_URL"), "NOTIFY_WEBHOOK_URL"),
            webhook_secret=text("NOTIFY_WEBHOOK_SECRET"),
            review_url=_http_url(text("NOTIFY_REVIEW_URL"), "NOTIFY_REVIEW_URL"),
            timeout=_number(config, "NOTIFY_TIMEOUT", 10.0, float, 0.1, 300),
        )


def _http_url(value: str, key: str) -> str:
    """`value` if empty or an absolute http(s) URL with a host, else _SettingError."""
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in value):
        raise _SettingError(key, f"must be an absolute http(s) URL with a host, not {value!r}")
    return value


def _number(
    config: Mapping[str, Any], key: str, default: float, kind: type, low: float, high: float
) -> Any:
    raw = config.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or isinstance(raw, bool) or not low <= value <= high:
        raise _SettingError(key, f"must be a number from {low:g} to {high:g}, not {raw!r}")
    return value
