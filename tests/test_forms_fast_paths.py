"""The pieces that made a submit fast keep their guarantees (bench/README.md, Forms section).

* `ProcessMemoryStorage` (what ``memory://`` means for Flask-Limiter here) limits like
  limits' own memory storage and frees expired keys.
* The SQLite write gate lets one writer in at a time, across processes.
* `queue.submit_checked` stores nothing when its check refuses, but keeps what the check wrote.
* A submit answers a bare 303; the session cookie with the receipt is signed.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import time
from pathlib import Path

from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface
from forms_helpers import (
    add_support_id,
    count_rows,
    engine_of,
    feedback_data,
    make_app,
    session_cookie,
)
from itsdangerous import URLSafeTimedSerializer
from limits import parse
from limits.strategies import FixedWindowRateLimiter
from review_helpers import migrated_engine
from sqlalchemy import Connection, select

from forms_app.config import DEFAULTS
from forms_app.public import queue
from forms_app.ratelimit import limiter
from forms_app.ratelimit.counters import SqlCounter
from forms_app.ratelimit.memory import ProcessMemoryStorage
from forms_app.storage.db import _write_gate, dispose_all, get_engine, write_tx
from forms_app.storage.schema import requests

SESSION_COOKIE = DEFAULTS["SESSION_COOKIE_NAME"]


def test_memory_uri_limits_with_the_process_storage(tmp_path: Path) -> None:
    app = make_app(tmp_path, RATELIMIT_STORAGE_URI="memory://", STATUS_RATE_LIMIT="2 per minute")
    assert isinstance(limiter(app).storage, ProcessMemoryStorage)
    client = app.test_client()
    codes = [client.get("/status/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_process_storage_limits_and_expires() -> None:
    limit = FixedWindowRateLimiter(ProcessMemoryStorage())
    item = parse("2 per 1 second")
    assert [limit.hit(item, "a"), limit.hit(item, "a"), limit.hit(item, "a")] == [
        True,
        True,
        False,
    ]
    assert limit.hit(item, "b")  # another key has its own budget
    time.sleep(1.1)
    assert limit.hit(item, "a")


def test_process_storage_forgets_expired_keys() -> None:
    storage = ProcessMemoryStorage()
    limit = FixedWindowRateLimiter(storage)
    item = parse("5 per 1 second")
    for n in range(20):
        limit.hit(item, "fixed", str(n))
    assert storage.sweep() == 20  # all still live
    time.sleep(1.1)
    assert storage.sweep() == 0
    assert limit.get_window_stats(item, "fixed", "0").remaining == 5


def _hold_gate(url: str, marker: Path, seconds: float) -> None:
    """Child process: take the write gate (no SQLite lock), note entry and exit times."""
    gate = _write_gate(get_engine(url))
    assert gate is not None
    gate.acquire(time.monotonic() + 30)
    entered = time.time()
    time.sleep(seconds)
    left = time.time()
    gate.release()
    with marker.open("a") as out:
        out.write(f"{entered} {left}\n")
    dispose_all()


def test_write_gate_admits_one_writer_at_a_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.sqlite3'}"
    migrated_engine(url)
    marker = tmp_path / "spans.txt"
    ctx = multiprocessing.get_context("spawn")
    children = [ctx.Process(target=_hold_gate, args=(url, marker, 0.3)) for _ in range(3)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    spans = sorted(tuple(map(float, line.split())) for line in marker.read_text().splitlines())
    assert len(spans) == 3
    for (_, left), (entered, _) in itertools.pairwise(spans):
        assert entered >= left  # no two writers inside at once
    assert (tmp_path / "q.sqlite3-writegate").exists()


def test_write_gate_is_reentrant_in_one_thread(tmp_path: Path) -> None:
    engine = migrated_engine(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    gate = _write_gate(engine)
    assert gate is not None
    deadline = time.monotonic() + 5
    gate.acquire(deadline)
    gate.acquire(deadline)
    gate.release()
    gate.release()
    with write_tx(engine) as conn:  # the gate was left free
        conn.execute(select(1))


def test_submit_checked_refusal_keeps_what_the_check_wrote(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    engine = engine_of(app)

    def refuse(conn: Connection) -> queue.Refused:
        SqlCounter(lambda: engine).incr("failed-client:k", 60, conn=conn)
        return queue.Refused(400, "")

    refused = queue.submit_checked(engine, refuse, app.config["NOTIFY_SETTINGS"])
    assert refused == queue.Refused(400, "")
    assert SqlCounter(lambda: engine).get("failed-client:k") == 1
    assert count_rows(engine) == 0


def test_wrong_id_with_other_field_errors_is_counted_and_shown(tmp_path: Path) -> None:
    app = make_app(tmp_path, FAILED_ATTEMPTS_PER_CLIENT=2)
    add_support_id(engine_of(app), "CK-FAST-0001")
    client = app.test_client()
    bad = feedback_data("CK-WRONG-0001", title="")
    first = client.post("/feedback/", data=bad)
    assert first.status_code == 400
    html = first.get_data(as_text=True)
    assert "このサポートIDではご利用いただけません" in html and "件名を入力してください" in html
    assert client.post("/feedback/", data=bad).status_code == 400
    assert client.post("/feedback/", data=feedback_data("CK-FAST-0001")).status_code == 429


# ---------------------------------------------------------------- session cookie


def test_submit_answers_a_bare_303_and_keeps_the_receipt_in_the_signed_session(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path)
    add_support_id(engine_of(app), "CK-FAST-0002")
    client = app.test_client()
    response = client.post("/feedback/", data=feedback_data("CK-FAST-0002"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/thanks/")
    assert response.get_data() == b""
    value = session_cookie(client)
    reader = URLSafeTimedSerializer(
        app.secret_key,
        salt="cookie-session",
        serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    receipt = reader.loads(value)["receipt"]
    with engine_of(app).connect() as conn:
        stored = conn.execute(select(requests.c.receipt)).scalars().all()
    assert stored == [receipt]
    page = client.get("/thanks/").get_data(as_text=True)
    assert receipt in page


def test_signed_session_cookies_load_and_forged_ones_do_not(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    stock = SecureCookieSessionInterface().get_signing_serializer(app)
    assert stock is not None
    payload = {"receipt": "K7QM-3XAD-9PRT", "padding": "x" * 200}  # long enough to compress
    compressed = stock.dumps(payload)
    assert compressed.startswith(".")
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, compressed, path="/forms")
    assert "K7QM-3XAD-9PRT" in client.get("/thanks/").get_data(as_text=True)
    forged = client.application.test_client()
    forged.set_cookie(SESSION_COOKIE, compressed[:-2] + "xx", path="/forms")
    response = forged.get("/thanks/")
    assert response.status_code == 302  # no receipt in a session that does not verify
