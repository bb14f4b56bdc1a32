"""The forms app as `cmskit-serve` runs it: development settings, migrated queue, demo ID.

Settings come the usual way (`forms_app.config`: defaults, instance file, ``CMSKIT_FORMS_*``
variables); this only defaults ``ENV`` to development (secrets generated once into the
instance folder, SQLite queue there unless a database URL is given) and refuses production
settings without their secrets exactly as gunicorn would.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from forms_app import create_app
from forms_app.public.support_ids import create_demo_id
from forms_app.storage.db import app_engine, dispose_all
from forms_app.storage.migrations import migrate

DEMO_PRODUCT = "cloud"


def prepare(
    database_url: str | None, *, demo_id: bool = True, site_dir: Path | None = None
) -> tuple[Flask, str | None]:
    """The Flask app with its queue migrated, and a fresh demo support ID (or None).

    `site_dir`, the built site served beside it, also frames the forms' pages
    (``CMSKIT_FORMS_SITE_DIR``, forms_app.frame).
    """
    os.environ.setdefault("CMSKIT_FORMS_ENV", "development")
    if site_dir is not None:
        os.environ["CMSKIT_FORMS_SITE_DIR"] = str(site_dir.resolve())
    if database_url:
        os.environ["CMSKIT_FORMS_DATABASE_URL"] = database_url
    app = create_app()
    engine = app_engine(app)
    migrate(engine)
    created = None
    if demo_id:
        created = create_demo_id(
            engine, pepper=app.config["SUPPORT_ID_PEPPER"], product=DEMO_PRODUCT
        )
    return app, created


def shutdown() -> None:
    """Close the queue's connections (the SQLite WAL is checkpointed on close)."""
    dispose_all()
