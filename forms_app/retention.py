"""Retention: purge personal data of old closed requests, forget a requester's e-mail.

Requests are not deleted: the history (append-only) refers to them. Purging blanks every
value a customer typed or that identifies them (title, body, fields, contact e-mail, client
address, support-ID hash) and leaves the facts: form, product, status, dates, who triaged
it, and the history rows. Each purge adds a history row saying so.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, String, cast, func, or_, select

from forms_app.db import write_tx
from forms_app.schema import outbox, requests
from forms_app.triage import CLOSED_STATUSES, check_actor, record, utcnow

PURGED_TITLE = "(保存期間経過のため削除)"
ERASED = "[削除済み]"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(frozen=True, slots=True)
class PurgeReport:
    requests: int
    outbox: int


def purge_closed(
    engine: Engine, *, older_than_days: int, actor: str = "system", now: dt.datetime | None = None
) -> PurgeReport:
    """Blank personal data of closed requests last changed more than N days ago.

    Also deletes sent notifications older than the cutoff (they repeat request titles).
    """
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    check_actor(actor)
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=older_than_days)
    with write_tx(engine) as conn:
        ids = conn.execute(
            select(requests.c.id, requests.c.status).where(
                requests.c.status.in_(sorted(CLOSED_STATUSES)),
                requests.c.updated_at < cutoff,
                requests.c.title != PURGED_TITLE,
            )
        ).all()
        for request_id, status in ids:
            conn.execute(
                requests.update()
                .where(requests.c.id == request_id)
                .values(
                    title=PURGED_TITLE,
                    body="",
                    fields={},
                    contact_email=None,
                    client_addr=None,
                    support_id_hash="",
                )
            )
            record(
                conn, request_id=request_id, actor=actor, action="purge",
                from_status=status, to_status=status,
                comment=f"{older_than_days}日を超えたため個人データを削除", at=now,
            )
        sent = conn.execute(
            outbox.delete().where(outbox.c.sent_at.is_not(None), outbox.c.sent_at < cutoff)
        ).rowcount
    return PurgeReport(len(ids), sent)


def _erase(value: Any, address: str) -> Any:
    """`value` with every occurrence of `address` (any case) replaced, recursively."""
    if isinstance(value, str):
        if value.strip().casefold() == address:
            return ""
        return re.sub(re.escape(address), ERASED, value, flags=re.IGNORECASE)
    if isinstance(value, dict):
        return {k: _erase(v, address) for k, v in value.items()}
    if isinstance(value, list):
        return [_erase(v, address) for v in value]
    return value


def forget_email(engine: Engine, address: str, *, actor: str = "system") -> int:
    """Remove an e-mail address from every request (contact field and typed text).

    Returns how many requests changed. The history records that it was done, not the address.
    """
    address = (address or "").strip().casefold()
    if not EMAIL_RE.fullmatch(address) or len(address) > 254:
        raise ValueError("メールアドレスの形式ではありません。")
    check_actor(actor)
    now = utcnow()
    needle = address  # matched lower-cased; JSON text is searched as well
    changed = 0
    with write_tx(engine) as conn:
        rows = conn.execute(
            select(requests).where(
                or_(
                    func.lower(requests.c.contact_email) == needle,
                    func.lower(requests.c.title).contains(needle, autoescape=True),
                    func.lower(requests.c.body).contains(needle, autoescape=True),
                    func.lower(cast(requests.c.fields, String)).contains(
                        json.dumps(needle)[1:-1], autoescape=True
                    ),
                )
            )
        ).all()
        for row in rows:
            conn.execute(
                requests.update()
                .where(requests.c.id == row.id)
                .values(
                    contact_email=None
                    if (row.contact_email or "").casefold() == address
                    else row.contact_email,
                    title=_erase(row.title, address),
                    body=_erase(row.body, address),
                    fields=_erase(row.fields, address),
                )
            )
            record(
                conn, request_id=row.id, actor=actor, action="forget_email",
                from_status=row.status, to_status=row.status,
                comment="依頼によりメールアドレスを削除", at=now,
            )
            changed += 1
    return changed
