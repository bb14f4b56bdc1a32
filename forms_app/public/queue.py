"""The request queue: durable submission and the public status lookup.

`submit_checked` runs the checks that decide whether to store (support ID, failed attempts)
and then inserts the request, its first history row and the reviewers' notifications, all in
ONE write transaction, and returns the receipt only after the commit: a receipt is never
shown for a row that is not stored, and a submit takes the SQLite write lock once and sees
one snapshot. Database outages surface as `QueueUnavailable` (forms_app.storage.errors).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select
from sqlalchemy import exc as sa_exc

from forms_app.config import NotifySettings
from forms_app.public.receipts import new_receipt
from forms_app.review import notify
from forms_app.storage.db import read_tx, write_tx
from forms_app.storage.errors import unavailable_as_error
from forms_app.storage.schema import request_history, requests
from forms_app.timeutil import as_utc, utcnow

_RECEIPT_TRIES = 3

# Built once: SQLAlchemy then reuses the compiled form (a submit runs these many times).
_INSERT_REQUEST = requests.insert().returning(requests.c.id)
_INSERT_HISTORY = request_history.insert()
_SELECT_BY_IDEMPOTENCY = select(requests.c.receipt).where(
    requests.c.idempotency_key == bindparam("key")
)
_SELECT_STATUS = select(requests.c.status, requests.c.created_at, requests.c.updated_at).where(
    requests.c.receipt == bindparam("receipt")
)


@dataclass(frozen=True, slots=True)
class Submission:
    """A validated request, ready to store."""

    form: str  # feedback | docs
    product: str | None
    title: str
    body: str
    fields: Mapping[str, Any]
    support_id_hash: str
    contact_email: str | None
    client_addr: str | None
    # Same key, same request: a double submit gets the first receipt (views._idempotency_key).
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    """What a check found instead of a request to store: the HTTP status and the message
    for the support-ID field. Rows the check wrote (a failed attempt) are committed."""

    status: int
    id_error: str


def submit(engine: Engine, item: Submission, notify_settings: NotifySettings) -> str:
    """Store `item` durably and return its receipt (raises QueueUnavailable)."""
    receipt = submit_checked(engine, lambda _conn: item, notify_settings)
    assert isinstance(receipt, str)
    return receipt


def submit_checked(
    engine: Engine,
    prepare: Callable[[Connection], Submission | Refused],
    notify_settings: NotifySettings,
) -> str | Refused:
    """Run `prepare(conn)` and store what it returns, in ONE write transaction.

    `prepare` makes the checks that decide whether to store and returns the item, or
    `Refused`. An item whose idempotency key is already stored is not stored again: its first
    receipt is returned. Returns the receipt after the commit, or what `prepare` refused
    with. Notifications are queued with `notify_settings` (read once, at start, never here
    inside the transaction). Raises QueueUnavailable.
    """
    for attempt in range(_RECEIPT_TRIES):
        receipt = new_receipt()  # drawn before the write lock is taken
        try:
            with unavailable_as_error(), write_tx(engine) as conn:
                item = prepare(conn)
                if isinstance(item, Refused):
                    return item
                if item.idempotency_key is not None:
                    first = conn.execute(
                        _SELECT_BY_IDEMPOTENCY, {"key": item.idempotency_key}
                    ).scalar()
                    if first is not None:
                        return str(first)
                return _insert(conn, item, receipt, notify_settings)
        except sa_exc.IntegrityError:
            # A receipt collision (60 random bits), or the same form committed meanwhile by a
            # parallel transaction (PostgreSQL): the next try draws again or finds it.
            if attempt == _RECEIPT_TRIES - 1:
                raise
    raise AssertionError("unreachable")


def _insert(
    conn: Connection, item: Submission, receipt: str, notify_settings: NotifySettings
) -> str:
    now = utcnow()
    request_id = conn.execute(
        _INSERT_REQUEST,
        {
            "receipt": receipt,
            "form": item.form,
            "status": "received",
            "product": item.product,
            "title": item.title,
            "body": item.body,
            "fields": dict(item.fields),
            "support_id_hash": item.support_id_hash,
            "contact_email": item.contact_email,
            "client_addr": item.client_addr,
            "idempotency_key": item.idempotency_key,
            "created_at": now,
            "updated_at": now,
        },
    ).scalar_one()
    conn.execute(
        _INSERT_HISTORY,
        {
            "request_id": request_id,
            "at": now,
            "actor": "requester",
            "action": "submitted",
            "from_status": None,
            "to_status": "received",
            "comment": "",
        },
    )
    notify.enqueue_new_request(
        conn,
        {
            "id": request_id,
            "receipt": receipt,
            "form": item.form,
            "title": item.title,
            "product": item.product,
            "created_at": now,
        },
        notify_settings,
    )
    return receipt


@dataclass(frozen=True, slots=True)
class PublicStatus:
    """What the public status page may show: the status and dates, nothing of the content."""

    receipt: str
    status: str
    received_at: dt.datetime
    updated_at: dt.datetime


def public_status(engine: Engine, receipt: str) -> PublicStatus | None:
    """The status of the request with this (canonical) receipt, or None."""
    with unavailable_as_error(), read_tx(engine) as conn:
        row = conn.execute(_SELECT_STATUS, {"receipt": receipt}).first()
    if row is None:
        return None
    received, updated = as_utc(row.created_at), as_utc(row.updated_at)
    assert received is not None and updated is not None  # NOT NULL columns
    return PublicStatus(receipt, row.status, received, updated)
