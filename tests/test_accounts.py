"""Reviewer accounts: scrypt hashes, add / remove / list, passwords never on the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from review_helpers import migrated_engine, sqlite_engine
from services import postgres_schema
from sqlalchemy import Engine, inspect, select, text
from werkzeug.security import generate_password_hash

from forms_app.review import accounts
from forms_app.storage.migrations import migrate
from forms_app.storage.schema import SCHEMA_VERSION, reviewers


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


def test_session_key_changes_on_logout_password_change_and_removal(engine: Engine) -> None:
    accounts.add_reviewer(engine, "sato", "a long enough password")
    accounts.add_reviewer(engine, "suzuki", "a long enough password")
    first = accounts.session_key(engine, "sato")
    assert first and len(first) == 32
    assert first != accounts.session_key(engine, "suzuki")  # random, not a counter
    accounts.end_sessions(engine, "sato")
    second = accounts.session_key(engine, "sato")
    assert second and second != first
    accounts.set_password(engine, "sato", "another long password")
    third = accounts.session_key(engine, "sato")
    assert third and third not in (first, second)
    accounts.remove_reviewer(engine, "sato")
    assert accounts.session_key(engine, "sato") is None
    # Re-created under the same name: sessions of the old account stay dead.
    accounts.add_reviewer(engine, "sato", "a long enough password")
    assert accounts.session_key(engine, "sato") not in (None, first, second, third)


def _downgrade_to_v2(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE reviewers DROP COLUMN session_key"))
        conn.execute(text("ALTER TABLE outbox DROP COLUMN request_id"))
        # what version 4 added
        conn.execute(text("DROP INDEX ix_requests_idempotency"))
        conn.execute(text("ALTER TABLE requests DROP COLUMN idempotency_key"))
        conn.execute(text("DROP TABLE rate_counters"))
        conn.execute(text("DROP TABLE votes"))  # what version 5 added
        conn.execute(text("UPDATE schema_version SET version = 2"))
        conn.execute(
            text("INSERT INTO reviewers (username, password_hash, active, created_at) "
                 "VALUES ('old', :h, :a, :t)"),
            {"h": generate_password_hash("an old long password", method="scrypt"),
             "a": True, "t": dt.datetime.now(dt.UTC)},
        )


def _check_upgraded(engine: Engine) -> None:
    assert migrate(engine).before == 2
    assert accounts.verify(engine, "old", "an old long password") == "old"
    key = accounts.session_key(engine, "old")
    assert key and len(key) == 32
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("outbox")}
        request_columns = {c["name"] for c in inspect(conn).get_columns("requests")}
        tables = set(inspect(conn).get_table_names())
    assert "request_id" in columns
    assert "idempotency_key" in request_columns and "rate_counters" in tables
    assert migrate(engine).before == SCHEMA_VERSION == 5
    assert "votes" in tables


def test_upgrade_from_version_2_gives_existing_reviewers_a_session_key(engine: Engine) -> None:
    _downgrade_to_v2(engine)
    _check_upgraded(engine)


@pytest.mark.service
def test_upgrade_from_version_2_on_postgresql() -> None:
    with postgres_schema() as url:
        engine = migrated_engine(url)
        _downgrade_to_v2(engine)
        _check_upgraded(engine)
