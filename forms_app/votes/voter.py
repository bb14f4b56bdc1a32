"""Who a vote comes from: a random id in a signed cookie of the browser (no login).

The cookie (`COOKIE`) holds 16 random bytes signed with the app's SECRET_KEY
(itsdangerous), is HttpOnly, SameSite=Strict and scoped to ``/forms/votes``. The table
stores HMAC-SHA256(SECRET_KEY, id) only (`voter_key`), so a copy of the database alone
cannot be matched to a browser. A browser without the cookie (or with a forged one) gets a
new id: one vote per browser per question, as far as a browser keeps its cookies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

COOKIE = "cmskit_voter"
_SALT = "cmskit-forms-voter"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(str(current_app.config["SECRET_KEY"]), salt=_SALT)


def current_id() -> str | None:
    """The voter id of this browser's cookie, or None (absent, forged, damaged)."""
    raw = request.cookies.get(COOKIE, "")
    if not raw or len(raw) > 200:
        return None
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) and len(value) == 32 else None


def new_id() -> str:
    return secrets.token_hex(16)


def voter_key(voter_id: str) -> str:
    """What the votes table stores for a voter id (hex, 64 characters)."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"voter:" + voter_id.encode(), hashlib.sha256).hexdigest()


def set_cookie(response: Response, voter_id: str) -> None:
    """(Re)send the cookie: every answer renews its lifetime."""
    config = current_app.config
    response.set_cookie(
        COOKIE,
        _serializer().dumps(voter_id),
        max_age=int(config["VOTE_COOKIE_DAYS"]) * 86400,
        path=f"{request.script_root}/votes",
        secure=bool(config["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite="Strict",
    )
