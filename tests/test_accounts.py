"""Reviewer accounts: scrypt hashes, add / remove / list, passwords never on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_helpers import sqlite_engine
from sqlalchemy import Engine, select

from forms_app import accounts
from forms_app.schema import reviewers


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return sqlite_engine(tmp_path)


def test_add_verify_remove(engine: Engine) -> None:
    made = accounts.add_reviewer(engine, " Sato ", "a long enough password")
    assert made.username == "sato"
    with engine.connect() as conn:
        stored = conn.execute(select(reviewers.c.password_hash)).scalar_one()
    assert stored.startswith("scrypt:") and "a long enough password" not in stored
    assert accounts.verify(engine, "sato", "a long enough password") == "sato"
    assert accounts.verify(engine, "SATO", "a long enough password") == "sato"
    assert accounts.verify(engine, "sato", "a long enough passwore") is None
    assert accounts.verify(engine, "nobody", "a long enough password") is None
    assert accounts.verify(engine, "", "") is None
    assert [r.username for r in accounts.list_reviewers(engine)] == ["sato"]
    accounts.set_password(engine, "sato", "another long password")
    assert accounts.verify(engine, "sato", "a long enough password") is None
    assert accounts.verify(engine, "sato", "another long password") == "sato"
    accounts.remove_reviewer(engine, "sato")
    assert accounts.list_reviewers(engine) == []
    assert accounts.verify(engine, "sato", "another long password") is None


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("sato", "short", "12文字以上"),
        ("x", "a long enough password", "ユーザー名"),
        ("sato san", "a long enough password", "ユーザー名"),
        ("<script>", "a long enough password", "ユーザー名"),
        ("sato", "p" * 300, "256文字以内"),
    ],
)
def test_bad_accounts_are_refused(engine: Engine, name: str, password: str, message: str) -> None:
    with pytest.raises(accounts.AccountError, match=message):
        accounts.add_reviewer(engine, name, password)
    assert accounts.list_reviewers(engine) == []


def test_duplicate_and_missing_accounts(engine: Engine) -> None:
    accounts.add_reviewer(engine, "sato", "a long enough password")
    with pytest.raises(accounts.AccountError, match="すでに"):
        accounts.add_reviewer(engine, "SATO", "another long password")
    with pytest.raises(accounts.AccountError, match="いません"):
        accounts.remove_reviewer(engine, "suzuki")
