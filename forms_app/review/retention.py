"""Retention: purge personal data of old finished requests, forget a requester's e-mail.

Requests are not deleted: the history refers to them. Purging blanks every value a customer
typed or that identifies them (title, body, fields, contact e-mail, client address,
support-ID hash) and leaves the facts: form, product, status, dates, who triaged it.

The history keeps its facts (action, statuses, time, actor) for ever; its free-text
``comment`` is where personal data can hide (a reviewer noting a name or an address), so:

* a purge replaces every non-empty comment of a purged request with `PURGED_COMMENT`
  (except the fixed texts retention itself recorded);
* forget-email replaces the address wherever it appears in any comment with `ERASED`.

Notifications repeat titles: a purge deletes every outbox row of a purged request (sent or
not: telling reviewers about a request closed long ago helps nobody) and sent rows older
than the cutoff; forget-email redacts the address inside the payloads that hold it.

Which requests a purge takes: the closed ones (declined, duplicate, published) and accepted
ones, all last changed more than N days ago. Accepted is not final (it waits to be
published), but a request accepted and then left alone for the whole retention period has
had its chance; keeping its personal data for ever would be worse. Requests still waiting
for triage (received, in review) are never purged: nobody has read them yet.

Votes ("役に立ちましたか?", forms_app.votes) hold no text and no address, only which browser
voted (a keyed hash of its cookie's random id). A purge blanks that link on votes last
changed more than N days ago: the vote keeps counting in every total and ranking, and the
browser can no longer see or change it (a new vote from it counts as a new one). Votes are
never deleted by a purge: how helpful an answer was is not personal data.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Select, String, cast, func, or_, select

from forms_app.review.triage import CLOSED_STATUSES, check_actor, record
from forms_app.storage.db import write_tx
from forms_app.storage.schema import outbox, request_history, requests, votes
from forms_app.timeutil import utcnow

PURGED_TITLE = "(保存期間経過のため削除)"
PURGED_COMMENT = PURGED_TITLE  # the same marker, so readers see one wording
ERASED = "[削除済み]"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
PURGEABLE_STATUSES: frozenset[str] = CLOSED_STATUSES | {"accepted"}
_OWN_RECORDS = ("purge", "forget_email")  # fixed texts without personal data


@dataclass(frozen=True, slots=True)
class PurgeReport:
    requests: int  # requests whose personal data was blanked now
    outbox: int  # notifications deleted
    comments: int  # history comments replaced
    votes: int = 0  # votes whose voter was blanked now


@dataclass(frozen=True, slots=True)
class ForgetReport:
    requests: int  # requests that held the address
    comments: int  # history comments it was removed from
    outbox: int  # notifications it was removed from


def purge_closed(
    engine: Engine, *, older_than_days: int, actor: str = "system", now: dt.datetime | None = None
) -> PurgeReport:
    """Blank personal data of finished requests last changed more than N days ago."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    check_actor(actor)
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=older_than_days)
    due_where = (
        requests.c.status.in_(sorted(PURGEABLE_STATUSES)),
        requests.c.updated_at < cutoff,
    )
    with write_tx(engine) as conn:
        due = conn.execute(
            select(requests.c.id, requests.c.status, requests.c.receipt, requests.c.title).where(
                *due_where
            )
        ).all()
        fresh = [row for row in due if row.title != PURGED_TITLE]
        # Also for requests purged before: comments and notifications added since then go
        # too. One statement each for all due requests, not one per request.
        due_ids = select(requests.c.id).where(*due_where)
        comments = _scrub_comments(conn, due_ids)
        deleted = conn.execute(outbox.delete().where(outbox.c.request_id.in_(due_ids))).rowcount
        if _has_legacy_notifications(conn):
            for row in due:
                deleted += _drop_legacy_notifications(conn, row.receipt)
        for row in fresh:
            conn.execute(
                requests.update()
                .where(requests.c.id == row.id)
                .values(
                    title=PURGED_TITLE,
                    body="",
                    fields={},
                    contact_email=None,
                    client_addr=None,
                    support_id_hash="",
                    idempotency_key=None,  # a keyed hash of what was typed
                )
            )
            record(
                conn, request_id=row.id, actor=actor, action="purge",
                from_status=row.status, to_status=row.status,
                comment=f"{older_than_days}日を超えたため個人データを削除", at=now,
            )
        deleted += conn.execute(
            outbox.delete().where(outbox.c.sent_at.is_not(None), outbox.c.sent_at < cutoff)
        ).rowcount
        voters = conn.execute(
            votes.update()
            .where(votes.c.updated_at < cutoff, votes.c.voter.is_not(None))
            .values(voter=None)
        ).rowcount
    return PurgeReport(len(fresh), deleted, comments, voters)


def _scrub_comments(conn: Connection, request_ids: Select[Any]) -> int:
    """Replace the requests' history comments (not the records retention itself wrote)."""
    return conn.execute(
        request_history.update()
        .where(
            request_history.c.request_id.in_(request_ids),
            request_history.c.action.not_in(_OWN_RECORDS),
            request_history.c.comment != "",
            request_history.c.comment != PURGED_COMMENT,
        )
        .values(comment=PURGED_COMMENT)
    ).rowcount


def _has_legacy_notifications(conn: Connection) -> bool:
    """Whether any outbox row from before schema 3 (no request id) is left."""
    legacy = select(outbox.c.id).where(outbox.c.request_id.is_(None)).limit(1)
    return conn.execute(legacy).first() is not None


def _drop_legacy_notifications(conn: Connection, receipt: str) -> int:
    """Delete outbox rows from before schema 3 (no request id) that name the receipt."""
    return conn.execute(
        outbox.delete().where(
            outbox.c.request_id.is_(None),
            cast(outbox.c.payload, String).contains(receipt, autoescape=True),
        )
    ).rowcount


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


def forget_email(engine: Engine, address: str, *, actor: str = "system") -> ForgetReport:
    """Remove an e-mail address from every request, history comment and notification.

    Each request that held it gets a history row saying so (without the address).
    """
    address = (address or "").strip().casefold()
    if not EMAIL_RE.fullmatch(address) or len(address) > 254:
        raise ValueError("メールアドレスの形式ではありません。")
    check_actor(actor)
    now = utcnow()
    needle = address  # matched lower-cased; JSON text is searched as well
    in_json = json.dumps(needle)[1:-1]
    with write_tx(engine) as conn:
        rows = conn.execute(
            select(requests).where(
                or_(
                    func.lower(requests.c.contact_email) == needle,
                    func.lower(requests.c.title).contains(needle, autoescape=True),
                    func.lower(requests.c.body).contains(needle, autoescape=True),
                    func.lower(cast(requests.c.fields, String)).contains(
                        in_json, autoescape=True
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
        comments = conn.execute(
            select(request_history.c.id, request_history.c.comment).where(
                func.lower(request_history.c.comment).contains(needle, autoescape=True)
            )
        ).all()
        for history_id, comment in comments:
            conn.execute(
                request_history.update()
                .where(request_history.c.id == history_id)
                .values(comment=_erase(comment, address) or ERASED)
            )
        notes = conn.execute(
            select(outbox.c.id, outbox.c.payload).where(
                func.lower(cast(outbox.c.payload, String)).contains(in_json, autoescape=True)
            )
        ).all()
        for outbox_id, payload in notes:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == outbox_id)
                .values(payload=_erase(payload, address))
            )
        for row in rows:
            record(
                conn, request_id=row.id, actor=actor, action="forget_email",
                from_status=row.status, to_status=row.status,
                comment="依頼によりメールアドレスを削除", at=now,
            )
    return ForgetReport(len(rows), len(comments), len(notes))
