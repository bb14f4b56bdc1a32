"""Durability under failures: is every acknowledged request stored, and stored once?

Usage: .venv/bin/python bench/bench_durability.py [--submits 3000] [--clients 8]
       [--database postgresql|sqlite] [--workers 2] [--threads 1]

Not a test; prints figures (bench/README.md). Starts its OWN PostgreSQL (initdb into a
temporary folder, pg_ctl on a free port) and its OWN redis-server (deploy/redis.conf on a
free port): the machine's shared services on 5432 and 6379 are never touched. Then gunicorn
with deploy/gunicorn.conf.py (production settings: strong secrets, CSRF, Redis limits) and
`--clients` browser-like clients, each submitting distinct feedback forms. While they run:

1. kill -9 of one gunicorn worker;
2. kill -9 of the gunicorn master (its workers exit by themselves; gunicorn is started
   again, as a service manager would);
3. PostgreSQL stopped and started again (``--database postgresql``);
4. Redis stopped and started again (its append-only file keeps the counters).

A client acts like a person who presses 送信 again when something went wrong: on a Japanese
503 (checked: the message and the typed title are in the page), a connection error or a
timeout it sends the SAME form again (same session, same CSRF token, same text), for up to
`--give-up` seconds. A form counts as acknowledged when a 303 led to a thanks page showing a
receipt. Printed: sent (forms), acknowledged, stored (rows of this run), lost (acknowledged
receipts not stored, or stored with another title), duplicated (rows beyond one per form),
and how the refusals looked. Exit status 0 only when nothing is lost or duplicated and every
503 was Japanese with the input kept.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tests' form data (tests/forms_helpers.py)
from forms_helpers import feedback_data  # noqa: E402
from forms_site import built_site  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
UNAVAILABLE = "ただいま混み合っているため"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_RECEIPT = re.compile(r'class="receipt__number" lang="en">([0-9A-Z-]+)<')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- private services


class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temporary folder (trust auth, 127.0.0.1)."""

    def __init__(self, work: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            sys.exit("bench_durability: no /usr/lib/postgresql/*/bin/initdb (install postgresql)")
        self.bin = Path(found[-1]).parent
        self.data = work / "pgdata"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        work.chmod(0o755)
        self._as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.data.mkdir()
        if self._as_owner:
            shutil.chown(self.data, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._as_owner, str(self.bin / tool), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.data / "server.log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


class PrivateRedis:
    """redis-server with deploy/redis.conf on a free port, data in a temporary folder."""

    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.dir = work / "redis"
        self.dir.mkdir()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", str(ROOT / "deploy" / "redis.conf"), "--port", str(self.port),
             "--bind", "127.0.0.1", "--dir", str(self.dir), "--daemonize", "no",
             "--logfile", str(self.dir / "redis.log")]
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)  # a clean shutdown: the AOF is flushed
        self.process.wait(30)


# ---------------------------------------------------------------- gunicorn


class Gunicorn:
    def __init__(self, env: dict[str, str], work: Path) -> None:
        self.env = env
        self.log = (work / "gunicorn.log").open("ab")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def workers(self) -> list[int]:
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def kill_worker(self) -> int:
        pid = self.workers()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_master(self) -> None:
        """kill -9 of the master; its orphaned workers notice and exit; start again."""
        assert self.process is not None
        orphans = self.workers()
        self.process.kill()
        self.process.wait()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in orphans):
            time.sleep(0.1)
        for pid in orphans:  # a service manager ends what is left of the old unit
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# ---------------------------------------------------------------- clients


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    acknowledged: dict[str, str] = field(default_factory=dict)  # title -> receipt
    gave_up: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    bad_503: int = 0

    def note(self, kind: str) -> None:
        with self.lock:
            self.answers[kind] += 1


class Browser:
    """One person's browser: a cookie, one connection at a time, retries on failure."""

    def __init__(self, port: int, tally: Tally, give_up: float) -> None:
        self.port = port
        self.tally = tally
        self.give_up = give_up
        self.cookie = ""

    def _request(
        self, method: str, path: str, body: bytes | None = None
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            page = response.read().decode("utf-8", "replace")
            for name, value in response.getheaders():
                if name.lower() == "set-cookie" and value.startswith("cmskit_forms_session="):
                    self.cookie = value.split(";", 1)[0]
            return response.status, dict(response.getheaders()), page
        finally:
            conn.close()

    def _until_answered(self, deadline: float, call: object) -> tuple[int, str] | None:
        """Call until an HTTP answer comes (connection errors are retried), or give up."""
        while time.monotonic() < deadline:
            try:
                status, _headers, page = call()  # type: ignore[operator]
                return status, page
            except (OSError, http.client.HTTPException):
                self.tally.note("connection error")
                time.sleep(0.2)
        return None

    def submit(self, support_id: str, title: str) -> None:
        deadline = time.monotonic() + self.give_up
        with self.tally.lock:
            self.tally.sent += 1
        got = self._until_answered(deadline, lambda: self._request("GET", "/forms/feedback/"))
        token = _CSRF.search(got[1]) if got else None
        if token is None:
            with self.tally.lock:
                self.tally.gave_up += 1
            return
        body = urlencode(
            {**feedback_data(support_id, title=title), "csrf_token": token.group(1)}
        ).encode("ascii")
        while time.monotonic() < deadline:
            got = self._until_answered(
                deadline, lambda: self._request("POST", "/forms/feedback/", body)
            )
            if got is None:
                break
            status, page = got
            self.tally.note(str(status))
            if status == 303:
                thanks = self._until_answered(
                    deadline, lambda: self._request("GET", "/forms/thanks/")
                )
                receipt = _RECEIPT.search(thanks[1]) if thanks else None
                if receipt:
                    with self.tally.lock:
                        self.tally.acknowledged[title] = receipt.group(1)
                    return
            elif status == 503 and (UNAVAILABLE not in page or f'value="{title}"' not in page):
                with self.tally.lock:
                    self.tally.bad_503 += 1
            time.sleep(0.2)  # the person reads the message and presses 送信 again
        with self.tally.lock:
            self.tally.gave_up += 1


# ---------------------------------------------------------------- the run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submits", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--give-up", type=float, default=90.0,
                        help="seconds a client keeps trying one form")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-durability-"))
    postgres = PrivatePostgres(work) if args.database == "postgresql" else None
    redis_server = PrivateRedis(work)
    gunicorn: Gunicorn | None = None
    try:
        if postgres is not None:
            postgres.start()
        redis_server.start()
        database_url = postgres.url if postgres else f"sqlite:///{work / 'queue.sqlite3'}"
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CMSKIT_FORMS_")}
        env.update({
            "CMSKIT_FORMS_SECRET_KEY": secrets.token_hex(32),
            "CMSKIT_FORMS_SUPPORT_ID_PEPPER": secrets.token_hex(32),
            "CMSKIT_FORMS_DATABASE_URL": database_url,
            "CMSKIT_FORMS_SITE_DIR": str(built_site()),
            "CMSKIT_FORMS_RATELIMIT_STORAGE_URI": redis_server.url,
            "CMSKIT_FORMS_SUBMIT_RATE_LIMIT": "1000000 per minute",
            "CMSKIT_FORMS_SESSION_COOKIE_SECURE": "false",
            "CMSKIT_FORMS_WRITE_TIMEOUT": "5",
            "FORMS_BIND": f"127.0.0.1:{port}",
            "FORMS_WORKERS": str(args.workers),
            "FORMS_THREADS": str(args.threads),
            "FORMS_LOG_LEVEL": "warning",
        })
        cli = [str(VENV_BIN / "cmskit-forms")]
        subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
        demo = subprocess.run([*cli, "demo-id"], env=env, check=True, capture_output=True,
                              text=True).stdout.strip()
        gunicorn = Gunicorn(env, work)
        gunicorn.start()
        _wait_up(port)

        run = uuid.uuid4().hex[:8]
        tally = Tally()
        titles = [f"耐久 {run} {n:06d}" for n in range(args.submits)]
        done = threading.Event()
        timeline: list[str] = []
        chaos = threading.Thread(
            target=_disrupt, args=(tally, args.submits, gunicorn, postgres, redis_server,
                                   timeline, done), daemon=True,
        )
        started = time.monotonic()
        chaos.start()
        _load(port, demo, titles, args.clients, tally, args.give_up)
        elapsed = time.monotonic() - started
        done.set()
        chaos.join(120)
        gunicorn.stop()
        return _report(args, database_url, run, tally, timeline, elapsed)
    finally:
        if gunicorn is not None:
            gunicorn.stop()
        if redis_server.process is not None and redis_server.process.poll() is None:
            redis_server.stop()
        if postgres is not None:
            with contextlib.suppress(subprocess.CalledProcessError):
                postgres.stop()
        shutil.rmtree(work, ignore_errors=True)


def _wait_up(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/forms/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer")


def _load(port: int, support_id: str, titles: list[str], clients: int, tally: Tally,
          give_up: float) -> None:
    queue = list(reversed(titles))
    lock = threading.Lock()

    def client() -> None:
        browser = Browser(port, tally, give_up)
        while True:
            with lock:
                if not queue:
                    return
                title = queue.pop()
            browser.submit(support_id, title)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _disrupt(tally: Tally, total: int, gunicorn: Gunicorn, postgres: PrivatePostgres | None,
             redis_server: PrivateRedis, timeline: list[str], done: threading.Event) -> None:
    """The failures, each when a share of the forms has been sent."""

    def at(share: float) -> bool:
        while not done.is_set():
            with tally.lock:
                if tally.sent >= share * total:
                    return True
            time.sleep(0.05)
        return False

    def note(what: str) -> None:
        with tally.lock:
            line = f"{what} after {tally.sent} forms sent"
        timeline.append(line)
        log(line)

    if at(0.15):
        note(f"kill -9 worker {gunicorn.kill_worker()}")
    if at(0.30):
        note("kill -9 master")
        gunicorn.kill_master()
        note("gunicorn started again")
    if postgres is not None and at(0.50):
        note("PostgreSQL stopped")
        postgres.stop()
        time.sleep(5)
        postgres.start()
        note("PostgreSQL started")
    if at(0.70):
        note("Redis stopped")
        redis_server.stop()
        time.sleep(5)
        redis_server.start()
        note("Redis started")


def _report(args: argparse.Namespace, database_url: str, run: str, tally: Tally,
            timeline: list[str], elapsed: float) -> int:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT receipt, title FROM requests WHERE title LIKE :p"),
            {"p": f"耐久 {run} %"},
        ).all()
    engine.dispose()
    stored_titles = Counter(title for _receipt, title in rows)
    by_receipt = {receipt: title for receipt, title in rows}
    acknowledged = tally.acknowledged
    lost = sum(1 for title, receipt in acknowledged.items() if by_receipt.get(receipt) != title)
    duplicated = sum(count - 1 for count in stored_titles.values() if count > 1)
    answers = ", ".join(f"{kind}: {n}" for kind, n in sorted(tally.answers.items()))
    print()
    print(f"durability, {args.database} + Redis, gunicorn {args.workers} workers x "
          f"{args.threads} threads, {args.clients} clients, {elapsed:.0f} s")
    for line in timeline:
        print(f"  {line}")
    print(f"sent          {tally.sent}")
    print(f"acknowledged  {len(acknowledged)}")
    print(f"stored        {len(rows)} ({len(stored_titles)} distinct forms)")
    print(f"lost          {lost}")
    print(f"duplicated    {duplicated}")
    print(f"gave up       {tally.gave_up} (no receipt within {args.give_up:.0f} s)")
    print(f"answers       {answers}")
    print(f"503 pages without the Japanese message or the typed title: {tally.bad_503}")
    ok = lost == 0 and duplicated == 0 and tally.bad_503 == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
