"""The forms sidecar: two free-tier request forms gated by a support ID, and a review queue.

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

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import exc as sa_exc
from werkzeug.middleware.proxy_fix import ProxyFix

from . import attempts, review, security, views
from .config import DEFAULTS, ConfigError, finish, is_development, load_site_info, read_environment
from .db import is_sqlite
from .migrations import SchemaError, check_current, migrate
from .queue import app_engine, first_line
from .sessions import CookieSessionInterface

__all__ = ["ConfigError", "SchemaError", "create_app"]

log = logging.getLogger(__name__)


def create_app(test_config: Mapping[str, Any] | None = None, *, check_schema: bool = True) -> Flask:
    """Build the app; raises ConfigError or SchemaError when it must not start."""
    overrides = read_environment() if test_config is None else dict(test_config)
    instance_path = overrides.get("INSTANCE_PATH") or os.environ.get("CMSKIT_FORMS_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=str(Path(instance_path).resolve()) if instance_path else None,
    )
    app.session_interface = CookieSessionInterface()
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    app.config.update(overrides)
    finish(app.config, Path(app.instance_path))
    app.config["SITE"] = load_site_info(str(app.config["CONTENT_DIR"]))

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        # The /forms prefix comes from SCRIPT_NAME (gunicorn), never from a header: nginx does
        # not set X-Forwarded-Prefix, so trusting it would let a client choose our URLs.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=0
        )

    CSRFProtect(app)
    attempts.init_app(app)
    security.init_app(app)
    views.init_app(app)
    review.init_app(app)  # keeps the notification settings; refuses wrong ones (ConfigError)

    if check_schema:
        _check_schema(app)
    return app


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
