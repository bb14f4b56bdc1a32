"""The votes table: cast or change a browser's vote, counts, rankings, export, retention.

One row per (question, voter): a second vote from the same browser replaces the first
(``INSERT ... ON CONFLICT DO UPDATE``, the same statement on SQLite and PostgreSQL), so a
change of mind never counts twice. Rows whose voter was blanked by retention still count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from forms_app.storage.db import is_sqlite, read_tx, write_tx
from forms_app.storage.schema import votes
from forms_app.timeutil import utcnow


@dataclass(frozen=True, slots=True)
class Tally:
    """The votes of one question."""

    question_id: str
    yes: int
    no: int

    @property
    def total(self) -> int:
        return self.yes + self.no

    @property
    def helpful_ratio(self) -> float:
        return self.yes / self.total if self.total else 0.0


def cast(engine: Engine, question_id: str, voter: str, helpful: bool) -> None:
    """Record `voter`'s vote on `question_id`, replacing an earlier one."""
    now = utcnow()
    insert = (sqlite.insert if is_sqlite(engine) else postgresql.insert)(votes)
    statement = insert.values(
        question_id=question_id, voter=voter, helpful=helpful, created_at=now, updated_at=now
    ).on_conflict_do_update(
        index_elements=[votes.c.question_id, votes.c.voter],
        set_={"helpful": helpful, "updated_at": now},
    )
    with write_tx(engine) as conn:
        conn.execute(statement)


def vote_of(engine: Engine, question_id: str, voter: str) -> bool | None:
    """`voter`'s vote on `question_id` (True: はい, False: いいえ), or None."""
    with read_tx(engine) as conn:
        found = conn.execute(
            select(votes.c.helpful).where(
                votes.c.question_id == question_id, votes.c.voter == voter
            )
        ).scalar()
    return None if found is None else bool(found)


def tallies(engine: Engine) -> list[Tally]:
    """Counts of every question with at least one vote (by question id)."""
    yes = func.sum(case((votes.c.helpful.is_(True), 1), else_=0))
    with read_tx(engine) as conn:
        rows = conn.execute(
            select(votes.c.question_id, yes, func.count())
            .group_by(votes.c.question_id)
            .order_by(votes.c.question_id)
        ).all()
    return [Tally(qid, int(y or 0), int(n) - int(y or 0)) for qid, y, n in rows]


def most_helpful(found: list[Tally], *, min_yes: int, limit: int = 5) -> list[Tally]:
    """Questions with at least `min_yes` はい: most はい first, then fewer いいえ, then id."""
    chosen = [t for t in found if t.yes >= min_yes]
    return sorted(chosen, key=lambda t: (-t.yes, t.no, t.question_id))[:limit]


def least_helpful(found: list[Tally], *, limit: int | None = None) -> list[Tally]:
    """Questions with at least one いいえ: most いいえ first, then the lowest share of はい.

    Counting いいえ first puts an answer many found unhelpful above one that a single
    visitor disliked (a share alone ranks 0 of 1 above 5 of 20)."""
    chosen = [t for t in found if t.no]
    ranked = sorted(chosen, key=lambda t: (-t.no, t.helpful_ratio, t.question_id))
    return ranked if limit is None else ranked[:limit]


def export_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every vote, oldest first, without its voter (question, はい or いいえ, dates)."""
    with read_tx(engine) as conn:
        rows = conn.execute(
            select(
                votes.c.id, votes.c.question_id, votes.c.helpful, votes.c.created_at,
                votes.c.updated_at,
            ).order_by(votes.c.id)
        ).all()
    return [
        {
            "id": r.id, "question_id": r.question_id, "vote": "yes" if r.helpful else "no",
            "created_at": r.created_at, "updated_at": r.updated_at,
        }
        for r in rows
    ]

