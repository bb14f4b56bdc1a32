"""What staff use: the review web view under ``/forms/review/`` and ``cmskit-forms review``.

- `web`: the blueprint (login, list, detail, triage actions); `auth`: reviewer sign-in and
  the login limits; `display`: how stored fields are shown;
- `commands`: the ``review`` command group (added to ``cmskit-forms`` by forms_app.cli);
- `triage`: statuses, claims and the request list; `drafts`: FAQ drafts from accepted docs
  requests; `export`: CSV and JSON; `retention`: purging personal data; `accounts`:
  reviewer accounts; `notify`: the notification outbox and its delivery.
"""

from __future__ import annotations

from flask import Flask

from forms_app.review import web


def init_app(app: Flask) -> None:
    """Register the review blueprint (its settings are checked by forms_app.config)."""
    app.register_blueprint(web.bp)
