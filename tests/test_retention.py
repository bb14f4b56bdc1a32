"""Retention: purge closed requests' personal data, forget an e-mail; history facts stay."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from review_helpers import add_request, move_to, sqlite_engine
from sqlalchemy import Engine

from forms_app import notify, retention, triage
from forms_app.db import write_tx
from forms_app.schema import outbox, requests


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return sqlite_engine(tmp_path)


def _age(engine: Engine, request_id: int, days: int) -> None:
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    with write_tx(engine) as conn:
        conn.execute(requests.update().where(requests.c.id == request_id).values(updated_at=when))


def test_purge_blanks_old_closed_requests_only(engine: Engine) -> None:
    old_closed = add_request(engine, title="山田の要望", body="yamada@example.com に連絡を",
                             email="yamada@example.com")
    move_to(engine, old_closed["id"], "declined")
    old_open = add_request(engine, email="open@example.com")
    move_to(engine, old_open["id"], "in_review")
    recent_closed = add_request(engine, email="recent@example.com")
    move_to(engine, recent_closed["id"], "declined")
    _age(engine, old_closed["id"], 400)
    _age(engine, old_open["id"], 400)
    _age(engine, recent_closed["id"], 10)
    history_before = triage.get_history(engine, old_closed["id"])

    report = retention.purge_closed(engine, older_than_days=365)
    assert report.requests == 1
    purged = triage.get_request(engine, old_closed["id"])
    assert purged["title"] == retention.PURGED_TITLE
    assert (purged["body"], purged["fields"], purged["contact_email"], purged["client_addr"],
            purged["support_id_hash"]) == ("", {}, None, None, "")
    assert (purged["status"], purged["form"], purged["product"]) == ("declined", "feedback",
                                                                     "cloud")
    history = triage.get_history(engine, old_closed["id"])
    assert history[: len(history_before)] == history_before
    assert history[-1]["action"] == "purge"
    assert "yamada" not in json.dumps([triage.public_view(h) for h in history])
    assert triage.get_request(engine, old_open["id"])["contact_email"] == "open@example.com"
    assert triage.get_request(engine, recent_closed["id"])["contact_email"] == (
        "recent@example.com"
    )
    # Running again changes nothing more.
    assert retention.purge_closed(engine, older_than_days=365).requests == 0
    with pytest.raises(ValueError):
        retention.purge_closed(engine, older_than_days=0)


def test_purge_drops_old_sent_notifications_but_keeps_unsent(engine: Engine) -> None:
    settings = notify.NotifySettings(webhook_url="http://127.0.0.1:9/")
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=500)
    with write_tx(engine) as conn:
        for _ in range(2):
            notify.enqueue_new_request(conn, {"id": 1, "receipt": "X", "form": "docs",
                                              "title": "t"}, settings)
        ids = [r.id for r in conn.execute(outbox.select()).all()]
        conn.execute(outbox.update().where(outbox.c.id == ids[0]).values(sent_at=long_ago))
    report = retention.purge_closed(engine, older_than_days=30)
    assert report.outbox == 1
    assert [r["id"] for r in notify.outbox_rows(engine)] == [ids[1]]


def test_forget_email_everywhere_it_was_typed(engine: Engine) -> None:
    mine = add_request(engine, email="Taro.Yamada@Example.com",
                       body="連絡は taro.yamada@example.com まで",
                       fields={"description": "TARO.YAMADA@EXAMPLE.COM です",
                               "contact_email": "taro.yamada@example.com"})
    other = add_request(engine, email="someone@example.com", body="別の人")
    changed = retention.forget_email(engine, " taro.yamada@example.com ", actor="sato")
    assert changed == 1
    row = triage.get_request(engine, mine["id"])
    assert row["contact_email"] is None
    assert "yamada" not in json.dumps(triage.public_view(row), ensure_ascii=False).lower()
    assert retention.ERASED in row["body"]
    assert row["fields"]["contact_email"] == ""
    assert triage.get_request(engine, other["id"])["contact_email"] == "someone@example.com"
    last = triage.get_history(engine, mine["id"])[-1]
    assert last["action"] == "forget_email" and "yamada" not in last["comment"]
    assert retention.forget_email(engine, "taro.yamada@example.com") == 0
    for bad in ("", "no-at-sign", "a@b@c"):
        with pytest.raises(ValueError):
            retention.forget_email(engine, bad)
