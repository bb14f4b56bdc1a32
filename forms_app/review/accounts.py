"""Reviewer accounts: created and removed from the command line, passwords hashed with scrypt.

Each account has a random ``session_key`` that every review session cookie must carry
(forms_app.review.auth): replacing it on logout and password change ends every session
signed in before, and a removed account has none.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from forms_app.storage.db import read_tx, write_tx
from forms_app.storage.schema import reviewers
from forms_app.timeutil import as_utc, utcnow

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 256
HASH_METHOD = "scrypt"


@cache
def _dummy_hash() -> str:
    """Checked when the username is unknown: a wrong name costs as much as a wrong password."""
    return generate_password_hash("not-a-real-password-for-timing", method=HASH_METHOD)


def _new_session_key() -> str:
    return secrets.token_hex(16)


class AccountError(Exception):
    """A reviewer account operation that cannot be done (Japanese message)."""


@dataclass(frozen=True, slots=True)
class Reviewer:
    username: str
    active: bool
    created_at: Any


def normalize_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not USERNAME_RE.fullmatch(name):
        raise AccountError(
            "ユーザー名は英小文字・数字・「_ . -」の2〜64文字で、英数字で始めてください。"
        )
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"パスワードは{MIN_PASSWORD}文字以上にしてください。")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"パスワードは{MAX_PASSWORD}文字以内にしてください。")


def add_reviewer(engine: Engine, username: str, password: str) -> Reviewer:
    """Create an account; AccountError if the name is taken or the password too weak."""
    name = normalize_username(username)
    check_password(password)
    hashed = generate_password_hash(password, method=HASH_METHOD)
    now = utcnow()
    try:
        with write_tx(engine) as conn:
            conn.execute(
                reviewers.insert().values(
                    username=name, password_hash=hashed, active=True, created_at=now,
                    session_key=_new_session_key(),
                )
            )
    except IntegrityError as err:
        raise AccountError(f"ユーザー名 {name} はすでに使われています。") from err
    return Reviewer(name, True, now)


def set_password(engine: Engine, username: str, password: str) -> None:
    """Change the password; every session signed in with the old one ends."""
    name = normalize_username(username)
    check_password(password)
    hashed = generate_password_hash(password, method=HASH_METHOD)
    with write_tx(engine) as conn:
        result = conn.execute(
            reviewers.update()
            .where(reviewers.c.username == name)
            .values(password_hash=hashed, session_key=_new_session_key())
        )
        if result.rowcount != 1:
            raise AccountError(f"ユーザー {name} はいません。")


def remove_reviewer(engine: Engine, username: str) -> None:
    """Delete the account (its name stays in the history it wrote)."""
    name = normalize_username(username)
    with write_tx(engine) as conn:
        result = conn.execute(reviewers.delete().where(reviewers.c.username == name))
        if result.rowcount != 1:
            raise AccountError(f"ユーザー {name} はいません。")


def list_reviewers(engine: Engine) -> list[Reviewer]:
    with read_tx(engine) as conn:
        rows = conn.execute(select(reviewers).order_by(reviewers.c.username)).all()
    return [Reviewer(r.username, bool(r.active), as_utc(r.created_at)) for r in rows]


def session_key(engine: Engine, username: str) -> str | None:
    """The current session key of an active account, else None."""
    with read_tx(engine) as conn:
        row = conn.execute(
            select(reviewers.c.session_key, reviewers.c.active).where(
                reviewers.c.username == username
            )
        ).first()
    if row is None or not row.active or not row.session_key:
        return None
    return str(row.session_key)


def end_sessions(engine: Engine, username: str) -> None:
    """Replace the account's session key: every session signed in before stops working."""
    with write_tx(engine) as conn:
        conn.execute(
            reviewers.update()
            .where(reviewers.c.username == username)
            .values(session_key=_new_session_key())
        )


def verify(engine: Engine, username: str, password: str) -> str | None:
    """The normalized username when the credentials are right, else None."""
    try:
        name = normalize_username(username)
    except AccountError:
        name = None
    row = None
    if name is not None and len(password) <= MAX_PASSWORD:
        with read_tx(engine) as conn:
            row = conn.execute(
                select(reviewers.c.password_hash, reviewers.c.active).where(
                    reviewers.c.username == name
                )
            ).first()
    if row is None:
        check_password_hash(_dummy_hash(), password[:MAX_PASSWORD])
        return None
    if check_password_hash(row.password_hash, password) and row.active:
        return name
    return None
