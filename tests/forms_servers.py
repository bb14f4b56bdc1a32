"""The forms sidecar as real servers for tests: gunicorn with deploy's configuration, the
development server (`cmskit-serve`), and a browser-like HTTP session that keeps its cookie.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from forms_helpers import csrf_from, plain_site
from product_fixtures import BIN, ROOT, ServerProcess, free_port, wait_for_http
from review_helpers import PASSWORD

# Production-strength secrets (config.secret_weakness) shared by a server and its CLI.
SECRETS = {
    "CMSKIT_FORMS_SECRET_KEY": "srv-test-secret-9c4e1a7f3b2d8e06c5a1f9d3",
    "CMSKIT_FORMS_SUPPORT_ID_PEPPER": "srv-test-pepper-2f8b6d0e4a9c1e7b3d5f0a8c",
}
_SUPPORT_ID = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)+")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class Session:
    """One browser: its session cookie, its client address as the proxy reports it
    (`forwarded_for`) or the loopback address it connects from (`source`)."""

    base_url: str
    forwarded_for: str | None = None
    source: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, body: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One request on a new connection; an iterable body is sent chunked (no length)."""
        parts = urllib.parse.urlsplit(self.base_url)
        source = (self.source, 0) if self.source else None
        conn = http.client.HTTPConnection(
            parts.hostname, parts.port, timeout=60, source_address=source
        )
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.forwarded_for:
            sent["X-Forwarded-For"] = self.forwarded_for
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";", 1)[0]
            return Answer(response.status, dict(response.getheaders()), text)
        finally:
            conn.close()

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(
        self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None
    ) -> Answer:
        body = urllib.parse.urlencode(fields).encode("ascii")
        sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request("POST", path, body, sent)

    def token(self, path: str) -> str:
        """GET a page (starting the session) and return its CSRF token."""
        answer = self.get(path)
        assert answer.status == 200, (path, answer.status, answer.body[:300])
        return csrf_from(answer.body)

    def login(self, username: str, password: str) -> Answer:
        token = self.token("/forms/review/login")
        fields = {"username": username, "password": password, "csrf_token": token}
        return self.post("/forms/review/login", fields)


@dataclass
class FormsServer:
    base_url: str
    support_id: str
    env: dict[str, str]
    process: ServerProcess

    def session(self, forwarded_for: str | None = None) -> Session:
        return Session(self.base_url, forwarded_for=forwarded_for)

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(BIN / "cmskit-forms"), *args], cwd=ROOT, env=self.env, input=stdin,
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result


def server_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a sidecar on `database_url` with CMSKIT_FORMS_<NAME> settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMSKIT_FORMS_")}
    env.update(SECRETS)
    env["CMSKIT_FORMS_DATABASE_URL"] = database_url
    env["CMSKIT_FORMS_SESSION_COOKIE_SECURE"] = "false"  # plain HTTP on loopback
    env["CMSKIT_FORMS_SITE_DIR"] = str(plain_site())  # production settings need a frame
    env.update({f"CMSKIT_FORMS_{name}": value for name, value in settings.items()})
    return env


def _prepare(env: dict[str, str]) -> str:
    """Migrate, create a reviewer (sato) and a support ID; returns the ID."""
    def run(*args: str, stdin: str = "") -> str:
        result = subprocess.run(
            [str(BIN / "cmskit-forms"), *args], cwd=ROOT, env=env, input=stdin,
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    run("migrate")
    run("review", "add-reviewer", "sato", "--password-stdin", stdin=PASSWORD + "\n")
    found = _SUPPORT_ID.search(run("demo-id"))
    assert found
    return found.group(0)


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 2, threads: int = 4) -> Iterator[FormsServer]:
    """gunicorn with deploy/gunicorn.conf.py (`workers` x `threads`) on a free port."""
    port = free_port()
    env = {**env, "FORMS_BIND": f"127.0.0.1:{port}", "FORMS_WORKERS": str(workers),
           "FORMS_THREADS": str(threads)}
    support_id = _prepare(env)
    process = ServerProcess(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")], cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/forms/healthz", server=process)
        yield FormsServer(base, support_id, env, process)
    finally:
        process.stop(signal.SIGTERM)


@contextmanager
def devserver(env: dict[str, str], work: Path) -> Iterator[FormsServer]:
    """`cmskit-serve` (Werkzeug's threaded server, as `scripts/run`) on a free port."""
    site = work / "site"
    site.mkdir(exist_ok=True)
    (site / "index.html").write_text("<!doctype html><title>site</title>", encoding="utf-8")
    port = free_port()
    env = {**env, "CMSKIT_FORMS_ENV": "development", "PYTHONUNBUFFERED": "1"}
    support_id = _prepare(env)
    process = ServerProcess(
        [str(BIN / "cmskit-serve"), "--site-dir", str(site), "--port", str(port),
         "--no-demo-id"], cwd=work, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert process.wait_for_line("Stop with Ctrl-C"), process.output
        wait_for_http(base + "/forms/healthz", server=process)
        yield FormsServer(base, support_id, env, process)
    finally:
        process.stop()


def in_parallel(count: int, prepare: Callable[[int], Callable[[], Answer]]) -> list[Answer]:
    """Run `count` requests at once: each is prepared first (sessions, tokens), then all
    are released together by a barrier."""
    calls = [prepare(n) for n in range(count)]
    barrier = threading.Barrier(count)
    answers: list[Answer | None] = [None] * count

    def run(n: int) -> None:
        barrier.wait()
        answers[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]
