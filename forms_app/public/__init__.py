"""What customers use, under ``/forms/``: the two request forms and the status lookup.

- `views`: the blueprint (pages, the submit, the status lookup);
- `forms`: the WTForms classes and their Japanese messages;
- `support_ids`: normalization, peppered hashes, lookup, CSV import, revoke and list;
- `queue`: the durable submit (one write transaction) and the public status;
- `receipts`: receipt numbers.
"""

from __future__ import annotations

from flask import Flask

from forms_app.public import views


def init_app(app: Flask) -> None:
    """Register the public blueprint and its rate limits."""
    views.init_app(app)
