"""gunicorn settings for the forms sidecar behind nginx (see deploy/README.md).

Run from the project folder: ``.venv/bin/gunicorn -c deploy/gunicorn.conf.py``.
Everything can be overridden with environment variables (FORMS_BIND, FORMS_WORKERS,
FORMS_THREADS, FORMS_TIMEOUT) or gunicorn's own command-line options.
"""

from __future__ import annotations

import multiprocessing
import os

# The Flask app factory; nginx forwards /forms/... unchanged and gunicorn moves the
# /forms prefix from PATH_INFO to SCRIPT_NAME, as `cmskit-serve` does in development.
wsgi_app = "forms_app:create_app()"
# nginx (deploy/nginx.conf) is the one proxy in front: trust one X-Forwarded-For hop, so each
# client is counted by its own address. Set CMSKIT_FORMS_PROXY_COUNT=2 when a TLS terminator
# or load balancer sits in front of nginx.
proxy_count = os.environ.get("CMSKIT_FORMS_PROXY_COUNT", "1")
raw_env = ["SCRIPT_NAME=/forms", f"CMSKIT_FORMS_PROXY_COUNT={proxy_count}"]

bind = os.environ.get("FORMS_BIND", "127.0.0.1:8001")
# Several workers: the secret key, the pepper and the rate-limit storage (Redis) must be
# shared by all of them, which is why they come from the environment, never per worker.
workers = int(os.environ.get("FORMS_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
# gthread keeps nginx's upstream connections alive (the sync worker closes each one). One
# thread per worker by default: a request is CPU-bound Python with a short database write,
# so a second thread in the same process only waits for the GIL; bench/bench_forms.py
# measured 2 workers x 1 thread at 1.5x the submits/s of 2 x 2, with a lower p99. Raise it
# (and lower the workers) only for a queue on a remote PostgreSQL with slow round trips.
worker_class = "gthread"
threads = int(os.environ.get("FORMS_THREADS", "1"))
timeout = int(os.environ.get("FORMS_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Never load the app (nor open a database connection) before the fork: each worker opens
# its own engine on first use.
preload_app = False
# Recycle workers now and then (bounded memory), with jitter so they do not restart at once.
max_requests = 2000
max_requests_jitter = 200
# Only nginx on this host may set X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORMS_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proxy_allow_ips = forwarded_allow_ips
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("FORMS_LOG_LEVEL", "info")
proc_name = "cmskit-forms"
