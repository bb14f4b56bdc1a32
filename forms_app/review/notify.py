"""Reviewer notifications through the outbox table.

A submission only inserts outbox rows, in its own transaction (`enqueue_new_request`), so a
slow or broken mail server or webhook never blocks or fails a submission, and a message is
never lost: `deliver_due` (the `review deliver-notifications` command, or its `--loop`
worker) sends what is due, marks it sent, and on failure schedules a retry with exponential
backoff. Rows are never deleted while unsent. Delivery is at least once: a worker that dies
between sending and marking leaves a lease that expires, and the message is sent again.

Settings (Flask config keys, or ``CMSKIT_FORMS_<KEY>`` environment variables):
``NOTIFY_EMAIL_TO`` (comma-separated), ``NOTIFY_EMAIL_FROM``, ``NOTIFY_SMTP_HOST``,
``NOTIFY_SMTP_PORT``, ``NOTIFY_SMTP_USER``, ``NOTIFY_SMTP_PASSWORD``, ``NOTIFY_SMTP_STARTTLS``,
``NOTIFY_WEBHOOK_URL``, ``NOTIFY_WEBHOOK_SECRET`` (HMAC-SHA256 signature header),
``NOTIFY_REVIEW_URL`` (absolute URL of /forms/review/ for links), ``NOTIFY_TIMEOUT``.
forms_app.config checks them when the app starts (`NotifySettings`, kept as
``app.config["NOTIFY_SETTINGS"]``): a setting that would silently turn a channel off or make
every try fail stops the start and is named.

`deliver_due` never stops on one message: whatever sending it raises (a refused connection,
an SMTP error, a malformed HTTP answer, a bad payload) is recorded on its row, the row is
retried with backoff, and the batch goes on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import smtplib
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, select

from forms_app.config import NotifySettings
from forms_app.labels import FORM_LABELS
from forms_app.storage.db import read_tx, write_tx
from forms_app.storage.schema import outbox
from forms_app.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)

BACKOFF_BASE = 30  # seconds before the first retry
BACKOFF_CAP = 6 * 3600  # never wait longer than this between tries
LEASE = 300  # seconds a worker owns a row while sending it
BATCH = 50


def _one_line(value: Any, limit: int = 120) -> str:
    text = " ".join(str(value or "").split())
    return text[:limit]


def _created_iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return as_utc(value).isoformat()  # type: ignore[union-attr]
    return str(value or "")


def build_messages(
    request: Mapping[str, Any], settings: NotifySettings
) -> list[tuple[str, dict[str, Any]]]:
    """(channel, payload) pairs for a new request; only what reviewers need, no e-mail."""
    receipt = _one_line(request.get("receipt"), 32)
    form = str(request.get("form") or "")
    title = _one_line(request.get("title"))
    link = ""
    if settings.review_url and request.get("id") is not None:
        link = f"{settings.review_url.rstrip('/')}/requests/{request['id']}"
    messages: list[tuple[str, dict[str, Any]]] = []
    if settings.email_enabled:
        lines = [
            "新しいリクエストを受け付けました。",
            "",
            f"受付番号: {receipt}",
            f"フォーム: {FORM_LABELS.get(form, form)}",
            f"製品: {request.get('product') or '-'}",
            f"件名: {title}",
        ]
        if link:
            lines += ["", f"確認: {link}"]
        messages.append(
            (
                "email",
                {
                    "to": list(settings.email_to),
                    "subject": f"[CMSKIT] 新しいリクエスト {receipt}",
                    "text": "\n".join(lines) + "\n",
                },
            )
        )
    if settings.webhook_enabled:
        messages.append(
            (
                "webhook",
                {
                    "event": "request.created",
                    "id": request.get("id"),
                    "receipt": receipt,
                    "form": form,
                    "product": request.get("product"),
                    "title": title,
                    "created_at": _created_iso(request.get("created_at")),
                    "url": link,
                },
            )
        )
    return messages


def enqueue_new_request(
    conn: Connection, request: Mapping[str, Any], settings: NotifySettings
) -> int:
    """Queue notifications for a new request, inside the submit transaction.

    `request` holds the inserted row's columns (id, receipt, form, title, product, created_at);
    `settings` were read when the app started (``app.config["NOTIFY_SETTINGS"]``). Does
    nothing when no notification channel is configured. Returns the number queued.
    """
    now = utcnow()
    messages = build_messages(request, settings)
    for channel, payload in messages:
        conn.execute(
            outbox.insert().values(
                channel=channel, payload=payload, attempts=0, next_attempt_at=now, created_at=now,
                request_id=request.get("id"),
            )
        )
    return len(messages)


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try after `attempts` failures: 30 s, 60 s, 120 s ... 6 h."""
    seconds = BACKOFF_BASE * (2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=min(BACKOFF_CAP, seconds))


def send_email(payload: Mapping[str, Any], settings: NotifySettings) -> None:
    if not settings.smtp_host:
        raise RuntimeError("NOTIFY_SMTP_HOST is not set")
    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = ", ".join(payload["to"])
    message["Subject"] = _one_line(payload["subject"], 200)
    message["Message-ID"] = make_msgid(domain="cmskit-forms")
    message.set_content(str(payload["text"]))
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def send_webhook(payload: Mapping[str, Any], settings: NotifySettings) -> None:
    if not settings.webhook_url:
        raise RuntimeError("NOTIFY_WEBHOOK_URL is not set")
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "cmskit-forms"}
    if settings.webhook_secret:
        digest = hmac.new(settings.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Cmskit-Signature"] = f"sha256={digest}"
    req = urllib.request.Request(settings.webhook_url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=settings.timeout) as response:
        if not 200 <= response.status < 300:
            raise RuntimeError(f"webhook answered HTTP {response.status}")


SENDERS = {"email": send_email, "webhook": send_webhook}


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int
    failed: int
    pending: int  # unsent rows left (due later or just failed)


def _lease_due(engine: Engine, now: dt.datetime, limit: int) -> list[Any]:
    """Rows due now, each taken with a conditional UPDATE so two workers never share one."""
    taken = []
    with read_tx(engine) as conn:
        due = conn.execute(
            select(outbox)
            .where(outbox.c.sent_at.is_(None), outbox.c.next_attempt_at <= now)
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
        ).all()
    for row in due:
        with write_tx(engine) as conn:
            result = conn.execute(
                outbox.update()
                .where(
                    outbox.c.id == row.id,
                    outbox.c.sent_at.is_(None),
                    outbox.c.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + dt.timedelta(seconds=LEASE))
            )
        if result.rowcount == 1:
            taken.append(row)
    return taken


def deliver_due(
    engine: Engine,
    settings: NotifySettings,
    *,
    now: dt.datetime | None = None,
    limit: int = BATCH,
) -> DeliveryReport:
    """One pass: send every due message; failures are rescheduled with backoff."""
    now = now or utcnow()
    sent = failed = 0
    for row in _lease_due(engine, now, limit):
        sender = SENDERS.get(row.channel)
        try:
            if sender is None:
                raise RuntimeError(f"unknown channel {row.channel!r}")
            sender(row.payload, settings)
        except Exception as err:  # any error of one row is that row's failure, never the batch's
            failed += 1
            attempts = row.attempts + 1
            log.warning("notification %s (%s) failed, try %d: %s", row.id, row.channel,
                        attempts, err)
            with write_tx(engine) as conn:
                conn.execute(
                    outbox.update()
                    .where(outbox.c.id == row.id)
                    .values(
                        attempts=attempts,
                        next_attempt_at=now + backoff(attempts),
                        last_error=f"{type(err).__name__}: {err}"[:1000],
                    )
                )
            continue
        sent += 1
        with write_tx(engine) as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == row.id)
                .values(sent_at=utcnow(), attempts=row.attempts + 1, last_error=None)
            )
    with read_tx(engine) as conn:
        pending = conn.execute(
            select(func.count()).select_from(outbox).where(and_(outbox.c.sent_at.is_(None)))
        ).scalar_one()
    return DeliveryReport(sent, failed, pending)


def outbox_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every outbox row, oldest first (for status output and tests)."""
    with read_tx(engine) as conn:
        rows = conn.execute(select(outbox).order_by(outbox.c.id)).all()
    return [dict(r._mapping) for r in rows]
