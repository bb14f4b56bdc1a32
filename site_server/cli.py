"""`cmskit-serve`: the built site at `/` and the forms sidecar at `/forms/`, on one origin.

This is what `scripts/run` starts for development and demos: one process, SQLite queue
(development configuration), the schema migrated, a demo support ID created and printed,
with the review queue's address and the command that creates a reviewer. Production uses
nginx + gunicorn instead (see deploy/). ``--check-port`` only tells whether the port is
free (scripts/run asks before it rebuilds the site under a server that may be running).

Server choice: Werkzeug's threaded WSGI server (`werkzeug.serving.make_server`). Werkzeug is
already installed with Flask, so nothing is added to the dependencies; its server runs in
this one process with no reloader and no child processes, so Ctrl-C (or SIGTERM) stops
everything; threads are enough for one person clicking through the site and the forms, and
the SQLite queue takes its writes with ``BEGIN IMMEDIATE`` anyway. Waitress would add a
dependency for throughput nobody needs here. Routing is Werkzeug's `DispatcherMiddleware`:
`/forms` goes to the Flask app (mounted there, so it sees ``SCRIPT_NAME=/forms`` exactly as
behind nginx + gunicorn), everything else to `StaticSite`, which also gives directory URLs
their ``index.html`` and missing paths the site's own 404 page.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from site_server import forms
from site_server.static import StaticSite

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

FORMS_PREFIX = "/forms"


def build_wsgi_app(site_dir: Path, forms: WSGIApplication) -> WSGIApplication:
    """One WSGI app: `forms` under /forms, the static site everywhere else."""
    return DispatcherMiddleware(StaticSite(site_dir), {FORMS_PREFIX: forms})


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="cmskit-serve",
        description="Serve the built site at / and the request forms at /forms/ on one origin "
        "(development: SQLite queue, demo support ID). Stop with Ctrl-C.",
    )
    parser.add_argument("--site-dir", type=Path, default=Path("site"), help="built site (site)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="queue database URL (default: CMSKIT_FORMS_DATABASE_URL when set, else a SQLite "
        "file in the forms app's instance folder)",
    )
    parser.add_argument(
        "--no-demo-id", action="store_true", help="do not create and print a demo support ID"
    )
    parser.add_argument(
        "--check-port", action="store_true",
        help="only check that the address is free to listen on (exit status 0), then exit",
    )
    return parser.parse_args(argv)


def _stop_on_signals() -> None:
    """Stop cleanly on Ctrl-C and on SIGTERM (`kill`).

    Ctrl-C is set explicitly: a program started in the background by a non-interactive
    shell (`cmd &` in a script, and whatever it starts) inherits SIGINT ignored, and Python
    then never turns it into KeyboardInterrupt; a blocked signal is unblocked too."""

    def _raise(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise)


def _listen_problem(host: str, port: int) -> str:
    """Why `host:port` cannot be listened on right now ("" when it can)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.strerror or str(error)
    return ""


def _busy(host: str, port: int) -> str:
    """The message for an address that cannot be listened on ("" when it can)."""
    problem = _listen_problem(host, port)
    if not problem:
        return ""
    return (
        f"cmskit-serve: cannot listen on {host}:{port}: {problem}; stop the other server "
        f"or pick another port (scripts/run --port {port + 1})"
    )


def reviewer_command(database_url: str | None) -> str:
    """The shell command that creates a reviewer for the queue this server uses."""
    settings = {"CMSKIT_FORMS_ENV": os.environ.get("CMSKIT_FORMS_ENV", "development")}
    if database_url:
        settings["CMSKIT_FORMS_DATABASE_URL"] = database_url
    tool = Path(sys.argv[0]).resolve().with_name("cmskit-forms")
    words = [f"{name}={shlex.quote(value)}" for name, value in settings.items()]
    return " ".join([*words, shlex.quote(str(tool)), "review", "add-reviewer", "NAME"])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `cmskit-serve`."""
    args = _parse_args(argv)
    site_dir: Path = args.site_dir
    # Bind first: a busy port must not leave a demo support ID or a migrated queue behind.
    busy = _busy(args.host, args.port)
    if busy:
        print(busy, file=sys.stderr)
        return 2
    if args.check_port:
        return 0
    if not (site_dir / "index.html").is_file():
        print(
            f"cmskit-serve: {site_dir} has no index.html; build the site first "
            "(.venv/bin/mkdocs build --strict)",
            file=sys.stderr,
        )
        return 2
    app, demo_id = forms.prepare(
        args.database_url, demo_id=not args.no_demo_id, site_dir=site_dir
    )
    server = make_server(args.host, args.port, build_wsgi_app(site_dir, app), threaded=True)
    base = f"http://{args.host}:{server.server_port}"
    print(f"Serving {site_dir.resolve()} at {base}/ and the request forms at {base}/forms/")
    if demo_id is not None:
        print(f"Demo support ID: {demo_id}")
    print(f"Review queue: {base}/forms/review/ (sign in as a reviewer; create one with")
    print(f"  {reviewer_command(args.database_url)}")
    print("  in another terminal; it asks for the password twice)")
    print("Stop with Ctrl-C.", flush=True)
    _stop_on_signals()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        forms.shutdown()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
