"""Rate limits: submits (memory and Redis) and failed support-ID attempts across workers.

Two app instances on one SQLite file (or one Redis) stand for two gunicorn workers: each has
its own Flask-Limiter and its own engine, as separate processes would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from forms_helpers import add_support_id, engine_of, feedback_data, make_app
from services import REDIS_URL, redis_url

VALID_ID = "CK-LIMIT-0001"


def _post(app: Flask, support_id: str = VALID_ID, addr: str = "198.51.100.7") -> int:
    client = app.test_client()
    response = client.post(
        "/feedback/", data=feedback_data(support_id), environ_base={"REMOTE_ADDR": addr}
    )
    return response.status_code


# ---------------------------------------------------------------- submit rate limit


def test_submit_limit_in_memory_keeps_input(tmp_path: Path) -> None:
    app = make_app(tmp_path, SUBMIT_RATE_LIMIT="2 per minute")
    add_support_id(engine_of(app), VALID_ID)
    assert [_post(app), _post(app)] == [303, 303]
    client = app.test_client()
    response = client.post(
        "/feedback/",
        data=feedback_data(VALID_ID, title="制限されても残る件名"),
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "短い時間に送信が続いたため" in html and 'value="制限されても残る件名"' in html
    # Both forms share the budget; another client is not affected; GETs are not limited.
    other_form = client.post("/docs-request/", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert other_form.status_code == 429
    assert _post(app, addr="198.51.100.8") == 303
    assert client.get("/feedback/").status_code == 200


def test_memory_limit_is_per_process(tmp_path: Path) -> None:
    """Why Redis exists: two workers with memory:// each allow the full budget."""
    one = make_app(tmp_path, SUBMIT_RATE_LIMIT="1 per minute")
    two = make_app(tmp_path, SUBMIT_RATE_LIMIT="1 per minute")
    add_support_id(engine_of(one), VALID_ID)
    assert [_post(one), _post(two), _post(one)] == [303, 303, 429]


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    url = redis_url()
    prefix = f"cmskit-forms-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    conn = redis.Redis.from_url(url)
    keys = list(conn.scan_iter(match=f"*{prefix}*"))
    if keys:
        conn.delete(*keys)
    conn.close()


def _redis_app(tmp_path: Path, prefix: str, **overrides: object) -> Flask:
    return make_app(
        tmp_path,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=prefix,
        **overrides,
    )


@pytest.mark.service
def test_submit_limit_in_redis_holds_across_workers(tmp_path: Path, redis_prefix: str) -> None:
    one = _redis_app(tmp_path, redis_prefix, SUBMIT_RATE_LIMIT="3 per minute")
    two = _redis_app(tmp_path, redis_prefix, SUBMIT_RATE_LIMIT="3 per minute")
    add_support_id(engine_of(one), VALID_ID)
    assert [_post(one), _post(two), _post(one), _post(two)] == [303, 303, 303, 429]
    assert _post(one) == 429
    assert _post(two, addr="198.51.100.99") == 303
    conn = redis.Redis.from_url(REDIS_URL)
    assert list(conn.scan_iter(match=f"*{redis_prefix}*"))  # the counters live in Redis
    conn.close()


@pytest.mark.service
def test_failed_attempts_in_redis_across_workers(tmp_path: Path, redis_prefix: str) -> None:
    one = _redis_app(tmp_path, redis_prefix, FAILED_ATTEMPTS_PER_CLIENT=3)
    two = _redis_app(tmp_path, redis_prefix, FAILED_ATTEMPTS_PER_CLIENT=3)
    add_support_id(engine_of(one), VALID_ID)
    assert [_post(one, "BAD-0001"), _post(two, "BAD-0002"), _post(one, "BAD-0003")] == [400] * 3
    assert _post(two) == 429  # even the right ID is refused while blocked
    assert _post(one, addr="198.51.100.50") == 303


# ---------------------------------------------------------------- failed support-ID attempts


def test_failed_attempts_per_client_across_workers(tmp_path: Path) -> None:
    one = make_app(tmp_path, FAILED_ATTEMPTS_PER_CLIENT=3, FAILED_ATTEMPTS_PER_ID=100)
    two = make_app(tmp_path, FAILED_ATTEMPTS_PER_CLIENT=3, FAILED_ATTEMPTS_PER_ID=100)
    add_support_id(engine_of(one), VALID_ID)
    assert [_post(one, "BAD-0001"), _post(two, "BAD-0002"), _post(one, "BAD-0003")] == [400] * 3
    client = two.test_client()
    response = client.post(
        "/feedback/",
        data=feedback_data(VALID_ID, title="ブロック中の件名"),
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "受付を一時停止しています" in html and 'value="ブロック中の件名"' in html
    # Another client with the right ID is fine.
    assert _post(one, addr="203.0.113.5") == 303


def test_failed_attempts_per_id_across_clients(tmp_path: Path) -> None:
    one = make_app(tmp_path, FAILED_ATTEMPTS_PER_CLIENT=100, FAILED_ATTEMPTS_PER_ID=2)
    two = make_app(tmp_path, FAILED_ATTEMPTS_PER_CLIENT=100, FAILED_ATTEMPTS_PER_ID=2)
    add_support_id(engine_of(one), VALID_ID)
    assert _post(one, "CK-GUESS-0001", addr="203.0.113.1") == 400
    assert _post(two, "ck guess 0001", addr="203.0.113.2") == 400  # same ID once normalized
    assert _post(one, "CK-GUESS-0001", addr="203.0.113.3") == 429
    assert _post(two, "CK-GUESS-0002", addr="203.0.113.4") == 400  # another ID is still tried


def test_old_failures_expire(tmp_path: Path) -> None:
    app = make_app(tmp_path, FAILED_ATTEMPTS_PER_CLIENT=1, FAILED_ATTEMPTS_WINDOW=1)
    add_support_id(engine_of(app), VALID_ID)
    assert _post(app, "BAD-0001") == 400
    assert _post(app) == 429
    import time

    time.sleep(1.2)
    assert _post(app) == 303


def test_proxy_fix_uses_forwarded_client(tmp_path: Path) -> None:
    app = make_app(tmp_path, PROXY_COUNT=1, FAILED_ATTEMPTS_PER_CLIENT=1)
    add_support_id(engine_of(app), VALID_ID)
    client = app.test_client()

    def post(forwarded_for: str, support_id: str) -> int:
        return client.post(
            "/feedback/",
            data=feedback_data(support_id),
            headers={"X-Forwarded-For": forwarded_for},
        ).status_code

    assert post("192.0.2.10", "BAD-0001") == 400
    assert post("192.0.2.10", VALID_ID) == 429
    assert post("192.0.2.11", VALID_ID) == 303
