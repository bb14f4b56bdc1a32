"""Security-review fixes: outages answer fast in Japanese with the form kept, IPv6 clients are
counted by their /64, error pages without a form say nothing about a form.

Real services only: a SQLite write lock held by another process, a Redis URL on a closed port.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from flask import Flask
from forms_helpers import (
    PEPPER,
    add_support_id,
    count_rows,
    engine_of,
    feedback_data,
    make_app,
    receipt_on_thanks,
)
from product_fixtures import free_port

from forms_app import ConfigError
from forms_app.labels import STATUS_LABELS
from forms_app.public.views import STATUS_DESCRIPTIONS
from forms_app.ratelimit.attempts import client_key, client_scope
from forms_app.review import accounts, triage
from forms_app.storage.schema import requests

VALID_ID = "CK-SAFE-0001"


def _count(app: Flask) -> int:
    return count_rows(engine_of(app))


# ---------------------------------------------------------------- SQLite write deadline


@pytest.fixture
def locked_app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, WRITE_TIMEOUT=1)
    add_support_id(engine_of(app), VALID_ID)
    return app


@contextlib.contextmanager
def _lock_holder(code: str, *, kill: bool = False) -> Iterator[None]:
    """Run `code` in another process until it prints 'locked'; on leaving, kill it or send it a
    newline (which a holder reading stdin takes as its cue to let go), then wait for its end."""
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        if kill:
            holder.kill()
        else:
            with contextlib.suppress(BrokenPipeError):  # a holder that has already ended
                holder.stdin.write("\n")
        with contextlib.suppress(BrokenPipeError):
            holder.stdin.close()
        holder.wait(10)
        holder.stdout.close()


def _hold_write_lock(db: Path) -> AbstractContextManager[None]:
    """Another process (a backup, a sqlite3 shell) holding SQLite's write lock."""
    code = (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "print('locked', flush=True)\n"
        "sys.stdin.readline()\n"
        "c.execute('ROLLBACK')\n"
    )
    return _lock_holder(code)


def test_held_write_lock_gives_quick_503_to_every_waiting_submit(
    locked_app: Flask, tmp_path: Path
) -> None:
    """Waits do not add up: each submit gives up after its own deadline (WRITE_TIMEOUT=1)."""
    results: dict[int, tuple[int, float, str]] = {}

    def submit(n: int) -> None:
        started = time.monotonic()
        response = locked_app.test_client().post(
            "/feedback/", data=feedback_data(VALID_ID, title=f"待機中の件名{n}")
        )
        took = time.monotonic() - started
        results[n] = (response.status_code, took, response.get_data(as_text=True))

    with _hold_write_lock(tmp_path / "queue.sqlite3"):
        threads = [threading.Thread(target=submit, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sorted(results) == [0, 1, 2, 3]
    for n, (status, took, html) in results.items():
        assert status == 503
        assert "ただいま混み合っているため" in html and f'value="待機中の件名{n}"' in html
        # One deadline each: 4 writers queued one after another would need >= 4 s.
        assert took < 3.5, f"submit {n} waited {took:.1f} s"
    assert _count(locked_app) == 0
    # The lock is gone: the same form goes through.
    after = locked_app.test_client().post("/feedback/", data=feedback_data(VALID_ID))
    assert after.status_code == 303


def _hold_gate_file(
    db: Path, seconds: float, *, kill: bool = False
) -> AbstractContextManager[None]:
    """Another worker holding the write gate's file lock for `seconds` (or until killed)."""
    code = (
        "import fcntl, os, time\n"
        f"fd = os.open({str(db) + '-writegate'!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        f"time.sleep({seconds})\n"
    )
    return _lock_holder(code, kill=kill)


def test_gate_and_busy_wait_share_one_deadline(tmp_path: Path) -> None:
    """Gate held 1.5 s, then SQLite's lock still held: 503 at the 2 s deadline, not 3.5 s."""
    app = make_app(tmp_path, WRITE_TIMEOUT=2)
    add_support_id(engine_of(app), VALID_ID)
    db = tmp_path / "queue.sqlite3"
    # Leaving the block waits for the gate holder's end first, then lets SQLite's lock go.
    with _hold_write_lock(db), _hold_gate_file(db, 1.5):
        started = time.monotonic()
        response = app.test_client().post("/feedback/", data=feedback_data(VALID_ID))
        took = time.monotonic() - started
    assert response.status_code == 503
    assert 1.4 < took < 2.9, f"waited {took:.1f} s"
    # The busy timeout given back to the pooled connection is the full deadline again.
    with engine_of(app).connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 2000


def test_gate_held_by_another_worker_past_the_deadline(tmp_path: Path) -> None:
    app = make_app(tmp_path, WRITE_TIMEOUT=1)
    add_support_id(engine_of(app), VALID_ID)
    with _hold_gate_file(tmp_path / "queue.sqlite3", 3, kill=True):
        response = app.test_client().post("/feedback/", data=feedback_data(VALID_ID, title="門"))
    assert response.status_code == 503 and 'value="門"' in response.get_data(as_text=True)
    assert _count(app) == 0


@pytest.mark.parametrize("value", [0, -1, 60, "soon", True])
def test_write_timeout_must_stay_below_the_server_timeouts(tmp_path: Path, value: object) -> None:
    with pytest.raises(ConfigError, match="CMSKIT_FORMS_WRITE_TIMEOUT"):
        make_app(tmp_path, WRITE_TIMEOUT=value)


def test_sqlite_busy_timeout_follows_write_timeout(tmp_path: Path) -> None:
    app = make_app(tmp_path, WRITE_TIMEOUT=2.5)
    with engine_of(app).connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 2500


# ---------------------------------------------------------------- Redis down


@pytest.fixture
def redis_down_app(tmp_path: Path) -> Flask:
    app = make_app(
        tmp_path,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        STATUS_RATE_LIMIT="3 per minute",
    )
    app.testing = False  # answer as production does (a 500 page, not an exception)
    add_support_id(engine_of(app), VALID_ID)
    return app


@pytest.mark.parametrize("support_id", [VALID_ID, "CK-WRONG-9999"])
def test_redis_down_submit_is_a_japanese_503_with_input_kept(
    redis_down_app: Flask, support_id: str
) -> None:
    client = redis_down_app.test_client()
    response = client.post("/feedback/", data=feedback_data(support_id, title="Redis停止中の件名"))
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "ただいま混み合っているため" in html and 'value="Redis停止中の件名"' in html
    assert _count(redis_down_app) == 0
    assert client.get("/feedback/").status_code == 200


def test_redis_down_status_page_works_and_is_limited_in_memory(redis_down_app: Flask) -> None:
    client = redis_down_app.test_client()
    codes = [client.get("/status/?receipt=K7QM-3XAD-9PRT").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]  # Flask-Limiter's in-memory fallback still limits


# ---------------------------------------------------------------- IPv6 clients


@pytest.mark.parametrize(
    ("address", "scope"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("198.51.100.7", "198.51.100.7"),
        ("", ""),
    ],
)
def test_client_scope(address: str, scope: str) -> None:
    assert client_scope(address) == scope


def test_client_key_is_the_same_inside_a_64(tmp_path: Path) -> None:
    assert client_key(PEPPER, "2001:db8:1:2::1") == client_key(PEPPER, "2001:db8:1:2:a::9")
    assert client_key(PEPPER, "2001:db8:1:2::1") != client_key(PEPPER, "2001:db8:1:3::1")


def test_rotating_ipv6_addresses_do_not_reset_failed_attempts(tmp_path: Path) -> None:
    app = make_app(tmp_path, FAILED_ATTEMPTS_PER_CLIENT=3, FAILED_ATTEMPTS_PER_ID=100)
    add_support_id(engine_of(app), VALID_ID)
    client = app.test_client()

    def post(support_id: str, address: str) -> int:
        return client.post(
            "/feedback/", data=feedback_data(support_id), environ_base={"REMOTE_ADDR": address}
        ).status_code

    codes = [post(f"GUESS{n:04d}", f"2001:db8:1:2::{n:x}") for n in range(1, 6)]
    assert codes == [400, 400, 400, 429, 429]
    assert post(VALID_ID, "2001:db8:1:2::99") == 429  # still the same /64
    assert post(VALID_ID, "2001:db8:1:3::1") == 303  # the next /64 is someone else


def test_rotating_ipv6_addresses_share_the_submit_rate_limit(tmp_path: Path) -> None:
    app = make_app(tmp_path, SUBMIT_RATE_LIMIT="2 per minute")
    add_support_id(engine_of(app), VALID_ID)
    client = app.test_client()
    codes = [
        client.post(
            "/feedback/", data=feedback_data(VALID_ID), environ_base={"REMOTE_ADDR": address}
        ).status_code
        for address in ("2001:db8:5:6::1", "2001:db8:5:6::2", "2001:db8:5:6::3", "2001:db8:9::1")
    ]
    assert codes == [303, 303, 429, 303]


# ---------------------------------------------------------------- error pages without a form


def test_csrf_failure_on_review_login_says_nothing_about_a_form(tmp_path: Path) -> None:
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    client.get("/review/login")
    response = client.post("/review/login", data={"csrf_token": "forged", "username": "a"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "ページを開き直してから" in html
    assert "入力内容はそのまま残っています" not in html and "送信する" not in html


def test_status_rate_limit_page_says_nothing_about_a_form(tmp_path: Path) -> None:
    client = make_app(tmp_path, STATUS_RATE_LIMIT="1 per minute").test_client()
    client.get("/status/?receipt=K7QM-3XAD-9PRT")
    response = client.get("/status/?receipt=K7QM-3XAD-9PRT")
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "しばらく待ってから、もう一度お試しください" in html
    assert "入力内容はそのまま残っています" not in html and "送信する" not in html


# ---------------------------------------------------------------- single sources


def test_status_page_names_come_from_the_shared_labels(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    add_support_id(engine_of(app), VALID_ID)
    client = app.test_client()
    client.post("/feedback/", data=feedback_data(VALID_ID))
    receipt = receipt_on_thanks(client)
    assert set(STATUS_DESCRIPTIONS) == set(triage.STATUSES) == set(STATUS_LABELS)
    for status in triage.STATUSES:
        with engine_of(app).begin() as conn:
            conn.execute(requests.update().values(status=status))
        html = client.get("/status/", query_string={"receipt": receipt}).text
        assert STATUS_LABELS[status] in html and STATUS_DESCRIPTIONS[status] in html


def test_redis_down_review_login_still_answers_and_counts(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        REVIEW_LOGIN_LIMIT="2 per 15 minutes",
    )
    app.testing = False
    accounts.add_reviewer(engine_of(app), "alice", "correct horse battery")
    client = app.test_client()
    wrong = {"username": "alice", "password": "wrong password!"}
    codes = [client.post("/review/login", data=wrong).status_code for _ in range(3)]
    assert codes == [401, 401, 429]  # counted in process memory while Redis is down


def test_rotating_ipv6_addresses_share_the_review_login_limit(tmp_path: Path) -> None:
    app = make_app(tmp_path, REVIEW_LOGIN_CLIENT_LIMIT="2 per 15 minutes")
    client = app.test_client()

    def login(username: str, address: str) -> int:
        return client.post(
            "/review/login",
            data={"username": username, "password": "wrong password!"},
            environ_base={"REMOTE_ADDR": address},
        ).status_code

    codes = [login(f"user{n}", f"2001:db8:7:8::{n}") for n in range(1, 4)]
    assert codes == [401, 401, 429]
    assert login("user9", "2001:db8:7:9::1") == 401
