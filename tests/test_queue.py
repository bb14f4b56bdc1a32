"""The queue: migrations, durable submits from several processes, PostgreSQL end to end."""

from __future__ import annotations

import multiprocessing
import re
from pathlib import Path

import pytest
from forms_helpers import (
    add_support_id,
    config_for,
    count_rows,
    engine_of,
    feedback_data,
    make_app,
    receipt_on_thanks,
    submit_many,
)
from review_helpers import migrated_engine
from sqlalchemy import inspect, select, text

from forms_app import create_app
from forms_app.public.receipts import ALPHABET, new_receipt, parse_receipt
from forms_app.storage.db import get_engine
from forms_app.storage.migrations import SchemaError, check_current, current_version, migrate
from forms_app.storage.schema import SCHEMA_VERSION, request_history, requests

# ---------------------------------------------------------------- receipts


def test_receipts_are_random_readable_and_parse_back() -> None:
    seen = {new_receipt() for _ in range(2000)}
    assert len(seen) == 2000
    for receipt in list(seen)[:50]:
        assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", receipt)
        assert not set(receipt.replace("-", "")) & set("ILOU")
        assert parse_receipt(receipt) == receipt
    assert len(ALPHABET) == 32  # 12 symbols x 5 bits = 60 bits


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("k7qm 3xad 9prt", "K7QM-3XAD-9PRT"),
        ("Ｋ７ＱＭ－３ＸＡＤ－９ＰＲＴ", "K7QM-3XAD-9PRT"),
        ("K7QM3XAD9PRT", "K7QM-3XAD-9PRT"),
        ("KIQM-3XAD-9PRO", "K1QM-3XAD-9PR0"),  # look-alikes mapped back
        ("K7QM-3XAD-9PR", None),
        ("K7QM-3XAD-9PRTU", None),
        ("' OR 1=1 --", None),
    ],
)
def test_parse_receipt(typed: str, expected: str | None) -> None:
    assert parse_receipt(typed) == expected


# ---------------------------------------------------------------- migrations


def test_migrate_creates_then_is_idempotent(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    first = migrate(engine)
    assert (first.before, first.after) == (None, SCHEMA_VERSION)
    second = migrate(engine)
    assert (second.before, second.after) == (SCHEMA_VERSION, SCHEMA_VERSION)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM schema_version")).scalar_one() == 1
        assert current_version(conn) == SCHEMA_VERSION
    check_current(engine)


def test_upgrade_from_version_1_keeps_rows(tmp_path: Path) -> None:
    """Build a version-1 queue (without the v2 index) holding a request, then migrate."""
    app = make_app(tmp_path)
    engine = engine_of(app)
    add_support_id(engine, "CK-0001")
    client = app.test_client()
    assert client.post("/feedback/", data=feedback_data("CK-0001")).status_code == 303
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_failed_at"))
        conn.execute(text("UPDATE schema_version SET version = 1"))
    with pytest.raises(SchemaError, match="run `cmskit-forms migrate`"):
        check_current(engine)
    with pytest.raises(SchemaError, match="version 1"):
        create_app(config_for(tmp_path, ENV="production"))

    result = migrate(engine)
    assert (result.before, result.after) == (1, SCHEMA_VERSION)
    with engine.connect() as conn:
        indexes = {ix["name"] for ix in inspect(conn).get_indexes("failed_attempts")}
        assert "ix_failed_at" in indexes
    assert count_rows(engine) == 1
    assert count_rows(engine, request_history) == 1
    create_app(config_for(tmp_path, ENV="production"))  # now starts


def test_production_refuses_an_empty_queue(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="no schema yet: run `cmskit-forms migrate`"):
        create_app(config_for(tmp_path, ENV="production"))


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    engine = migrated_engine(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE schema_version SET version = 99"))
    with pytest.raises(SchemaError, match="newer than this app"):
        migrate(engine)


def test_unversioned_tables_are_not_guessed(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE requests (id INTEGER PRIMARY KEY)"))
    with pytest.raises(SchemaError, match="without a schema_version"):
        migrate(engine)


# ---------------------------------------------------------------- several processes


def test_concurrent_submissions_from_four_processes(tmp_path: Path) -> None:
    """4 processes x 25 submits on one SQLite file: every acknowledged receipt stored once."""
    config = config_for(tmp_path, SUBMIT_RATE_LIMIT="10000 per minute")
    app = create_app(config)
    add_support_id(engine_of(app), "CK-PAR-0001")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.starmap(submit_many, [(config, "CK-PAR-0001", 25)] * 4)
    acknowledged = [r for batch in results for r in batch]
    assert len(acknowledged) == 100
    assert len(set(acknowledged)) == 100
    with engine_of(app).connect() as conn:
        stored = conn.execute(select(requests.c.receipt)).scalars().all()
    assert sorted(stored) == sorted(acknowledged)
    assert count_rows(engine_of(app), request_history) == 100


# ---------------------------------------------------------------- PostgreSQL


def test_fields_are_stored_as_readable_utf8_json(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    engine = engine_of(app)
    add_support_id(engine, "CK-JSON-0001")
    response = app.test_client().post("/feedback/", data=feedback_data("CK-JSON-0001"))
    assert response.status_code == 303
    with engine.begin() as conn:
        raw = conn.execute(text("SELECT fields FROM requests")).scalar_one()
        assert "記事の一覧で並び順が保存されない" in raw and "\\u" not in raw
        # A row an earlier version wrote with \uXXXX escapes reads back the same.
        escaped = raw.replace("記事", "\\u8a18\\u4e8b")
        conn.execute(text("UPDATE requests SET fields = :f"), {"f": escaped})
        assert conn.execute(select(requests.c.fields)).scalar_one()["title"].startswith("記事")


@pytest.mark.service
def test_whole_path_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    app = make_app(tmp_path, DATABASE_URL=pg_url)
    engine = engine_of(app)
    assert engine.dialect.name == "postgresql"
    check_current(engine)
    assert migrate(engine).before == SCHEMA_VERSION  # idempotent on PostgreSQL too
    add_support_id(engine, "PG-0001-0002")
    client = app.test_client()

    wrong = client.post("/feedback/", data=feedback_data("PG-0001-0003"))
    assert wrong.status_code == 400
    response = client.post("/feedback/", data=feedback_data("ｐｇ－０００１－０００２"))
    assert response.status_code == 303
    receipt = receipt_on_thanks(client)
    status = client.get("/status/", query_string={"receipt": receipt})
    assert status.status_code == 200 and "受付済み" in status.get_data(as_text=True)
    with engine.connect() as conn:
        row = conn.execute(select(requests).where(requests.c.receipt == receipt)).one()
        failed = conn.execute(text("SELECT sum(n) FROM rate_counters")).scalar_one()
    assert row.fields["title"] == "記事の一覧で並び順が保存されない"
    assert count_rows(engine, request_history) == 1
    assert failed == 2  # the wrong ID: counted once for the client, once for the ID


@pytest.mark.service
def test_control_character_never_reaches_postgresql(tmp_path: Path, pg_url: str) -> None:
    app = make_app(tmp_path, DATABASE_URL=pg_url)
    add_support_id(engine_of(app), "PG-0001-0002")
    response = app.test_client().post(
        "/feedback/", data=feedback_data("PG-0001-0002", description="a\x00b")
    )
    assert response.status_code == 400
