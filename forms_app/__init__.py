"""The forms sidecar: two free-tier request forms gated by a support ID, and a review queue.

Served under ``/forms/`` on the site's own origin. Its parts, each a subpackage:

- `forms_app.public`: what customers use: the two request forms and the status lookup
  (views, forms, support IDs, the queue's submit, receipts);
- `forms_app.review`: what staff use: the review web view under ``/forms/review/`` and the
  ``cmskit-forms review`` commands, with triage, FAQ drafts, export, retention, reviewer
  accounts and notifications;
- `forms_app.storage`: the queue database both sides share (engines and transactions,
  schema, migrations, which errors mean "unavailable");
- `forms_app.votes`: the "役に立ちましたか?" votes of the question pages (JSON under
  ``/forms/votes/``), which the review side counts and ranks;
- `forms_app.ratelimit`: every limit (submits, status lookups, wrong support IDs, reviewer
  logins), counted the same way.

Beside them, app-wide modules: `config` (every setting, checked at start), `errors` (the
Japanese error pages), `frame` (the built site's frame the customer pages are rendered
in), `security` (headers), `inputs` (the one rule
for text people send), `labels`, `timeutil`, and `cli` (``cmskit-forms``). Dependencies go
one way: public and review use storage, ratelimit and the app-wide modules, and touch each
other in two places only: a submit queues the reviewers' notifications (`review.notify`),
and the review pages label stored fields from the public forms (`review.display`). The
one-origin development server that serves the built site with this app is the separate
package `site_server`.

`create_app(test_config=None)` follows Flask's tutorial (flaskr): defaults, then
``instance/config.py``, then ``CMSKIT_FORMS_*`` environment variables; a test passes its
own mapping instead. See forms_app.config for every setting.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cmskb.formats import date_ja, number_ja
from flask import Flask
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import exc as sa_exc
from werkzeug.middleware.proxy_fix import ProxyFix

from forms_app import errors, frame, public, ratelimit, review, security, votes
from forms_app.config import (
    DEFAULTS,
    ConfigError,
    is_development,
    load_site_info,
    read_environment,
    validate,
)
from forms_app.storage.db import app_engine, is_sqlite
from forms_app.storage.errors import DATABASE_DOWN, first_line
from forms_app.storage.migrations import SchemaError, check_current, migrate

__all__ = ["ConfigError", "SchemaError", "create_app"]

log = logging.getLogger(__name__)


def create_app(
    test_config: Mapping[str, Any] | None = None,
    *,
    check_schema: bool = True,
    check_frame: bool = True,
) -> Flask:
    """Build the app; raises ConfigError or SchemaError when it must not start.

    `check_frame` False (the command line, which renders no page) lets a missing built
    site pass with the plain frame (forms_app.frame).
    """
    overrides = read_environment() if test_config is None else dict(test_config)
    instance_path = overrides.get("INSTANCE_PATH") or os.environ.get("CMSKIT_FORMS_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=str(Path(instance_path).resolve()) if instance_path else None,
    )
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    app.config.update(overrides)
    validate(app.config, Path(app.instance_path))
    app.config["SITE"] = load_site_info(str(app.config["CONTENT_DIR"]))

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        # The /forms prefix comes from SCRIPT_NAME (gunicorn), never from a header: nginx does
        # not set X-Forwarded-Prefix, so trusting it would let a client choose our URLs.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=0
        )

    CSRFProtect(app)
    ratelimit.init_app(app)
    security.init_app(app)
    public.init_app(app)
    review.init_app(app)
    votes.init_app(app)
    _register_error_pages(app)
    frame.init_app(app, required=check_frame)
    app.jinja_env.filters["date_ja"] = date_ja
    app.jinja_env.filters["number_ja"] = number_ja
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals["site_name"] = app.config["SITE"].name

    if check_schema:
        _check_schema(app)
    return app


def _register_error_pages(app: Flask) -> None:
    """The app-wide request check and Japanese error pages (forms_app.errors)."""
    # First of all before-request hooks: CSRFProtect and Flask-Limiter read the form too.
    app.before_request_funcs.setdefault(None, []).insert(0, errors.check_request)
    app.register_error_handler(CSRFError, errors.csrf_error)
    app.register_error_handler(429, errors.rate_limited)
    app.register_error_handler(413, errors.too_large)
    for code in errors.ERROR_PAGES:
        app.register_error_handler(code, errors.error_page)
    for error in DATABASE_DOWN:
        app.register_error_handler(error, errors.database_down)


def _check_schema(app: Flask) -> None:
    """Development migrates; elsewhere a schema behind the app stops the start."""
    engine = app_engine(app)
    try:
        if is_development(app.config):
            migrate(engine)
        else:
            check_current(engine)
    except sa_exc.OperationalError as exc:
        if is_sqlite(engine):
            raise  # a local file that cannot be opened is a setup mistake: say so now
        # A database server that is down now may be back for the first request: serve 503s.
        log.error("queue database unreachable at start: %s", first_line(exc))
    finally:
        # Keep no connection open across a gunicorn fork (--preload).
        engine.dispose()
