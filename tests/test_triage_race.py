"""Reviewers racing for one claim: exactly one wins, on SQLite and on PostgreSQL."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest
from review_helpers import add_request, migrated_engine, sqlite_engine
from sqlalchemy import Engine

from forms_app.review import triage
from forms_app.storage.db import dispose_all, get_engine

REVIEWERS = [f"rev{i}" for i in range(6)]


def _race_threads(engine: Engine, request_id: int) -> list[str]:
    barrier = threading.Barrier(len(REVIEWERS))
    winners: list[str] = []
    errors: list[BaseException] = []

    def attempt(name: str) -> None:
        barrier.wait()
        try:
            triage.claim(engine, request_id, actor=name)
            winners.append(name)
        except triage.ClaimConflict:
            pass
        except BaseException as err:  # anything else is a bug the test must show
            errors.append(err)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in REVIEWERS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return winners


def _claim_in_process(url: str, request_id: int, name: str, start: object, out: object) -> None:
    engine = get_engine(url)
    start.wait()  # type: ignore[attr-defined]
    try:
        triage.claim(engine, request_id, actor=name)
        out.put((name, "won"))  # type: ignore[attr-defined]
    except triage.ClaimConflict:
        out.put((name, "lost"))  # type: ignore[attr-defined]
    except Exception as err:
        out.put((name, f"error: {err!r}"))  # type: ignore[attr-defined]


def _race_processes(url: str, request_id: int) -> list[str]:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_claim_in_process, args=(url, request_id, n, start, out))
        for n in REVIEWERS[:4]
    ]
    for p in procs:
        p.start()
    start.set()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(outcome in ("won", "lost") for _, outcome in results), results
    return [name for name, outcome in results if outcome == "won"]


def _check_single_winner(engine: Engine, request_id: int, winners: list[str]) -> None:
    assert len(winners) == 1, winners
    row = triage.get_request(engine, request_id)
    assert row["claimed_by"] == winners[0]
    claims = [h for h in triage.get_history(engine, request_id) if h["action"] == "claim"]
    assert [h["actor"] for h in claims] == winners


def test_claim_race_sqlite_threads(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path)
    for _ in range(3):
        item = add_request(engine)
        _check_single_winner(engine, item["id"], _race_threads(engine, item["id"]))


def test_claim_race_sqlite_processes(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path)
    item = add_request(engine)
    url = str(engine.url)
    dispose_all()  # no connection crosses into the children
    winners = _race_processes(url, item["id"])
    _check_single_winner(engine, item["id"], winners)


@pytest.mark.service
def test_claim_race_postgresql(pg_url: str) -> None:
    engine = migrated_engine(pg_url)
    for _ in range(3):
        item = add_request(engine)
        _check_single_winner(engine, item["id"], _race_threads(engine, item["id"]))
    item = add_request(engine)
    dispose_all()
    winners = _race_processes(pg_url, item["id"])
    _check_single_winner(get_engine(pg_url), item["id"], winners)


@pytest.mark.service
def test_listing_search_same_sql_on_postgresql(pg_url: str) -> None:
    engine = migrated_engine(pg_url)
    a = add_request(engine, title="割引 100% の質問", body="本文")
    b = add_request(engine, title="a_b の件", body="FAQ Page")
    found = triage.list_requests(engine, triage.ListFilter(q="100%"))
    assert [r["id"] for r in found.items] == [a["id"]]
    found = triage.list_requests(engine, triage.ListFilter(q="faq page"))
    assert [r["id"] for r in found.items] == [b["id"]]
    found = triage.list_requests(engine, triage.ListFilter(q="_"))
    assert [r["id"] for r in found.items] == [b["id"]]
    move_from = triage.set_status(engine, a["id"], "in_review", actor="sato")
    assert move_from["status"] == "in_review"
