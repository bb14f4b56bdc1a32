"""The triage status machine, claims, history and listing, on SQLite."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from review_helpers import add_request, move_to, sqlite_engine
from sqlalchemy import Engine

from forms_app.review import triage
from forms_app.storage.db import write_tx
from forms_app.storage.schema import requests

ALLOWED = {
    ("received", "in_review"),
    ("in_review", "accepted"),
    ("in_review", "declined"),
    ("in_review", "duplicate"),
    ("accepted", "published"),
    ("accepted", "in_review"),
    ("declined", "in_review"),
    ("duplicate", "in_review"),
}


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return sqlite_engine(tmp_path)


@pytest.mark.parametrize(("start", "target"), list(itertools.product(triage.STATUSES, repeat=2)))
def test_every_transition(engine: Engine, start: str, target: str) -> None:
    other = add_request(engine, form="docs", title="別の要望")["id"]
    item = add_request(engine, form="docs")
    move_to(engine, item["id"], start, other=other)
    before = triage.get_history(engine, item["id"])
    kwargs: dict[str, object] = {}
    if target == "duplicate":
        kwargs["duplicate_of"] = other
    if target == "published":
        kwargs["faq_id"] = "install-steps"
    if (start, target) in ALLOWED:
        row = triage.set_status(
            engine, item["id"], target, actor="sato", comment="確認しました", **kwargs
        )
        assert row["status"] == target
        history = triage.get_history(engine, item["id"])
        assert len(history) == len(before) + 1
        last = history[-1]
        assert (last["actor"], last["action"], last["from_status"], last["to_status"]) == (
            "sato", "status", start, target,
        )
        assert last["comment"] == "確認しました"
        assert last["at"].tzinfo is not None
        if target == "duplicate":
            assert row["duplicate_of"] == other
        if target == "published":
            assert row["published_faq_id"] == "install-steps"
    else:
        with pytest.raises(triage.ForbiddenTransition):
            triage.set_status(engine, item["id"], target, actor="sato", **kwargs)
        assert triage.get_request(engine, item["id"])["status"] == start
        assert triage.get_history(engine, item["id"]) == before


def test_history_is_kept_in_order_with_submission_first(engine: Engine) -> None:
    item = add_request(engine)
    move_to(engine, item["id"], "declined")
    triage.set_status(engine, item["id"], "in_review", actor="suzuki", comment="再確認")
    actions = [(h["action"], h["to_status"], h["actor"]) for h in
               triage.get_history(engine, item["id"])]
    assert actions == [
        ("submitted", "received", "requester"),
        ("status", "in_review", "setup"),
        ("status", "declined", "setup"),
        ("status", "in_review", "suzuki"),
    ]


def test_docs_request_needs_faq_id_to_publish(engine: Engine) -> None:
    item = add_request(engine, form="docs")
    move_to(engine, item["id"], "accepted")
    with pytest.raises(triage.InvalidInput, match="FAQ ID"):
        triage.publish(engine, item["id"], faq_id=None, actor="sato")
    with pytest.raises(triage.InvalidInput):
        triage.publish(engine, item["id"], faq_id="Bad ID!", actor="sato")
    assert triage.get_request(engine, item["id"])["status"] == "accepted"
    triage.publish(engine, item["id"], faq_id="new-question", actor="sato")
    assert triage.get_request(engine, item["id"])["published_faq_id"] == "new-question"


def test_feedback_request_publishes_without_faq_id(engine: Engine) -> None:
    item = add_request(engine, form="feedback")
    move_to(engine, item["id"], "accepted")
    row = triage.publish(engine, item["id"], faq_id=None, actor="sato")
    assert row["status"] == "published" and row["published_faq_id"] is None


def test_duplicate_needs_another_existing_request_without_cycles(engine: Engine) -> None:
    first = add_request(engine)
    second = add_request(engine)
    move_to(engine, first["id"], "in_review")
    move_to(engine, second["id"], "in_review")
    for bad in (None, "", first["id"], 99999):
        with pytest.raises(triage.InvalidInput):
            triage.mark_duplicate(engine, first["id"], of=bad, actor="sato")  # type: ignore[arg-type]
    # By receipt number, typed in lower case with spaces.
    row = triage.mark_duplicate(
        engine, first["id"], of=f" {second['receipt'].lower()} ", actor="sato"
    )
    assert row["duplicate_of"] == second["id"]
    with pytest.raises(triage.InvalidInput, match="循環"):
        triage.mark_duplicate(engine, second["id"], of=first["id"], actor="sato")
    # Reopening clears the link.
    row = triage.set_status(engine, first["id"], "in_review", actor="sato")
    assert row["duplicate_of"] is None


def test_claim_release_and_claim_blocks_others(engine: Engine) -> None:
    item = add_request(engine)
    triage.claim(engine, item["id"], actor="sato")
    with pytest.raises(triage.ClaimConflict) as caught:
        triage.claim(engine, item["id"], actor="suzuki")
    assert caught.value.claimed_by == "sato"
    with pytest.raises(triage.ClaimConflict):
        triage.set_status(engine, item["id"], "in_review", actor="suzuki")
    with pytest.raises(triage.ClaimConflict):
        triage.release(engine, item["id"], actor="suzuki")
    triage.set_status(engine, item["id"], "in_review", actor="sato")
    triage.release(engine, item["id"], actor="sato")
    assert triage.get_request(engine, item["id"])["claimed_by"] is None
    with pytest.raises(triage.ClaimConflict):
        triage.release(engine, item["id"], actor="sato")
    triage.claim(engine, item["id"], actor="suzuki")
    triage.release(engine, item["id"], actor="sato", force=True)
    actions = [(h["action"], h["actor"]) for h in triage.get_history(engine, item["id"])]
    assert actions[1:] == [
        ("claim", "sato"), ("status", "sato"), ("release", "sato"),
        ("claim", "suzuki"), ("release", "sato"),
    ]


def test_bad_actor_comment_and_unknown_request(engine: Engine) -> None:
    item = add_request(engine)
    with pytest.raises(triage.InvalidInput):
        triage.claim(engine, item["id"], actor="<script>")
    with pytest.raises(triage.InvalidInput):
        triage.set_status(engine, item["id"], "in_review", actor="sato", comment="x" * 2001)
    with pytest.raises(triage.InvalidInput):
        triage.set_status(engine, item["id"], "closed", actor="sato")
    with pytest.raises(triage.RequestNotFound):
        triage.claim(engine, 424242, actor="sato")
    with pytest.raises(triage.RequestNotFound):
        triage.get_request(engine, "ZZZZ-ZZZZ-ZZZZ")


def _set_created(engine: Engine, request_id: int, when: dt.datetime) -> None:
    with write_tx(engine) as conn:
        conn.execute(requests.update().where(requests.c.id == request_id).values(created_at=when))


def test_listing_filters_order_and_pages(engine: Engine) -> None:
    jst = dt.timezone(dt.timedelta(hours=9))
    a = add_request(engine, title="ログインできない", body="パスワード 100% 正しい")
    b = add_request(engine, form="docs", title="FAQ追加の要望", body="a_b を説明して",
                    product="asp")
    c = add_request(engine, title="表示が崩れる", body="スマホで崩れます", product="cloud")
    # a: 2026-03-01 08:59 JST (still 03-01), b: 2026-03-02 00:00 JST, c: 2026-03-03 23:59 JST
    _set_created(engine, a["id"], dt.datetime(2026, 3, 1, 8, 59, tzinfo=jst))
    _set_created(engine, b["id"], dt.datetime(2026, 3, 2, 0, 0, tzinfo=jst))
    _set_created(engine, c["id"], dt.datetime(2026, 3, 3, 23, 59, tzinfo=jst))
    move_to(engine, b["id"], "in_review")
    triage.claim(engine, c["id"], actor="sato")

    def ids(**kw: object) -> list[int]:
        page = triage.list_requests(engine, triage.ListFilter(**kw))  # type: ignore[arg-type]
        return [r["id"] for r in page.items]

    assert ids() == [c["id"], b["id"], a["id"]]
    assert ids(order="oldest") == [a["id"], b["id"], c["id"]]
    assert ids(statuses=["in_review"]) == [b["id"]]
    assert ids(statuses=["received", "in_review"]) == [c["id"], b["id"], a["id"]]
    assert ids(form="docs") == [b["id"]]
    assert ids(product="cloud") == [c["id"], a["id"]]
    assert ids(created_from=dt.date(2026, 3, 2)) == [c["id"], b["id"]]
    assert ids(created_to=dt.date(2026, 3, 1)) == [a["id"]]
    assert ids(created_from=dt.date(2026, 3, 2), created_to=dt.date(2026, 3, 2)) == [b["id"]]
    assert ids(claimed_by="sato") == [c["id"]]
    assert ids(claimed_by="-") == [b["id"], a["id"]]
    assert ids(q="ログイン") == [a["id"]]
    assert ids(q="スマホ 崩れ") == [c["id"]]
    assert ids(q="faq追加") == [b["id"]]  # case-insensitive for ASCII
    # LIKE wildcards are searched literally.
    assert ids(q="100%") == [a["id"]]
    assert ids(q="%") == [a["id"]]
    assert ids(q="a_b") == [b["id"]]
    assert ids(q="_") == [b["id"]]
    page1 = triage.list_requests(engine, triage.ListFilter(per_page=2))
    page2 = triage.list_requests(engine, triage.ListFilter(per_page=2, page=2))
    assert (page1.total, page1.pages, len(page1.items), len(page2.items)) == (3, 2, 2, 1)
    assert {r["id"] for r in page1.items + page2.items} == {a["id"], b["id"], c["id"]}


@pytest.mark.parametrize(
    "bad",
    [
        {"statuses": ["nope"]},
        {"form": "other"},
        {"order": "random"},
        {"page": 0},
        {"per_page": 1000},
        {"created_from": dt.date(2026, 2, 1), "created_to": dt.date(2026, 1, 1)},
        {"q": "x" * 201},
    ],
)
def test_listing_rejects_bad_filters(engine: Engine, bad: dict[str, object]) -> None:
    with pytest.raises(triage.InvalidInput):
        triage.list_requests(engine, triage.ListFilter(**bad))  # type: ignore[arg-type]
