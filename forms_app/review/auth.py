"""Reviewer sign-in for the web view: session keys, lifetime and the login rate limit.

The review login lives in its own keys of the app's session cookie (``review_user``,
``review_since``, ``review_key``). ``review_key`` must equal the account's ``session_key`` in
the database: logout and a password change replace that key, so a copied cookie stops
working with them, and a removed account has no key at all. A session also expires after
``REVIEW_SESSION_HOURS`` whatever the cookie says. Signing in clears the whole session
first (no fixation: nothing from before the login survives, not even the CSRF token).

Failed logins are limited the way OWASP's authentication guidance describes, so that an
attacker can neither guess without bound nor lock a reviewer out:

- per (username, client) (``REVIEW_LOGIN_LIMIT``): a client that failed too often for a
  username is refused for it; every other client, the reviewer's included, is not;
- per client over all usernames (``REVIEW_LOGIN_CLIENT_LIMIT``): one client spraying names;
- per username, a daily cap on guesses from untrusted clients (``REVIEW_LOGIN_USER_LIMIT``)
  that bounds what many addresses together can try;
- a browser that has signed in as the username before carries a signed device cookie
  (OWASP's "device cookies"): it is counted on its own (``REVIEW_LOGIN_LIMIT`` per cookie)
  and the per-client and per-username limits do not apply to it, so the reviewer still gets
  in from their usual browser while the username is being attacked.

Every limit counts before the password is checked and compares after (the counter of
forms_app.ratelimit.counters), so parallel guesses cannot pass a limit; a successful login takes its
counts back. The per-username cap counts only attempts that passed the per-client limits,
so one blocked client cannot use it up.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field

from flask import current_app, request, session
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse_many
from werkzeug.wrappers import Response as BaseResponse

from forms_app import ratelimit
from forms_app.ratelimit.clients import client_scope
from forms_app.ratelimit.counters import counter_key
from forms_app.review import accounts
from forms_app.storage.db import app_engine

USER_KEY = "review_user"
SINCE_KEY = "review_since"
SESSION_KEY = "review_key"


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


DEVICE_COOKIE = "cmskit_review_device"
_DEVICE_SALT = "cmskit-review-device"


@dataclass(frozen=True, slots=True)
class _Limit:
    key: str
    expiry: int
    amount: int


@dataclass(slots=True)
class LoginAttempt:
    """The counts one login attempt took; `refused` says which limit stopped it, if any."""

    counted: list[_Limit] = field(default_factory=list)
    refused: str | None = None  # "client" (this client or device) | "user" (username cap)


def _limits(setting: str, scope: str, *parts: str) -> list[_Limit]:
    return [
        _Limit(counter_key(f"{scope}-{item.amount}-{item.get_expiry()}", *parts),
               item.get_expiry(), item.amount)
        for item in parse_many(current_app.config[setting])
    ]


def _name(username: str) -> str:
    return (username or "").strip().lower()[:64]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_DEVICE_SALT)


def _device_days() -> int:
    return int(current_app.config["REVIEW_DEVICE_DAYS"])


def _device(username: str) -> str | None:
    """The id of this browser's device cookie when it was issued for `username`."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 500:
        return None
    try:
        data = _serializer().loads(raw, max_age=_device_days() * 86400)
    except BadSignature:  # forged, or older than REVIEW_DEVICE_DAYS
        return None
    if not isinstance(data, dict) or data.get("u") != _name(username):
        return None
    device = data.get("d")
    return device if isinstance(device, str) else None


def _take(attempt: LoginAttempt, limits: list[_Limit], refusal: str) -> bool:
    """Count `limits` (increment, then compare); False, noting `refusal`, when one is past."""
    counter = ratelimit.login_counter()
    within = True
    for limit in limits:
        within = counter.incr(limit.key, limit.expiry) <= limit.amount and within
        attempt.counted.append(limit)
    if not within:
        attempt.refused = refusal
    return within


def begin_login(username: str) -> LoginAttempt:
    """Count this attempt before the password is checked (see the module's docstring)."""
    attempt = LoginAttempt()
    name = _name(username)
    device = _device(username)
    if device is not None:
        _take(attempt, _limits("REVIEW_LOGIN_LIMIT", "login-device", device), "client")
        return attempt
    client = client_scope(request.remote_addr) or "-"  # IPv6: its /64
    own = _limits("REVIEW_LOGIN_LIMIT", "login-pair", name, client)
    own += _limits("REVIEW_LOGIN_CLIENT_LIMIT", "login-client", client)
    if _take(attempt, own, "client"):
        _take(attempt, _limits("REVIEW_LOGIN_USER_LIMIT", "login-user", name), "user")
    return attempt


def login_succeeded(attempt: LoginAttempt) -> None:
    """A right password costs nothing: give the attempt's counts back."""
    counter = ratelimit.login_counter()
    for limit in attempt.counted:
        counter.incr(limit.key, limit.expiry, -1)


def remember_device(response: BaseResponse, username: str) -> None:
    """Mark this browser as one that signed in as `username` (a signed, long-lived cookie)."""
    value = _serializer().dumps({"u": _name(username), "d": secrets.token_hex(12)})
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=_device_days() * 86400,
        path=f"{request.script_root}/review/",
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite="Strict",
    )
