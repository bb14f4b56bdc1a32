"""Issue 14: one test (or a few) for each point the attacker's probe found.

Concurrency (point 2) is in test_forms_concurrency.py, the fuzz of every field in
test_forms_fuzz.py, nginx in front (points 4, 5, 8) in test_deploy.py, the lockout rules
(point 3) also in test_review_web.py.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import stat
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from conftest import require_service
from flask import Flask
from forms_helpers import (
    add_support_id,
    config_for,
    count_rows,
    csrf_from,
    docs_data,
    engine_of,
    feedback_data,
    make_app,
    receipt_on_thanks,
)
from product_fixtures import free_port
from review_helpers import PASSWORD, add_request, add_reviewer, migrated_engine, sqlite_engine
from services import postgres_schema

from forms_app import ConfigError, create_app
from forms_app.cli import main
from forms_app.ratelimit import redis_persistence_problems
from forms_app.review import triage
from forms_app.storage.schema import requests

VALID_ID = "CK-PROBE-0001"
ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- 1. no 500s


def test_crlf_in_the_login_next_is_refused_and_signs_nobody_in(tmp_path: Path) -> None:
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    add_reviewer(engine_of(app), "sato")
    client = app.test_client()
    page = client.get("/review/login?next=/forms/review/%0D%0ASet-Cookie:%20x=1")
    assert page.status_code == 400 and "改行" in page.get_data(as_text=True)
    token = csrf_from(client.get("/review/login").get_data(as_text=True))
    answer = client.post("/review/login", data={
        "username": "sato", "password": PASSWORD, "csrf_token": token,
        "next": "/forms/review/\r\nSet-Cookie: x=1",
    })
    assert answer.status_code == 400
    assert "Set-Cookie: x" not in str(answer.headers)
    assert client.get("/review/").status_code == 303  # not signed in


@pytest.mark.service
def test_nul_in_filters_and_comments_never_reaches_postgresql() -> None:
    """The command line's way in (the web's is refused before: test_forms_fuzz.py)."""
    with postgres_schema() as url:
        engine = migrated_engine(url)
        item = add_request(engine)
        for field in ("q", "product", "claimed_by"):
            with pytest.raises(triage.InvalidInput, match="制御文字"):
                triage.list_requests(engine, triage.ListFilter(**{field: "a\x00b"}))
        with pytest.raises(triage.InvalidInput, match="制御文字"):
            triage.set_status(engine, item["id"], "in_review", actor="sato", comment="a\x00b")
        with pytest.raises(triage.RequestNotFound):
            triage.get_request(engine, "K7M2\x00")
        assert triage.get_request(engine, item["id"])["status"] == "received"


# ---------------------------------------------------------------- 4. proxies


def test_forwarded_for_without_proxy_count_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(tmp_path)
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="forms_app.ratelimit"):
        client.get("/feedback/")
        assert not caplog.records
        for _ in range(3):
            client.get("/feedback/", headers={"X-Forwarded-For": "203.0.113.7"})
    warnings = [r for r in caplog.records if "PROXY_COUNT is 0" in r.getMessage()]
    assert len(warnings) == 1
    trusted = make_app(tmp_path, PROXY_COUNT=1)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="forms_app.ratelimit"):
        trusted.test_client().get("/feedback/", headers={"X-Forwarded-For": "203.0.113.7"})
    assert not caplog.records


def test_deploy_gunicorn_config_trusts_one_proxy_unless_told() -> None:
    def proxy_count(env: dict[str, str]) -> str:
        code = (
            "import runpy, sys; c = runpy.run_path(sys.argv[1]); "
            "print([e for e in c['raw_env'] if 'PROXY_COUNT' in e][0])"
        )
        result = subprocess.run(
            ["python3", "-c", code, str(ROOT / "deploy" / "gunicorn.conf.py")],
            env=env, capture_output=True, text=True, check=True,
        )
        return result.stdout.strip()

    base = {k: v for k, v in os.environ.items() if k != "CMSKIT_FORMS_PROXY_COUNT"}
    assert proxy_count(base) == "CMSKIT_FORMS_PROXY_COUNT=1"
    assert proxy_count({**base, "CMSKIT_FORMS_PROXY_COUNT": "2"}) == "CMSKIT_FORMS_PROXY_COUNT=2"


# ---------------------------------------------------------------- 5. Host header


@pytest.mark.parametrize("site_url", ["https://support.cmskit.example/", ""])
def test_the_host_header_never_decides_which_urls_are_ours(tmp_path: Path, site_url: str) -> None:
    app = make_app(tmp_path, SITE_URL=site_url)
    add_support_id(engine_of(app), VALID_ID)
    client = app.test_client()
    answer = client.post(
        "/docs-request/", data=docs_data(VALID_ID, page_url="https://evil.com/phish"),
        headers={"Host": "evil.com"},
    )
    assert answer.status_code == 400
    assert "このサイトのページのURL" in answer.get_data(as_text=True)
    assert count_rows(engine_of(app)) == 0
    ours = "https://support.cmskit.example/faq/"
    answer = client.post("/docs-request/", data=docs_data(VALID_ID, page_url=ours))
    assert answer.status_code == (303 if site_url else 400)


# ---------------------------------------------------------------- 6. double submits


@pytest.fixture
def csrf_app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    add_support_id(engine_of(app), VALID_ID)
    return app


def test_a_double_submit_gets_the_first_receipt(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    token = csrf_from(client.get("/feedback/").get_data(as_text=True))
    data = {**feedback_data(VALID_ID), "csrf_token": token}
    assert client.post("/feedback/", data=data).status_code == 303
    first = receipt_on_thanks(client)
    assert client.post("/feedback/", data=data).status_code == 303  # the second click
    assert receipt_on_thanks(client) == first
    assert count_rows(engine_of(csrf_app)) == 1
    # The same page sent again after an edit is a new request, not a lost edit.
    edited = {**data, "title": "件名を直して送り直した"}
    assert client.post("/feedback/", data=edited).status_code == 303
    assert receipt_on_thanks(client) != first
    assert count_rows(engine_of(csrf_app)) == 2


def test_a_new_page_is_a_new_request(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    for _ in range(2):
        token = csrf_from(client.get("/feedback/").get_data(as_text=True))
        time.sleep(1.01)  # a new signed token (it carries its time in seconds)
        data = {**feedback_data(VALID_ID), "csrf_token": token}
        assert client.post("/feedback/", data=data).status_code == 303
    assert count_rows(engine_of(csrf_app)) == 2


@pytest.mark.service
def test_parallel_double_submit_on_postgresql_stores_once(tmp_path: Path) -> None:
    with postgres_schema() as url:
        app = make_app(tmp_path, WTF_CSRF_ENABLED=True, DATABASE_URL=url)
        add_support_id(engine_of(app), VALID_ID)
        client = app.test_client()
        token = csrf_from(client.get("/feedback/").get_data(as_text=True))
        cookie = client.get_cookie("cmskit_forms_session", path="/forms")
        assert cookie is not None
        data = {**feedback_data(VALID_ID), "csrf_token": token}
        receipts: list[str] = []
        barrier = threading.Barrier(4)

        def click() -> None:
            own = app.test_client()
            own.set_cookie("cmskit_forms_session", cookie.value, path="/forms")
            barrier.wait()
            assert own.post("/feedback/", data=data).status_code == 303
            receipts.append(receipt_on_thanks(own))

        threads = [threading.Thread(target=click) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(receipts) == 4 and len(set(receipts)) == 1
        assert count_rows(engine_of(app)) == 1


# ---------------------------------------------------------------- 7. secrets, file, CLI


@pytest.mark.parametrize(
    ("key", "value"),
    [("SECRET_KEY", "a"), ("SUPPORT_ID_PEPPER", "a"), ("SECRET_KEY", "ab" * 20),
     ("SUPPORT_ID_PEPPER", "password" * 5)],
)
def test_weak_secrets_are_refused_outside_development(tmp_path: Path, key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"CMSKIT_FORMS_{key} is too weak"):
        create_app(config_for(tmp_path, ENV="production", **{key: value}))
    create_app(config_for(tmp_path, ENV="development", **{key: value}))  # development: any


def test_the_sqlite_queue_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        app = make_app(tmp_path / "fresh")
        add_support_id(engine_of(app), VALID_ID)
        assert app.test_client().post("/feedback/", data=feedback_data(VALID_ID)).status_code == 303
    finally:
        os.umask(old)
    files = sorted((tmp_path / "fresh").glob("queue.sqlite3*"))
    assert {f.name for f in files} >= {"queue.sqlite3", "queue.sqlite3-wal", "queue.sqlite3-shm"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


HOSTILE_TITLE = "本物の件名\n#999  K7M2-9XQP-4RTA  偽の行\x1b[31m赤\x9b31m\u202eesrever"


def test_the_command_line_prints_customer_text_inert(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path)
    item = add_request(
        engine, title=HOSTILE_TITLE,
        fields={"title": HOSTILE_TITLE, "description": "1行目\n2行目\x07\n  件名: 偽の欄"},
    )
    env = {"CMSKIT_FORMS_ENV": "testing", "CMSKIT_FORMS_DATABASE_URL": str(engine.url),
           "CMSKIT_FORMS_INSTANCE_PATH": str(tmp_path / "instance")}
    runner = CliRunner()
    shown = runner.invoke(main, ["review", "show", str(item["id"])], env=env)
    listed = runner.invoke(main, ["review", "list"], env=env)
    as_json = runner.invoke(main, ["review", "show", str(item["id"]), "--json"], env=env)
    for result in (shown, listed, as_json):
        assert result.exit_code == 0, result.output
        for raw in ("\x1b", "\x9b", "\u202e", "\x07"):
            assert raw not in result.output
    lines = shown.output.splitlines()
    assert not any(line.startswith("#999") for line in lines)  # no faked list line
    escaped = "本物の件名\\n#999  K7M2-9XQP-4RTA  偽の行\\x1b[31m赤\\x9b31m\\u202eesrever"
    assert f"  件名: {escaped}" in lines and f"  title: {escaped}" in lines
    assert "    │   件名: 偽の欄" in lines and "    │ 2行目\\x07" in lines
    assert "\\u202e" in as_json.output  # the same JSON value, written with an escape
    assert len(listed.output.splitlines()) == 2  # one request, one summary line


# ---------------------------------------------------------------- 8. Redis persistence


@pytest.fixture
def redis_binary() -> str:
    path = shutil.which("redis-server")
    require_service("redis-server", path is not None, "to start a private Redis")
    assert path is not None
    return path


@pytest.fixture
def private_redis(tmp_path: Path, redis_binary: str) -> Iterator[tuple[int, Path]]:
    """A private Redis data folder and port (the shared Redis is never restarted)."""
    yield free_port(), tmp_path / "redis"


def _start_redis(binary: str, port: int, folder: Path, *args: str) -> subprocess.Popen[bytes]:
    folder.mkdir(exist_ok=True)
    process = subprocess.Popen(
        [binary, *args, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
         "--daemonize", "no", "--logfile", str(folder / "redis.log")]
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            if client.ping():
                return process
        except redis.RedisError:
            time.sleep(0.05)
    raise AssertionError("private redis-server did not start")


def _stop_redis(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)  # a clean shutdown, as a service manager does
    process.wait(30)


@pytest.mark.service
@pytest.mark.parametrize("persistent", [True, False])
def test_lockouts_survive_a_redis_restart_with_the_shipped_redis_conf(
    tmp_path: Path, redis_binary: str, private_redis: tuple[int, Path], persistent: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port, folder = private_redis
    conf = [str(ROOT / "deploy" / "redis.conf")] if persistent else [
        "--appendonly", "no", "--save", ""]
    uri = f"redis://127.0.0.1:{port}/0"
    settings = {"RATELIMIT_STORAGE_URI": uri, "FAILED_ATTEMPTS_PER_CLIENT": 2,
                "RATELIMIT_KEY_PREFIX": f"probe-{uuid.uuid4().hex[:8]}"}
    server = _start_redis(redis_binary, port, folder, *conf)
    try:
        with caplog.at_level(logging.WARNING, logger="forms_app.ratelimit"):
            app = make_app(tmp_path, **settings)
        warned = any("no persistence" in r.getMessage() for r in caplog.records)
        assert warned is not persistent
        assert redis_persistence_problems(uri, 2) == ([] if persistent else [
            "no persistence (appendonly no, no save points): a restart forgets every lockout"])
        add_support_id(engine_of(app), VALID_ID)
        client = app.test_client()
        assert [client.post("/feedback/", data=feedback_data(f"CK-BAD-000{n}")).status_code
                for n in range(2)] == [400, 400]
        assert client.post("/feedback/", data=feedback_data(VALID_ID)).status_code == 429
    finally:
        _stop_redis(server)
    server = _start_redis(redis_binary, port, folder, *conf)
    try:
        after = make_app(tmp_path, **settings).test_client()
        status = after.post("/feedback/", data=feedback_data(VALID_ID)).status_code
        assert status == (429 if persistent else 303)  # without persistence: forgotten
    finally:
        _stop_redis(server)
    assert count_rows(engine_of(app), requests) == (0 if persistent else 1)
