""""役に立ちましたか?" for reviewers: the least helpful questions and every question's
counts, as the review web view and ``cmskit-forms review votes`` show them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from forms_app.votes import questions, store

LEAST_HELPFUL = 10  # rows of the least-helpful ranking


def report(
    engine: Engine, content_dir: Path, *, site_url: str = "", least: int = LEAST_HELPFUL
) -> dict[str, Any]:
    """JSON-ready: ``least_helpful`` (ranked, see `store.least_helpful`), ``questions``
    (most votes first) with id, title (None: no longer published), url, yes, no, total,
    helpful_percent; ``votes`` (the total)."""
    found = questions.catalog(content_dir)
    tallies = store.tallies(engine)

    def row(t: store.Tally) -> dict[str, Any]:
        return {
            "id": t.question_id,
            "title": found.title(t.question_id),
            "url": questions.page_path(site_url, t.question_id),
            "yes": t.yes,
            "no": t.no,
            "total": t.total,
            "helpful_percent": round(100 * t.helpful_ratio),
        }

    return {
        "least_helpful": [row(t) for t in store.least_helpful(tallies, limit=least)],
        "questions": [row(t) for t in sorted(tallies, key=lambda t: (-t.total, t.question_id))],
        "votes": sum(t.total for t in tallies),
    }
