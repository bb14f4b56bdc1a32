"""Reviewer sign-in for the web view: session keys, lifetime and the login rate limit.

The review login lives in its own keys of the app's session cookie (``review_user``,
``review_since``) and expires after ``REVIEW_SESSION_HOURS`` whatever the cookie says.
Failed logins count against two limits (``REVIEW_LOGIN_LIMIT``): per client address and per
username, in the storage of the app's Flask-Limiter (memory, or Redis shared by every
worker); successful logins cost nothing.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, current_app, request, session
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter, RateLimiter

from forms_app import accounts
from forms_app.queue import app_engine

USER_KEY = "review_user"
SINCE_KEY = "review_since"
_NAMESPACE = "review-login"


def current_user() -> str | None:
    """The signed-in reviewer, or None (expired sessions and removed accounts count as none)."""
    user = session.get(USER_KEY)
    since = session.get(SINCE_KEY)
    if not isinstance(user, str) or not isinstance(since, int | float):
        return None
    lifetime = float(current_app.config["REVIEW_SESSION_HOURS"]) * 3600
    if not 0 <= time.time() - since <= lifetime:
        sign_out()
        return None
    if not accounts.is_active(app_engine(), user):
        sign_out()
        return None
    return user


def sign_in(username: str) -> None:
    # A fresh CSRF token for the signed-in session.
    session.pop("csrf_token", None)
    session[USER_KEY] = username
    session[SINCE_KEY] = int(time.time())


def sign_out() -> None:
    session.pop(USER_KEY, None)
    session.pop(SINCE_KEY, None)
    session.pop("csrf_token", None)


def _rate_limiter(app: Flask) -> RateLimiter:
    """The app's Flask-Limiter strategy (shared storage), else one of our own."""
    for limiter in app.extensions.get("limiter", ()) or ():
        if getattr(limiter, "initialized", False):
            return limiter.limiter
    own = app.extensions.get("review_login_limiter")
    if own is None:
        storage = storage_from_string(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
        own = MovingWindowRateLimiter(storage)
        app.extensions["review_login_limiter"] = own
    return own


def _items() -> list[RateLimitItem]:
    return list(parse_many(current_app.config["REVIEW_LOGIN_LIMIT"]))


def _keys(username: str) -> list[tuple[str, ...]]:
    name = (username or "").strip().lower()[:64]
    return [(_NAMESPACE, "client", request.remote_addr or "-"), (_NAMESPACE, "user", name)]


def locked_out(username: str) -> bool:
    """True when this client or this username used up its failed attempts."""
    strategy = _rate_limiter(current_app)
    return any(
        not strategy.test(item, *key) for item in _items() for key in _keys(username)
    )


def count_failure(username: str) -> None:
    strategy = _rate_limiter(current_app)
    for item in _items():
        for key in _keys(username):
            strategy.hit(item, *key)


def config_defaults() -> dict[str, Any]:
    return {
        "REVIEW_SESSION_HOURS": 8,
        "REVIEW_LOGIN_LIMIT": "5 per 15 minutes;20 per day",
        "REVIEW_PER_PAGE": 50,
    }
