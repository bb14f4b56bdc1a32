"""Instructions per request of a full submit and of the no-op POST (callgrind; not a test).

Usage: .venv/bin/python bench/bench_forms_instructions.py [--requests 200]

`bench_forms.py` measures what the target is about (requests/s under gunicorn), but on a
shared machine its figures move by a tenth from run to run. This counts, with valgrind's
callgrind, the user-space instructions the app executes per request when its WSGI callable
is called in-process (production settings, CSRF on, SQLite queue in a temporary folder):
the same count on every run, so a change to the submit path can be judged by itself. It
leaves out what callgrind cannot see (the kernel's share: WAL writes, locks, sockets) and
memory stalls, so its ratio is not the throughput ratio; it tracks the work, not the time.

Each count is (requests N + warm-up) minus (warm-up alone), so start-up is not included.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
WARM_UP = 30


def _environ(body: bytes, path: str, cookie: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "/forms", "PATH_INFO": path,
        "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
        "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
        "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
        "HTTP_COOKIE": f"cmskit_forms_session={cookie}", "HTTP_HOST": "127.0.0.1:8000",
    }


def child(path: str, requests: int) -> None:
    """Inside valgrind: set the app up, warm it, then serve `requests` POSTs to `path`."""
    sys.path.insert(0, str(ROOT))  # this checkout's app, whatever the venv has installed
    sys.path.insert(0, str(ROOT / "tests"))  # the tests' helpers (tests/forms_helpers.py)
    from forms_helpers import PEPPER, add_support_id, config_for, csrf_token, feedback_data

    from forms_app import create_app
    from forms_app.storage.db import app_engine, config_engine
    from forms_app.storage.migrations import migrate

    tmp = Path(tempfile.mkdtemp(prefix="bench-ir-"))
    config = config_for(
        tmp, ENV="production", TESTING=False, WTF_CSRF_ENABLED=True, BENCH=True,
        SUBMIT_RATE_LIMIT="1000000 per minute",
    )
    migrate(config_engine(config))
    app = create_app(config)
    add_support_id(app_engine(app), "CK-BENCH-0001", pepper=PEPPER)
    client = app.test_client()
    token = csrf_token(client, "/feedback/")
    cookie = client.get_cookie("cmskit_forms_session", path="/forms")
    assert cookie is not None
    form = feedback_data("CK-BENCH-0001")
    fields = dict(form, csrf_token=token, description=form["description"] * 3)
    statuses: set[str] = set()

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.add(status)

    def serve(count: int, offset: int) -> None:
        titles = (f"bench {offset + n}" for n in range(count))
        bodies = [urlencode(dict(fields, title=title)).encode() for title in titles]
        for body in bodies:
            b"".join(app.wsgi_app(_environ(body, path, cookie.value), start_response))

    serve(WARM_UP, 0)
    serve(requests, WARM_UP)
    assert statuses <= {"303 SEE OTHER", "204 NO CONTENT"}, statuses
    shutil.rmtree(tmp, ignore_errors=True)


def instructions(path: str, requests: int) -> int:
    """Instructions callgrind collected for a whole child run."""
    with tempfile.TemporaryDirectory() as out:
        result = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.out",
             sys.executable, __file__, "--child", path, "--requests", str(requests)],
            capture_output=True, text=True, cwd=ROOT, check=True,
        )
    match = re.search(r"Collected : (\d+)", result.stderr)
    assert match, result.stderr[-2000:]
    return int(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--child", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.requests)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    os.environ.setdefault("PYTHONHASHSEED", "0")  # same dict layouts on every run
    per_request = {}
    for name, path in (("no-op POST", "/_bench/noop"), ("full submit", "/feedback/")):
        base = instructions(path, 0)
        total = instructions(path, args.requests)
        per_request[name] = (total - base) / args.requests
        print(f"  {name:12} {per_request[name] / 1e6:6.2f} M instructions/request")
    ratio = per_request["no-op POST"] / per_request["full submit"]
    print(f"  no-op / full submit: {ratio:.2f} (work only; bench_forms.py measures the time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
