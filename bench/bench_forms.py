"""Full submit vs no-op POST under gunicorn with 2 workers (not a test; prints figures).

Usage: .venv/bin/python bench/bench_forms.py [--clients 8] [--seconds 4] [--rounds 3] [--threads N]
       [--redis redis://127.0.0.1:6379/0] [--app shipped --app stock_memory_storage ...]

With ``--app`` (factories of bench/forms_variants.py) it compares variants of the app instead:
each its own gunicorn and queue, no-op and submit phases alternating over all of them, the
submit's rate and server CPU printed relative to the first.

Starts the forms sidecar under gunicorn (2 workers, worker class and threads as in
deploy/gunicorn.conf.py, SQLite queue in a temporary folder, production settings with CSRF
on and the submit rate limit raised), then drives it with one load tool, a threaded HTTP/1.1
client (http.client, one keep-alive connection and one session cookie per client). Each
client GETs the form once for its CSRF token, then POSTs the same ~1.5 KB form body (with
that token) to:

* ``/forms/_bench/noop``: the no-op baseline (BENCH only). Like every POST of the app it
  passes the global CSRF check, then does nothing (no validation, no database);
* ``/forms/_bench/noop-bare``: the same no-op exempt from CSRF (printed for comparison);
* ``/forms/feedback/``: the full submit (CSRF, form validation, failed-attempt check and
  support-ID lookup, durable insert of request + history + outbox hook, receipt in the
  session, 303).

Phases alternate (no-op, bare no-op, submit, ...) so all see the same machine load. Prints
requests/s, p50/p99 latency and the ratio submit / no-op (the former 0.5 target is retired:
a support site needs far less than what the submit reaches), then checks that every
acknowledged submit (303 with its receipt in the signed session cookie, decoded after the
phase so the load tool spends the same per request in every phase) is stored exactly once.
Exit status 0 only when no receipt is lost or duplicated.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import re
import runpy
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from flask.json.tag import TaggedJSONSerializer
from itsdangerous import URLSafeTimedSerializer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tests' form data (tests/forms_helpers.py)
from forms_helpers import feedback_data  # noqa: E402
from forms_site import built_site  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
SECRET = "bench-secret-key-3f9a1c7e5d2b8046af1e9c3d"
PEPPER = "bench-pepper-b72e04d9c1a5f8363e0b7d2c"
COOKIE = "cmskit_forms_session"
# Worker class and threads as deployed (the bench sets the workers, bind and logging itself).
PRODUCTION = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session_reader() -> URLSafeTimedSerializer:
    """Reads Flask's signed session cookie (same settings as SecureCookieSessionInterface)."""
    return URLSafeTimedSerializer(
        SECRET,
        salt="cookie-session",
        serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0
    server_cpu: float = 0.0  # CPU seconds used by the gunicorn workers during the phase
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    """One browser: a keep-alive connection, a session cookie and a CSRF token."""

    def __init__(self, port: int, support_id: str, n: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""
        self.n = n
        html = self.request("GET", "/forms/feedback/")[1]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
        assert token, "no CSRF token on the form"
        form = feedback_data(support_id)
        self.body_fields = {
            **form,
            "csrf_token": token.group(1),
            "description": form["description"] * 3,
        }
        self.sent = 0

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, str]:
        headers = {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            # gunicorn closed the idle keep-alive connection (phases of other apps ran).
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.partition(";")[0].partition("=")
            if name.strip() == COOKIE:
                self.cookie = value.strip()
        return response.status, text

    def body(self) -> bytes:
        self.sent += 1
        fields = dict(self.body_fields, title=f"ベンチ {self.n}-{self.sent}")
        return urlencode(fields).encode()


def workers_cpu(master: int) -> float:
    """CPU seconds (user + system) used so far by the children of the gunicorn master."""
    total = 0
    for child in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def run_phase(clients: list[Client], path: str, seconds: float, phase: Phase,
              cookies: list[str] | None, master: int) -> None:
    """POST to `path` from every client for `seconds`; `cookies` collects acknowledged
    submits' session cookies (None: a no-op phase, which answers 204)."""
    cpu_before = workers_cpu(master)
    deadline = time.perf_counter() + seconds

    def work(client: Client) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, _ = client.request("POST", path, client.body())
            took = time.perf_counter() - started
            ok = status == 204 if cookies is None else status == 303
            with phase.lock:
                if ok:
                    phase.latencies.append(took)
                    if cookies is not None:
                        cookies.append(client.cookie)
                else:
                    phase.errors[status] = phase.errors.get(status, 0) + 1

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    phase.elapsed += time.perf_counter() - started
    phase.server_cpu += workers_cpu(master) - cpu_before


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _server_env(tmp: str, db: Path, redis_uri: str, prefix: str) -> dict[str, str]:
    return dict(
        os.environ,
        CMSKIT_FORMS_ENV="production",
        CMSKIT_FORMS_SECRET_KEY=SECRET,
        CMSKIT_FORMS_SUPPORT_ID_PEPPER=PEPPER,
        CMSKIT_FORMS_INSTANCE_PATH=tmp,
        CMSKIT_FORMS_SITE_DIR=str(built_site()),
        CMSKIT_FORMS_DATABASE_URL=f"sqlite:///{db}",
        CMSKIT_FORMS_SESSION_COOKIE_SECURE="false",
        CMSKIT_FORMS_SUBMIT_RATE_LIMIT="1000000 per minute",
        CMSKIT_FORMS_BENCH="true",
        CMSKIT_FORMS_RATELIMIT_STORAGE_URI=redis_uri or "memory://",
        CMSKIT_FORMS_RATELIMIT_KEY_PREFIX=prefix,
    )


def _start(env: dict[str, str], app_spec: str, threads: int) -> tuple[subprocess.Popen[bytes], int]:
    """Migrate the queue, start gunicorn (2 workers) on `app_spec`; (process, port)."""
    cli = str(VENV_BIN / "cmskit-forms")
    subprocess.run([cli, "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"), "--workers", "2",
            "--worker-class", PRODUCTION["worker_class"],
            "--threads", str(threads), "--bind", f"127.0.0.1:{port}",
            "--env", "SCRIPT_NAME=/forms", "--pythonpath", str(ROOT / "bench"),
            "--log-level", "warning", app_spec,
        ],
        env=env,
        cwd=ROOT,
    )
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request(
                "GET", "/forms/healthz"
            )
            break
        except OSError:
            time.sleep(0.1)
    time.sleep(1.0)  # let both workers boot
    return server, port


def compare(args: argparse.Namespace) -> int:
    """Several app factories side by side: no-op and submit phases alternate over all."""
    prefix = f"bench-forms-{os.getpid()}"
    servers: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-forms-") as tmp:
        runs = []
        try:
            for name in args.app:
                db = Path(tmp) / f"{name}.sqlite3"
                env = _server_env(tmp, db, args.redis, f"{prefix}-{name}")
                server, port = _start(env, f"forms_variants:{name}()", args.threads)
                servers.append(server)
                support_id = subprocess.run(
                    [str(VENV_BIN / "cmskit-forms"), "demo-id"], env=env, check=True,
                    capture_output=True, text=True,
                ).stdout.strip()
                clients = [Client(port, support_id, n) for n in range(args.clients)]
                runs.append((name, server, clients, Phase("no-op"), Phase("submit")))
            for _name, server, clients, _noop, _submit in runs:  # warm-up, not timed
                run_phase(clients, "/forms/_bench/noop", 1.0, Phase("w"), None, server.pid)
                run_phase(clients, "/forms/feedback/", 1.0, Phase("w"), [], server.pid)
            for _ in range(args.rounds):
                for _name, server, clients, noop, submit in runs:
                    run_phase(clients, "/forms/_bench/noop", args.seconds, noop, None, server.pid)
                    run_phase(clients, "/forms/feedback/", args.seconds, submit, [], server.pid)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    print(f"gunicorn 2 workers ({PRODUCTION['worker_class']} x{args.threads}) per app, "
          f"{args.clients} clients, {args.rounds} x {args.seconds:.0f} s per phase and app, "
          f"rate limits in {args.redis or 'memory://'}")
    base_rate = base_cpu = 0.0
    for name, _server, _clients, noop, submit in runs:
        rate = len(submit.latencies) / submit.elapsed
        noop_rate = len(noop.latencies) / noop.elapsed
        cpu = submit.server_cpu / max(len(submit.latencies), 1) * 1000
        noop_cpu = noop.server_cpu / max(len(noop.latencies), 1) * 1000
        base_rate, base_cpu = base_rate or rate, base_cpu or cpu
        print(f"  {name:22} submit {rate:7.1f} req/s (x{rate / base_rate:.2f}), "
              f"p99 {percentile(submit.latencies, 0.99):5.1f} ms, server CPU {cpu:.2f} ms "
              f"(x{cpu / base_cpu:.2f}); no-op {noop_rate:7.1f} req/s, {noop_cpu:.2f} ms; "
              f"errors {submit.errors or 0}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4.0, help="per phase and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=PRODUCTION["threads"],
                        help="threads per worker (default: deploy/gunicorn.conf.py's)")
    parser.add_argument(
        "--redis", metavar="URI", default="",
        help="rate-limit storage, e.g. redis://127.0.0.1:6379/0 (default: memory://)",
    )
    parser.add_argument(
        "--app", metavar="NAME", action="append", default=[],
        help="compare app factories of bench/forms_variants.py (e.g. --app shipped --app "
        "stock_memory_storage): each gets its own gunicorn and queue, phases alternate",
    )
    args = parser.parse_args()
    if args.app:
        return compare(args)
    prefix = f"bench-forms-{os.getpid()}"

    with tempfile.TemporaryDirectory(prefix="bench-forms-") as tmp:
        db = Path(tmp) / "queue.sqlite3"
        env = _server_env(tmp, db, args.redis, prefix)
        server, port = _start(env, "forms_app:create_app()", args.threads)
        support_id = subprocess.run(
            [str(VENV_BIN / "cmskit-forms"), "demo-id"], env=env, check=True,
            capture_output=True, text=True,
        ).stdout.strip()
        try:
            clients = [Client(port, support_id, n) for n in range(args.clients)]
            noop, bare, submit = Phase("no-op POST"), Phase("bare no-op"), Phase("full submit")
            cookies: list[str] = []
            # Warm-up (not timed; its submits are checked with the others).
            for path, cookie_list in (
                ("/forms/_bench/noop", None), ("/forms/_bench/noop-bare", None),
                ("/forms/feedback/", cookies),
            ):
                run_phase(clients, path, 1.0, Phase("warm-up"), cookie_list, server.pid)
            per_round: list[float] = []  # each round's submit / no-op ratio (shows the spread)
            for _ in range(args.rounds):
                before = (len(noop.latencies), noop.elapsed, len(submit.latencies), submit.elapsed)
                run_phase(clients, "/forms/_bench/noop", args.seconds, noop, None, server.pid)
                run_phase(clients, "/forms/_bench/noop-bare", args.seconds, bare, None, server.pid)
                run_phase(clients, "/forms/feedback/", args.seconds, submit, cookies, server.pid)
                noop_rate = (len(noop.latencies) - before[0]) / (noop.elapsed - before[1])
                submit_rate = (len(submit.latencies) - before[2]) / (submit.elapsed - before[3])
                per_round.append(submit_rate / noop_rate)
        finally:
            server.terminate()
            server.wait(timeout=30)
            if args.redis:
                import redis

                conn = redis.Redis.from_url(args.redis)
                keys = list(conn.scan_iter(match=f"*{prefix}*"))
                if keys:
                    conn.delete(*keys)

        print(f"gunicorn 2 workers ({PRODUCTION['worker_class']} x{args.threads}), "
              f"{args.clients} clients, "
              f"{args.rounds} x {args.seconds:.0f} s per phase, SQLite queue, "
              f"rate limits in {args.redis or 'memory://'}")
        rates = {}
        for phase in (noop, bare, submit):
            rates[phase.name] = len(phase.latencies) / phase.elapsed
            print(f"  {phase.name:12} {rates[phase.name]:8.1f} req/s   "
                  f"p50 {percentile(phase.latencies, 0.50):6.1f} ms   "
                  f"p99 {percentile(phase.latencies, 0.99):6.1f} ms   "
                  f"server CPU {phase.server_cpu / max(len(phase.latencies), 1) * 1000:5.2f} ms/req"
                  f"   n={len(phase.latencies)} errors={phase.errors or 0}")
        ratio = rates["full submit"] / rates["no-op POST"]
        print(f"  ratio full submit / no-op POST (both CSRF-checked): {ratio:.2f}")
        print("  ratio per round: " + ", ".join(f"{r:.2f}" for r in per_round))
        print(f"  (full submit / bare no-op without CSRF: "
              f"{rates['full submit'] / rates['bare no-op']:.2f}, for comparison)")
        cpu = {p.name: p.server_cpu / max(len(p.latencies), 1) for p in (noop, bare, submit)}
        print(f"  server CPU per request, no-op / full submit: "
              f"{cpu['no-op POST'] / cpu['full submit']:.2f} "
              f"(the throughput ratio if the workers alone were the limit)")

        reader = session_reader()
        acknowledged = [reader.loads(cookie)["receipt"] for cookie in cookies]

        with sqlite3.connect(db) as conn:
            stored = [r[0] for r in conn.execute("SELECT receipt FROM requests")]
        missing = set(acknowledged) - set(stored)
        duplicates = len(stored) - len(set(stored))
        extra = set(stored) - set(acknowledged)
        print(f"  acknowledged {len(acknowledged)}, stored {len(stored)}, "
              f"missing {len(missing)}, duplicates {duplicates}, unacknowledged {len(extra)}")
        ok = not missing and not duplicates and len(set(acknowledged)) == len(acknowledged)
        print(f"  receipts: {'PASS' if ok else 'FAIL'}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
