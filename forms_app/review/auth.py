"""Reviewer sign-in for the web view: session keys, lifetime and the login rate limit.

The review login lives in its own keys of the app's session cookie (``review_user``,
``review_since``, ``review_key``). ``review_key`` must equal the account's ``session_key`` in
the database: logout and a password change replace that key, so a copied cookie stops
working with them, and a removed account has no key at all. A session also expires after
``REVIEW_SESSION_HOURS`` whatever the cookie says. Signing in clears the whole session
first (no fixation: nothing from before the login survives, not even the CSRF token).

Failed logins count against two limits (``REVIEW_LOGIN_LIMIT``): per client address and per
username, in the storage of the app's Flask-Limiter (memory, or Redis shared by every
worker); successful logins cost nothing.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from flask import current_app, request, session
from limits import RateLimitItem, parse_many
from limits.strategies import RateLimiter

from forms_app import accounts, attempts
from forms_app.queue import app_engine

USER_KEY = "review_user"
SINCE_KEY = "review_since"
SESSION_KEY = "review_key"
_NAMESPACE = "review-login"


def current_user() -> str | None:
    """The signed-in reviewer, or None (expired, logged-out and removed count as none)."""
    user = session.get(USER_KEY)
    since = session.get(SINCE_KEY)
    key = session.get(SESSION_KEY)
    if not isinstance(user, str) or not isinstance(since, int | float) or not isinstance(key, str):
        return None
    lifetime = float(current_app.config["REVIEW_SESSION_HOURS"]) * 3600
    if not 0 <= time.time() - since <= lifetime:
        _forget()
        return None
    stored = accounts.session_key(app_engine(), user)
    if stored is None or not hmac.compare_digest(stored, key):
        _forget()
        return None
    return user


def sign_in(username: str) -> None:
    """Start a fresh session for `username` (raises AccountError if it just disappeared)."""
    key = accounts.session_key(app_engine(), username)
    if key is None:
        raise accounts.AccountError("このアカウントは使えません。")
    session.clear()
    session[USER_KEY] = username
    session[SINCE_KEY] = int(time.time())
    session[SESSION_KEY] = key


def sign_out() -> None:
    """End this reviewer's sessions everywhere (copies of the cookie included)."""
    user = session.get(USER_KEY)
    if isinstance(user, str) and current_user() == user:
        accounts.end_sessions(app_engine(), user)
    _forget()


def _forget() -> None:
    for key in (USER_KEY, SINCE_KEY, SESSION_KEY, "csrf_token"):
        session.pop(key, None)


def _rate_limiter() -> RateLimiter:
    """The strategy of the app's Flask-Limiter (its storage is shared by every worker)."""
    return attempts.shared_strategy(current_app)


def _items() -> list[RateLimitItem]:
    return list(parse_many(current_app.config["REVIEW_LOGIN_LIMIT"]))


def _keys(username: str) -> list[tuple[str, ...]]:
    name = (username or "").strip().lower()[:64]
    client = attempts.client_scope(request.remote_addr) or "-"  # IPv6: its /64
    return [(_NAMESPACE, "client", client), (_NAMESPACE, "user", name)]


def locked_out(username: str) -> bool:
    """True when this client or this username used up its failed attempts."""
    strategy = _rate_limiter()
    return any(
        not strategy.test(item, *key) for item in _items() for key in _keys(username)
    )


def count_failure(username: str) -> None:
    strategy = _rate_limiter()
    for item in _items():
        for key in _keys(username):
            strategy.hit(item, *key)


def config_defaults() -> dict[str, Any]:
    return {
        "REVIEW_SESSION_HOURS": 8,
        "REVIEW_LOGIN_LIMIT": "5 per 15 minutes;20 per day",
        "REVIEW_PER_PAGE": 50,
    }
