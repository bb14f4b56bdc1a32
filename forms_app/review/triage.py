"""Triage of the request queue: the status machine, claims, history and listing.

Every change is one write transaction that updates `requests` with a conditional UPDATE
(checking the row count, the same SQL on SQLite and PostgreSQL) and appends a row to the
append-only `request_history` with who, when and an internal comment.

Statuses: received -> in_review -> accepted / declined / duplicate (of another request)
-> published (docs requests carry the id of the FAQ question they became). Declined,
duplicate and accepted requests can be reopened (back to in_review); published is final.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from cmskb.content.fields import ID_MAX, ID_RE
from sqlalchemy import Connection, Engine, and_, func, or_, select

from forms_app import inputs
from forms_app.labels import FORM_LABELS, STATUS_LABELS
from forms_app.public.receipts import parse_receipt
from forms_app.storage.db import read_tx, write_tx
from forms_app.storage.schema import request_history, requests
from forms_app.timeutil import DEFAULT_TIMEZONE, as_utc, utcnow

# The queue's status codes, in workflow order (the keys of the Japanese label table).
STATUSES: tuple[str, ...] = tuple(STATUS_LABELS)
# Allowed transitions; anything else (including "to itself") is forbidden.
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"in_review"}),
    "in_review": frozenset({"accepted", "declined", "duplicate"}),
    "accepted": frozenset({"published", "in_review"}),
    "declined": frozenset({"in_review"}),
    "duplicate": frozenset({"in_review"}),
    "published": frozenset(),
}
CLOSED_STATUSES: frozenset[str] = frozenset({"declined", "duplicate", "published"})

# A published FAQ must name an entry id the content layer accepts (one rule, one place).
FAQ_ID_RE = ID_RE
ACTOR_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MAX_COMMENT = 2000
MAX_PER_PAGE = 200


class TriageError(Exception):
    """A triage action that cannot be done; `str(err)` is a Japanese message for staff."""


class RequestNotFound(TriageError):
    pass


class ForbiddenTransition(TriageError):
    pass


class ClaimConflict(TriageError):
    """Someone else holds the claim (or the claim changed under us)."""

    def __init__(self, message: str, claimed_by: str | None = None) -> None:
        super().__init__(message)
        self.claimed_by = claimed_by

    @classmethod
    def held_by(cls, holder: str | None) -> ClaimConflict:
        """The request is claimed by `holder`, not by the one asking."""
        return cls(f"このリクエストは {holder} さんが担当しています。", holder)


class InvalidInput(TriageError):
    pass


def check_actor(actor: str) -> str:
    if not isinstance(actor, str) or not ACTOR_RE.fullmatch(actor):
        raise InvalidInput(f"操作者名が不正です: {actor!r}")
    return actor


def check_comment(comment: str | None) -> str:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"コメントは{MAX_COMMENT}文字以内で入力してください。")
    message = inputs.problem(comment, multiline=True)
    if message is not None:
        raise InvalidInput(f"コメント: {message}")
    return comment


def is_allowed(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def record(
    conn: Connection,
    *,
    request_id: int,
    actor: str,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    comment: str = "",
    at: dt.datetime | None = None,
) -> None:
    """Append one fact to the request's history (inside the caller's transaction)."""
    conn.execute(
        request_history.insert().values(
            request_id=request_id,
            at=at or utcnow(),
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=to_status,
            comment=comment,
        )
    )


def _row_dict(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    for key in ("created_at", "updated_at", "claimed_at", "at"):
        if key in data:
            data[key] = as_utc(data[key])
    return data


def _resolve_id(conn: Connection, ref: int | str) -> int | None:
    """A request id from an id or a receipt number (case and spaces ignored)."""
    found: int | None
    if isinstance(ref, int):
        found = conn.execute(select(requests.c.id).where(requests.c.id == ref)).scalar()
        return found
    text = str(ref).strip()
    if not inputs.is_clean(text) or len(text) > 100:
        return None  # no id or receipt looks like that (and PostgreSQL refuses NUL)
    if text.isdigit() and len(text) < 12:
        found = conn.execute(select(requests.c.id).where(requests.c.id == int(text))).scalar()
        if found is not None:
            return int(found)
    receipt = parse_receipt(text) or text.upper()
    by_receipt: int | None = conn.execute(
        select(requests.c.id).where(requests.c.receipt == receipt)
    ).scalar()
    return by_receipt


def get_request(engine: Engine, ref: int | str) -> dict[str, Any]:
    """One request by id or receipt number; RequestNotFound when there is none."""
    with read_tx(engine) as conn:
        # An int is an id: `_load` looks it up (and says when it is missing) in one SELECT.
        request_id = ref if isinstance(ref, int) else _resolve_id(conn, ref)
        if request_id is None:
            raise RequestNotFound(f"リクエストが見つかりません: {ref}")
        row = _load(conn, request_id)
    return _row_dict(row)


def get_history(engine: Engine, request_id: int) -> list[dict[str, Any]]:
    """The request's history, oldest first."""
    with read_tx(engine) as conn:
        rows = conn.execute(
            select(request_history)
            .where(request_history.c.request_id == request_id)
            .order_by(request_history.c.at, request_history.c.id)
        ).all()
    return [_row_dict(r) for r in rows]


def _load(conn: Connection, request_id: int) -> Any:
    row = conn.execute(select(requests).where(requests.c.id == request_id)).first()
    if row is None:
        raise RequestNotFound(f"リクエストが見つかりません: {request_id}")
    return row


def claim(engine: Engine, request_id: int, *, actor: str) -> None:
    """Claim a request for `actor`; ClaimConflict if someone already holds it.

    One conditional UPDATE (``WHERE claimed_by IS NULL``): of two reviewers racing, exactly
    one sees a row count of 1.
    """
    check_actor(actor)
    now = utcnow()
    with write_tx(engine) as conn:
        row = _load(conn, request_id)
        result = conn.execute(
            requests.update()
            .where(requests.c.id == request_id, requests.c.claimed_by.is_(None))
            .values(claimed_by=actor, claimed_at=now, updated_at=now)
        )
        if result.rowcount != 1:
            holder = conn.execute(
                select(requests.c.claimed_by).where(requests.c.id == request_id)
            ).scalar()
            raise ClaimConflict.held_by(holder)
        record(
            conn, request_id=request_id, actor=actor, action="claim",
            from_status=row.status, to_status=row.status, at=now,
        )


def release(engine: Engine, request_id: int, *, actor: str, force: bool = False) -> None:
    """Release `actor`'s claim (any claim with `force`)."""
    check_actor(actor)
    now = utcnow()
    with write_tx(engine) as conn:
        row = _load(conn, request_id)
        if row.claimed_by is None:
            raise ClaimConflict("このリクエストは誰も担当していません。")
        if row.claimed_by != actor and not force:
            raise ClaimConflict.held_by(row.claimed_by)
        result = conn.execute(
            requests.update()
            .where(requests.c.id == request_id, requests.c.claimed_by == row.claimed_by)
            .values(claimed_by=None, claimed_at=None, updated_at=now)
        )
        if result.rowcount != 1:
            raise ClaimConflict("担当者が同時に変更されました。もう一度お試しください。")
        comment = "" if row.claimed_by == actor else f"{row.claimed_by} さんの担当を解除"
        record(
            conn, request_id=request_id, actor=actor, action="release",
            from_status=row.status, to_status=row.status, comment=comment, at=now,
        )


def set_status(
    engine: Engine,
    request_id: int,
    new_status: str,
    *,
    actor: str,
    comment: str = "",
    duplicate_of: int | str | None = None,
    faq_id: str | None = None,
) -> dict[str, Any]:
    """Move a request to `new_status`, checking the transition, the claim and the extras.

    `duplicate` needs `duplicate_of` (another request); `published` for a docs request needs
    `faq_id`. Unclaimed requests can be changed by any reviewer; a request claimed by someone
    else cannot. Returns the updated row.
    """
    check_actor(actor)
    comment = check_comment(comment)
    if new_status not in STATUSES:
        raise InvalidInput(f"不明なステータスです: {new_status}")
    now = utcnow()
    with write_tx(engine) as conn:
        row = _load(conn, request_id)
        if not is_allowed(row.status, new_status):
            raise ForbiddenTransition(
                f"「{STATUS_LABELS[row.status]}」から「{STATUS_LABELS[new_status]}」には"
                "変更できません。"
            )
        if row.claimed_by is not None and row.claimed_by != actor:
            raise ClaimConflict.held_by(row.claimed_by)
        values: dict[str, Any] = {"status": new_status, "updated_at": now}
        if new_status == "duplicate":
            values["duplicate_of"] = _check_duplicate_target(conn, request_id, duplicate_of)
            comment = comment or f"重複先: {values['duplicate_of']}"
        elif duplicate_of is not None:
            raise InvalidInput("重複先は「重複」にするときだけ指定できます。")
        elif row.status == "duplicate":
            values["duplicate_of"] = None
        if new_status == "published":
            values["published_faq_id"] = _check_faq_id(row.form, faq_id)
        elif faq_id is not None:
            raise InvalidInput("FAQ IDは「公開済み」にするときだけ指定できます。")
        result = conn.execute(
            requests.update()
            .where(
                requests.c.id == request_id,
                requests.c.status == row.status,
                or_(requests.c.claimed_by.is_(None), requests.c.claimed_by == actor),
            )
            .values(**values)
        )
        if result.rowcount != 1:
            raise ClaimConflict("リクエストが同時に変更されました。もう一度お試しください。")
        record(
            conn, request_id=request_id, actor=actor, action="status",
            from_status=row.status, to_status=new_status, comment=comment, at=now,
        )
        updated = _load(conn, request_id)
    return _row_dict(updated)


def _check_duplicate_target(conn: Connection, request_id: int, ref: int | str | None) -> int:
    if ref is None or str(ref).strip() == "":
        raise InvalidInput("重複先のリクエスト(IDまたは受付番号)を指定してください。")
    target = _resolve_id(conn, ref)
    if target is None:
        raise InvalidInput(f"重複先のリクエストが見つかりません: {ref}")
    if target == request_id:
        raise InvalidInput("自分自身を重複先にはできません。")
    # Follow the target's own duplicate chain: no cycles.
    seen = {request_id}
    current: int | None = target
    while current is not None:
        if current in seen:
            raise InvalidInput("重複先が循環しています。")
        seen.add(current)
        current = conn.execute(
            select(requests.c.duplicate_of).where(requests.c.id == current)
        ).scalar()
    return target


def _check_faq_id(form: str, faq_id: str | None) -> str | None:
    faq_id = (faq_id or "").strip() or None
    if faq_id is None:
        if form == "docs":
            raise InvalidInput("Q&A・マニュアルのリクエストを公開済みにするにはFAQ IDが必要です。")
        return None
    if len(faq_id) > ID_MAX or not FAQ_ID_RE.fullmatch(faq_id):
        raise InvalidInput(
            f"FAQ IDは英小文字・数字・ハイフンで{ID_MAX}文字以内です(例: install-requirements)。"
        )
    return faq_id


def mark_duplicate(
    engine: Engine, request_id: int, *, of: int | str, actor: str, comment: str = ""
) -> dict[str, Any]:
    return set_status(
        engine, request_id, "duplicate", actor=actor, comment=comment, duplicate_of=of
    )


def publish(
    engine: Engine, request_id: int, *, faq_id: str | None, actor: str, comment: str = ""
) -> dict[str, Any]:
    return set_status(engine, request_id, "published", actor=actor, comment=comment, faq_id=faq_id)


@dataclass(frozen=True, slots=True)
class ListFilter:
    """What the list shows. Dates are calendar days in `tz` (pass the ``TIMEZONE`` setting's)."""

    statuses: Sequence[str] = ()
    form: str | None = None
    product: str | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None  # inclusive
    claimed_by: str | None = None  # a username, or "-" for unclaimed
    q: str | None = None
    order: str = "newest"  # newest | oldest
    page: int = 1
    per_page: int = 50
    tz: dt.tzinfo = field(default=ZoneInfo(DEFAULT_TIMEZONE))

    def validate(self) -> ListFilter:
        for status in self.statuses:
            if status not in STATUSES:
                raise InvalidInput(f"不明なステータスです: {status}")
        if self.form is not None and self.form not in FORM_LABELS:
            raise InvalidInput(f"不明なフォームです: {self.form}")
        if self.order not in ("newest", "oldest"):
            raise InvalidInput("並び順は newest か oldest です。")
        if self.page < 1:
            raise InvalidInput("ページは1以上です。")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidInput(f"1ページの件数は1〜{MAX_PER_PAGE}です。")
        if self.created_from and self.created_to and self.created_from > self.created_to:
            raise InvalidInput("期間の開始日が終了日より後になっています。")
        if self.q is not None and len(self.q) > 200:
            raise InvalidInput("検索語は200文字以内で入力してください。")
        texts = (("検索語", self.q), ("製品", self.product), ("担当者", self.claimed_by))
        for label, value in texts:
            message = inputs.problem(value or "")
            if message is not None:
                raise InvalidInput(f"{label}: {message}")
        return self


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _day_start(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)


def _conditions(flt: ListFilter) -> list[Any]:
    cond: list[Any] = []
    if flt.statuses:
        cond.append(requests.c.status.in_(list(flt.statuses)))
    if flt.form:
        cond.append(requests.c.form == flt.form)
    if flt.product:
        cond.append(requests.c.product == flt.product)
    if flt.created_from:
        cond.append(requests.c.created_at >= _day_start(flt.created_from, flt.tz))
    if flt.created_to:
        end = _day_start(flt.created_to + dt.timedelta(days=1), flt.tz)
        cond.append(requests.c.created_at < end)
    if flt.claimed_by == "-":
        cond.append(requests.c.claimed_by.is_(None))
    elif flt.claimed_by:
        cond.append(requests.c.claimed_by == flt.claimed_by)
    words = (flt.q or "").split()
    for word in words:
        # `contains(autoescape=True)` escapes % and _ in the word: same SQL on both databases.
        needle = word.lower()
        cond.append(
            or_(
                func.lower(requests.c.title).contains(needle, autoescape=True),
                func.lower(requests.c.body).contains(needle, autoescape=True),
            )
        )
    return cond


def list_requests(engine: Engine, flt: ListFilter | None = None) -> Page:
    """One page of requests matching `flt`, with the total count."""
    flt = (flt or ListFilter()).validate()
    cond = _conditions(flt)
    where = and_(*cond) if cond else None
    order = (
        (requests.c.created_at.desc(), requests.c.id.desc())
        if flt.order == "newest"
        else (requests.c.created_at.asc(), requests.c.id.asc())
    )
    query = select(requests).order_by(*order)
    count = select(func.count()).select_from(requests)
    if where is not None:
        query = query.where(where)
        count = count.where(where)
    query = query.limit(flt.per_page).offset((flt.page - 1) * flt.per_page)
    with read_tx(engine) as conn:
        total = conn.execute(count).scalar_one()
        rows = conn.execute(query).all()
    return Page([_row_dict(r) for r in rows], total, flt.page, flt.per_page)


def all_requests(
    engine: Engine, flt: ListFilter | None = None, *, limit: int
) -> list[dict[str, Any]]:
    """Every request matching `flt` (its order and page ignored), oldest first, at most `limit`.

    One query in one read transaction (for exports), not a page at a time.
    """
    flt = (flt or ListFilter()).validate()
    query = (
        select(requests)
        .where(*_conditions(flt))
        .order_by(requests.c.created_at.asc(), requests.c.id.asc())
        .limit(limit)
    )
    with read_tx(engine) as conn:
        rows = conn.execute(query).all()
    return [_row_dict(r) for r in rows]


def public_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as JSON-friendly data (datetimes as ISO 8601 strings)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dt.datetime):
            out[key] = as_utc(value).isoformat()  # type: ignore[union-attr]
        else:
            out[key] = value
    return out
