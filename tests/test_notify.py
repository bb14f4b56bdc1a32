"""Notifications: outbox rows written by the real submit, delivered to a real SMTP sink and a
real HTTP receiver that fail at first, retried with backoff, never lost."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from forms_helpers import engine_of, make_app
from product_fixtures import BIN, free_port
from review_helpers import add_request
from sqlalchemy import Engine

from forms_app.cli import main
from forms_app.config import ConfigError
from forms_app.review import notify


class FlakySmtpHandler:
    """aiosmtpd handler: answers 451 to the first `failures` messages, then keeps them."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.tries = 0
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.tries += 1
        if self.tries <= self.failures:
            return "451 4.3.0 Try again later"
        self.messages.append(envelope.content)
        return "250 OK"


class FlakyReceiver(BaseHTTPRequestHandler):
    failures = 0
    tries = 0
    bodies: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        cls = type(self)
        cls.tries += 1
        if cls.tries <= cls.failures:
            self.send_response(500)
            self.end_headers()
            return
        cls.bodies.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def smtp_sink() -> Iterator[tuple[FlakySmtpHandler, int]]:
    handler = FlakySmtpHandler(failures=2)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def http_receiver() -> Iterator[tuple[type[FlakyReceiver], int]]:
    receiver = type("Receiver", (FlakyReceiver,), {"failures": 2, "tries": 0, "bodies": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _app_config(smtp_port: int, http_port: int) -> dict[str, Any]:
    return {
        "NOTIFY_SMTP_HOST": "127.0.0.1",
        "NOTIFY_SMTP_PORT": smtp_port,
        "NOTIFY_EMAIL_TO": "team@example.com, lead@example.com",
        "NOTIFY_EMAIL_FROM": "forms@example.com",
        "NOTIFY_WEBHOOK_URL": f"http://127.0.0.1:{http_port}/hook",
        "NOTIFY_WEBHOOK_SECRET": "hook-secret",
        "NOTIFY_REVIEW_URL": "https://support.example.com/forms/review/",
        "NOTIFY_TIMEOUT": 5,
    }


def test_retried_with_backoff_until_the_receivers_accept(
    tmp_path: Path,
    smtp_sink: tuple[FlakySmtpHandler, int],
    http_receiver: tuple[type[FlakyReceiver], int],
) -> None:
    handler, smtp_port = smtp_sink
    receiver, http_port = http_receiver
    app = make_app(tmp_path, **_app_config(smtp_port, http_port))
    engine = engine_of(app)
    settings = app.config["NOTIFY_SETTINGS"]
    item = add_request(engine, title="新機能の要望\r\nBcc: evil@example.com", notify=settings)
    rows = notify.outbox_rows(engine)
    assert sorted(r["channel"] for r in rows) == ["email", "webhook"]
    assert "contact_email" not in json.dumps([r["payload"] for r in rows])

    t0 = dt.datetime.now(dt.UTC)
    first = notify.deliver_due(engine, settings, now=t0)
    assert (first.sent, first.failed, first.pending) == (0, 2, 2)
    assert all(r["attempts"] == 1 and r["last_error"] for r in notify.outbox_rows(engine))
    # Not due yet: nothing is tried before the row's retry time.
    early = notify.deliver_due(engine, settings, now=_next_due(engine) - dt.timedelta(seconds=1))
    assert (early.sent, early.failed) == (0, 0)
    second = notify.deliver_due(engine, settings, now=_next_due(engine))
    assert (second.sent, second.failed, second.pending) == (0, 2, 2)
    third = notify.deliver_due(engine, settings, now=_next_due(engine))
    assert (third.sent, third.failed, third.pending) == (2, 0, 0)
    again = notify.deliver_due(engine, settings, now=t0 + dt.timedelta(days=1))
    assert (again.sent, again.failed) == (0, 0)

    assert handler.tries == 3 and len(handler.messages) == 1
    mail = handler.messages[0].decode("utf-8", "replace")
    assert "team@example.com" in mail and "Bcc: evil" not in mail.split("\r\n\r\n")[0]
    assert receiver.tries == 3 and len(receiver.bodies) == 1
    headers, body = receiver.bodies[0]
    data = json.loads(body)
    assert data["receipt"] == item["receipt"] and data["event"] == "request.created"
    assert data["url"] == f"https://support.example.com/forms/review/requests/{item['id']}"
    expected = hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Cmskit-Signature"] == f"sha256={expected}"
    assert all(r["sent_at"] is not None for r in notify.outbox_rows(engine))


def test_dead_receiver_never_blocks_a_submission_and_keeps_the_message(tmp_path: Path) -> None:
    dead = free_port()  # nothing listens there
    app = make_app(tmp_path, **_app_config(dead, dead))
    engine = engine_of(app)
    settings = app.config["NOTIFY_SETTINGS"]
    item = add_request(engine, notify=settings)
    assert item["status"] == "received"
    t = dt.datetime.now(dt.UTC)
    for _ in range(4):
        report = notify.deliver_due(engine, settings, now=t)
        assert (report.sent, report.failed, report.pending) == (0, 2, 2)
        t = _next_due(engine)
    rows = notify.outbox_rows(engine)
    assert [r["attempts"] for r in rows] == [4, 4]
    assert all("Connection refused" in r["last_error"] or "refused" in r["last_error"].lower()
               for r in rows)


def test_nothing_queued_when_not_configured(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    add_request(engine_of(app), notify=app.config["NOTIFY_SETTINGS"])
    assert notify.outbox_rows(engine_of(app)) == []


def test_a_leased_row_is_not_sent_twice(tmp_path: Path) -> None:
    app = make_app(tmp_path, NOTIFY_WEBHOOK_URL="http://127.0.0.1:9/")
    engine: Engine = engine_of(app)
    add_request(engine, notify=app.config["NOTIFY_SETTINGS"])
    now = dt.datetime.now(dt.UTC)
    first = notify._lease_due(engine, now, 10)
    second = notify._lease_due(engine, now, 10)
    assert len(first) == 1 and second == []
    # After the lease runs out (a worker died), the row is due again.
    assert len(notify._lease_due(engine, now + dt.timedelta(seconds=notify.LEASE + 1), 10)) == 1


def _next_due(engine: Engine) -> dt.datetime:
    """When the first unsent outbox row is due next (aware UTC)."""
    due = min(r["next_attempt_at"] for r in notify.outbox_rows(engine) if r["sent_at"] is None)
    return due if due.tzinfo else due.replace(tzinfo=dt.UTC)


def test_a_failing_message_is_retried_ever_less_often_but_at_least_every_six_hours(
    tmp_path: Path,
) -> None:
    dead = free_port()
    app = make_app(tmp_path, NOTIFY_WEBHOOK_URL=f"http://127.0.0.1:{dead}/hook", NOTIFY_TIMEOUT=1)
    engine = engine_of(app)
    settings = app.config["NOTIFY_SETTINGS"]
    add_request(engine, notify=settings)
    t = dt.datetime.now(dt.UTC)
    waits = []
    for _ in range(15):
        assert notify.deliver_due(engine, settings, now=t).failed == 1
        # Nothing is tried again before the row's time has come.
        assert notify.deliver_due(engine, settings, now=t + dt.timedelta(seconds=1)).failed == 0
        due = _next_due(engine)
        waits.append((due - t).total_seconds())
        t = due
    assert 0 < waits[0] <= 60  # the first retry comes soon
    assert waits == sorted(waits) and waits[-1] > 10 * waits[0]  # then ever less often
    assert max(waits) <= 6 * 3600  # but a receiver that is back is served within 6 hours
    (row,) = notify.outbox_rows(engine)
    assert row["attempts"] == 15 and row["sent_at"] is None


def test_bad_webhook_setting_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CMSKIT_FORMS_NOTIFY_WEBHOOK_URL"):
        make_app(tmp_path, NOTIFY_WEBHOOK_URL="file:///etc/passwd")


class GarbageReceiver:
    """A local TCP server that answers every request with bytes that are not HTTP."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                self.hits += 1
                conn.sendall(b"garbage\r\n\r\n")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def garbage() -> Iterator[GarbageReceiver]:
    receiver = GarbageReceiver()
    try:
        yield receiver
    finally:
        receiver.close()


def test_a_malformed_http_answer_fails_only_its_row(
    tmp_path: Path, garbage: GarbageReceiver, smtp_sink: tuple[FlakySmtpHandler, int]
) -> None:
    handler, smtp_port = smtp_sink
    handler.failures = 0
    app = make_app(tmp_path, **{**_app_config(smtp_port, garbage.port),
                                "NOTIFY_WEBHOOK_SECRET": ""})
    engine = engine_of(app)
    settings = app.config["NOTIFY_SETTINGS"]
    add_request(engine, title="一件目", notify=settings)
    add_request(engine, title="二件目", notify=settings)
    # Rows in order: email, webhook, email, webhook: each webhook fails, the batch goes on.
    report = notify.deliver_due(engine, settings)
    assert (report.sent, report.failed, report.pending) == (2, 2, 2)
    assert garbage.hits == 2 and len(handler.messages) == 2
    for row in notify.outbox_rows(engine):
        if row["channel"] == "webhook":
            assert row["sent_at"] is None and row["attempts"] == 1
            assert "BadStatusLine" in row["last_error"] or "garbage" in row["last_error"]
            assert row["next_attempt_at"] is not None
        else:
            assert row["sent_at"] is not None


def test_the_worker_loop_outlives_failing_rows(tmp_path: Path, garbage: GarbageReceiver) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CMSKIT_FORMS_")},
        "CMSKIT_FORMS_ENV": "testing",
        "CMSKIT_FORMS_INSTANCE_PATH": str(tmp_path / "instance"),
        "CMSKIT_FORMS_DATABASE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        "CMSKIT_FORMS_NOTIFY_WEBHOOK_URL": f"http://127.0.0.1:{garbage.port}/hook",
    }
    app = make_app(tmp_path, NOTIFY_WEBHOOK_URL=env["CMSKIT_FORMS_NOTIFY_WEBHOOK_URL"])
    engine = engine_of(app)
    add_request(engine, notify=app.config["NOTIFY_SETTINGS"])
    add_request(engine, notify=app.config["NOTIFY_SETTINGS"])
    command = [str(BIN / "cmskit-forms"), "review",
               "deliver-notifications", "--loop", "--interval", "0.5", "--json"]
    log = tmp_path / "worker.log"
    with log.open("w") as errors, subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=errors, text=True
    ) as worker:
        reports = []
        try:
            deadline = time.monotonic() + 60
            while len(reports) < 3 and time.monotonic() < deadline:
                line = worker.stdout.readline() if worker.stdout else ""
                if not line:
                    break
                if line.startswith("{"):  # one JSON report per pass
                    reports.append(line)
            alive = worker.poll() is None
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert alive, log.read_text()
    assert len(reports) >= 3
    rows = notify.outbox_rows(engine)
    assert [r["attempts"] for r in rows] == [1, 1]  # both tried once, then backing off
    assert all(r["sent_at"] is None and r["last_error"] for r in rows)
    assert garbage.hits == 2


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("NOTIFY_WEBHOOK_URL", "hooks.example.jp/new"),
        ("NOTIFY_WEBHOOK_URL", "ftp://hooks.example.jp/new"),
        ("NOTIFY_WEBHOOK_URL", "https:///no-host"),
        ("NOTIFY_REVIEW_URL", "support.example.jp/forms/review/"),
        ("NOTIFY_SMTP_PORT", "smtp"),
        ("NOTIFY_SMTP_PORT", 70000),
        ("NOTIFY_TIMEOUT", "soon"),
        ("NOTIFY_EMAIL_TO", "team at example.com"),
        ("NOTIFY_SMTP_STARTTLS", "maybe"),
    ],
)
def test_a_bad_notification_setting_stops_the_start(
    tmp_path: Path, setting: str, value: object
) -> None:
    config: dict[str, object] = {"NOTIFY_SMTP_HOST": "127.0.0.1",
                                 "NOTIFY_EMAIL_TO": "team@example.com", setting: value}
    with pytest.raises(ConfigError, match=f"CMSKIT_FORMS_{setting} "):
        make_app(tmp_path, **config)


def test_half_configured_email_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CMSKIT_FORMS_NOTIFY_SMTP_HOST is not set"):
        make_app(tmp_path, NOTIFY_EMAIL_TO="team@example.com")
    with pytest.raises(ConfigError, match="CMSKIT_FORMS_NOTIFY_EMAIL_TO is not set"):
        make_app(tmp_path, NOTIFY_SMTP_HOST="127.0.0.1")


def test_the_command_line_names_a_bad_setting(tmp_path: Path) -> None:
    env = {
        "CMSKIT_FORMS_ENV": "testing",
        "CMSKIT_FORMS_INSTANCE_PATH": str(tmp_path / "instance"),
        "CMSKIT_FORMS_DATABASE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        "CMSKIT_FORMS_NOTIFY_WEBHOOK_URL": "hooks.example.jp/new",
    }
    result = CliRunner().invoke(main, ["review", "deliver-notifications"], env=env)
    assert result.exit_code == 1
    assert "CMSKIT_FORMS_NOTIFY_WEBHOOK_URL" in result.output
    assert "hooks.example.jp/new" in result.output
