"""The pieces that made a submit fast keep their guarantees (bench/README.md, Forms section).

* `LocalMemoryStorage` (what ``memory://`` means for Flask-Limiter here) limits like limits'
  own memory storage, without starting a thread on hits, and frees expired keys.
* The SQLite write gate lets one writer in at a time, across processes.
* `queue.submit_checked` stores nothing when its check refuses, but keeps what the check wrote.
* The session cookie is signed but not compressed, and older compressed cookies still load.
* Form fields copied from per-process prototypes carry no state from one form to the next.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import threading
import time
from pathlib import Path

import pytest
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from limits import parse
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from review_helpers import migrated_engine
from sqlalchemy import Connection, select

from forms_app import queue
from forms_app.attempts import LocalMemoryStorage, limiter
from forms_app.config import DEFAULTS
from forms_app.counters import SqlCounter
from forms_app.db import _write_gate, dispose_all, get_engine, write_tx
from forms_app.forms import DocsRequestForm, FeedbackForm
from forms_app.schema import requests
from forms_app.testing import (
    add_support_id,
    count_rows,
    engine_of,
    feedback_data,
    make_app,
    session_cookie,
)

SESSION_COOKIE = DEFAULTS["SESSION_COOKIE_NAME"]


def test_memory_uri_uses_the_local_storage(tmp_path: Path) -> None:
    app = make_app(tmp_path, RATELIMIT_STORAGE_URI="memory://")
    assert isinstance(limiter(app).storage, LocalMemoryStorage)


@pytest.mark.parametrize("strategy", [FixedWindowRateLimiter, MovingWindowRateLimiter])
def test_local_storage_limits_and_expires(strategy: type) -> None:
    limit = strategy(LocalMemoryStorage())
    item = parse("2 per 1 second")
    assert [limit.hit(item, "a"), limit.hit(item, "a"), limit.hit(item, "a")] == [
        True,
        True,
        False,
    ]
    assert limit.hit(item, "b")  # another key has its own budget
    time.sleep(1.1)
    assert limit.hit(item, "a")


def test_local_storage_starts_no_thread_per_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    storage = LocalMemoryStorage()
    started: list[threading.Thread] = []
    original = threading.Thread.start

    def counting_start(self: threading.Thread) -> None:
        started.append(self)
        original(self)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    limit = FixedWindowRateLimiter(storage)
    item = parse("1000 per minute")
    deadline = time.monotonic() + 0.1  # limits' MemoryStorage would start ~10 timers
    while time.monotonic() < deadline:
        limit.hit(item, "client")
    assert started == []


def test_local_storage_sweep_frees_expired_keys() -> None:
    storage = LocalMemoryStorage()
    fixed = FixedWindowRateLimiter(storage)
    moving = MovingWindowRateLimiter(storage)
    item = parse("5 per 1 second")
    for n in range(20):
        fixed.hit(item, "fixed", str(n))
        moving.hit(item, "moving", str(n))
    assert len(storage.storage) == 20 and len(storage.events) == 20
    time.sleep(1.1)
    storage.sweep()
    assert not storage.storage and not storage.expirations and not storage.events


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

    def refuse(conn: Connection) -> None:
        SqlCounter(lambda: engine).incr("failed-client:k", 60, conn=conn)
        return None

    assert queue.submit_checked(engine, refuse) is None
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


def test_submit_answers_a_bare_303_and_an_uncompressed_signed_session(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    add_support_id(engine_of(app), "CK-FAST-0002")
    client = app.test_client()
    response = client.post("/feedback/", data=feedback_data("CK-FAST-0002"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/thanks/")
    assert response.get_data() == b""
    value = session_cookie(client)
    assert not value.startswith(".")  # itsdangerous marks zlib payloads with a dot
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


def test_compressed_and_forged_session_cookies(tmp_path: Path) -> None:
    """Cookies that Flask's stock interface wrote (zlib) still load; forged ones do not."""
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


# ---------------------------------------------------------------- form field prototypes


def test_forms_built_in_a_row_share_no_state(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    bad = feedback_data("CK-FAST-0003", title="", kind="problem", steps="")
    good = feedback_data("CK-FAST-0003", title="二つ目の件名")
    with app.test_request_context("/feedback/", method="POST", data=bad):
        first = FeedbackForm()
        first.set_products([("cloud", "CMSKITクラウド")])
        assert not first.validate()
        first_errors = {name: list(field.errors) for name, field in first._fields.items()}
    with app.test_request_context("/feedback/", method="POST", data=good):
        second = FeedbackForm()
        second.set_products(app.config["SITE"].products)
        assert second.validate(), {f.name: f.errors for f in second if f.errors}
        assert second.title.data == "二つ目の件名"
        assert all(not field.errors for field in second)
        assert second.title._form is second and second.title.meta is second.meta
        assert len(second.product.choices) == len(app.config["SITE"].products) + 1
    # The first form kept its own data, errors and choices.
    assert first.title.data == "" and first.title.errors == first_errors["title"]
    assert first_errors["title"] and first_errors["steps"]
    assert [c.value for c in first.product.choices] == ["", "cloud"]
    assert first.title is not second.title and first.title.flags is second.title.flags
    assert str(first.title.label) == str(second.title.label)
    with app.test_request_context("/docs-request/", method="GET"):
        docs = DocsRequestForm()
        assert docs.support_id is not first.support_id
        assert docs.support_id._form is docs and docs.support_id.data is None
