"""Retention: purge closed requests' personal data, forget an e-mail; history facts stay."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from review_helpers import add_request, migrated_engine, move_to, sqlite_engine
from services import postgres_schema
from sqlalchemy import Engine

from forms_app.review import notify, retention, triage
from forms_app.storage.db import write_tx
from forms_app.storage.schema import outbox, requests


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
    move_to(engine, old_closed["id"], "in_review")
    triage.set_status(engine, old_closed["id"], "declined", actor="sato",
                      comment="山田太郎様 (yamada@example.com, 090-1234-5678) に電話で確認")
    old_accepted = add_request(engine, title="田中の要望", email="tanaka@example.com")
    move_to(engine, old_accepted["id"], "accepted")
    _notify(engine, old_closed, sent=False)
    _notify(engine, old_closed, sent=True)
    _notify(engine, old_open := add_request(engine, email="open@example.com"), sent=False)
    move_to(engine, old_open["id"], "in_review")
    recent_closed = add_request(engine, email="recent@example.com")
    move_to(engine, recent_closed["id"], "declined")
    _age(engine, old_closed["id"], 400)
    _age(engine, old_accepted["id"], 400)
    _age(engine, old_open["id"], 400)
    _age(engine, recent_closed["id"], 10)
    history_before = triage.get_history(engine, old_closed["id"])

    report = retention.purge_closed(engine, older_than_days=365)
    assert (report.requests, report.outbox, report.comments) == (2, 2, 1)
    assert triage.get_request(engine, old_accepted["id"])["title"] == retention.PURGED_TITLE
    purged = triage.get_request(engine, old_closed["id"])
    assert purged["title"] == retention.PURGED_TITLE
    assert (purged["body"], purged["fields"], purged["contact_email"], purged["client_addr"],
            purged["support_id_hash"]) == ("", {}, None, None, "")
    assert (purged["status"], purged["form"], purged["product"]) == ("declined", "feedback",
                                                                     "cloud")
    history = triage.get_history(engine, old_closed["id"])
    facts = ("id", "at", "actor", "action", "from_status", "to_status")
    assert [{k: h[k] for k in facts} for h in history[: len(history_before)]] == [
        {k: h[k] for k in facts} for h in history_before
    ]
    assert [h["comment"] for h in history_before if h["comment"]] != []
    assert [h["comment"] for h in history if h["comment"] and h["action"] != "purge"] == [
        retention.PURGED_COMMENT
    ]
    assert history[-1]["action"] == "purge"
    dumped = json.dumps([triage.public_view(h) for h in history], ensure_ascii=False)
    assert "yamada" not in dumped and "山田" not in dumped and "090-" not in dumped
    # Its notifications are gone, sent or not; another request's stay.
    left = notify.outbox_rows(engine)
    assert [r["request_id"] for r in left] == [old_open["id"]]
    assert "山田" not in json.dumps([r["payload"] for r in left], ensure_ascii=False)
    assert triage.get_request(engine, old_open["id"])["contact_email"] == "open@example.com"
    assert triage.get_request(engine, recent_closed["id"])["contact_email"] == (
        "recent@example.com"
    )
    # Running again changes nothing more.
    again = retention.purge_closed(engine, older_than_days=365)
    assert (again.requests, again.outbox, again.comments) == (0, 0, 0)
    with pytest.raises(ValueError):
        retention.purge_closed(engine, older_than_days=0)


def _notify(engine: Engine, item: dict[str, object], *, sent: bool) -> None:
    """Queue a webhook notification for `item` (marked sent long ago when `sent`)."""
    settings = notify.NotifySettings(webhook_url="http://127.0.0.1:9/")
    with write_tx(engine) as conn:
        notify.enqueue_new_request(conn, item, settings)
        if sent:
            newest = conn.execute(outbox.select().order_by(outbox.c.id.desc())).first()
            assert newest is not None
            conn.execute(outbox.update().where(outbox.c.id == newest.id).values(
                sent_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1)))


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
    about = add_request(engine, title="Taro.Yamada@example.com さんからの問い合わせ")
    triage.set_status(engine, mine["id"], "in_review", actor="sato",
                      comment="TARO.YAMADA@EXAMPLE.COM に確認済み")
    triage.set_status(engine, other["id"], "in_review", actor="sato",
                      comment="taro.yamada@example.com と同じ件")
    _notify(engine, about, sent=False)
    _notify(engine, other, sent=False)
    report = retention.forget_email(engine, " taro.yamada@example.com ", actor="sato")
    assert (report.requests, report.comments, report.outbox) == (2, 2, 1)
    for request_id in (mine["id"], other["id"]):
        comments = [h["comment"] for h in triage.get_history(engine, request_id)]
        assert "yamada" not in " ".join(comments).lower()
        assert any(retention.ERASED in c for c in comments)
    payloads = [r["payload"] for r in notify.outbox_rows(engine)]
    assert "yamada" not in json.dumps(payloads).lower()
    assert payloads[0]["title"] == f"{retention.ERASED} さんからの問い合わせ"
    assert payloads[1]["receipt"] == other["receipt"]  # untouched
    row = triage.get_request(engine, mine["id"])
    assert row["contact_email"] is None
    assert "yamada" not in json.dumps(triage.public_view(row), ensure_ascii=False).lower()
    assert retention.ERASED in row["body"]
    assert row["fields"]["contact_email"] == ""
    assert triage.get_request(engine, other["id"])["contact_email"] == "someone@example.com"
    last = triage.get_history(engine, mine["id"])[-1]
    assert last["action"] == "forget_email" and "yamada" not in last["comment"]
    assert retention.forget_email(engine, "taro.yamada@example.com") == retention.ForgetReport(
        0, 0, 0
    )
    for bad in ("", "no-at-sign", "a@b@c"):
        with pytest.raises(ValueError):
            retention.forget_email(engine, bad)


@pytest.mark.service
def test_purge_and_forget_on_postgresql() -> None:
    with postgres_schema() as url:
        engine = migrated_engine(url)
        item = add_request(engine, title="hanako@example.jp の件", email="hanako@example.jp")
        move_to(engine, item["id"], "in_review")
        triage.set_status(engine, item["id"], "declined", actor="sato",
                          comment="hanako@example.jp 山田花子様")
        _notify(engine, item, sent=False)
        forgot = retention.forget_email(engine, "HANAKO@example.jp")
        assert (forgot.requests, forgot.comments, forgot.outbox) == (1, 1, 1)
        assert "hanako" not in json.dumps(notify.outbox_rows(engine)[0]["payload"])
        _age(engine, item["id"], 40)
        purged = retention.purge_closed(engine, older_than_days=30)
        assert (purged.requests, purged.outbox, purged.comments) == (1, 1, 1)
        comments = [h["comment"] for h in triage.get_history(engine, item["id"])]
        assert "山田" not in "".join(comments)
