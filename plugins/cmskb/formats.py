"""How dates and numbers read on every page: the site's and the forms sidecar's.

One formatter each, so a date on a question page and on the forms' status page look alike
(``2026年12月7日``, no zero padding) and a count or a price groups its digits the same way.
"""

from __future__ import annotations

import datetime as dt


def date_ja(day: dt.date) -> str:
    """A date as ``2026年12月7日`` (a datetime gives its own calendar day)."""
    return f"{day.year}年{day.month}月{day.day}日"


def number_ja(value: int) -> str:
    """A whole number with its digits grouped by three: ``12,800``."""
    return f"{value:,}"
