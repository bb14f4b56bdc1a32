"""Time helpers: aware UTC timestamps and the site's local time zone (``TIMEZONE``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from cmskb.formats import date_ja

DEFAULT_TIMEZONE = "Asia/Tokyo"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """Aware UTC datetime (SQLite hands back naive values that were stored as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def local_zone(config: Mapping[str, Any] | None = None) -> ZoneInfo:
    """The zone of the ``TIMEZONE`` setting (the running app's when no config is given)."""
    if config is None:
        from flask import current_app, has_app_context

        config = current_app.config if has_app_context() else {}
    return ZoneInfo(str(config.get("TIMEZONE") or DEFAULT_TIMEZONE))


def local_text(value: dt.datetime | None, zone: dt.tzinfo | None = None) -> str:
    """``YYYY-MM-DD HH:MM`` in the local zone, or "" for None."""
    if value is None:
        return ""
    aware = as_utc(value)
    assert aware is not None
    return aware.astimezone(zone or local_zone()).strftime("%Y-%m-%d %H:%M")


def local_date_text(value: dt.datetime | None, zone: dt.tzinfo | None = None) -> str:
    """The local calendar day of `value` as the site writes dates (2026年12月7日), or ""."""
    aware = as_utc(value)
    if aware is None:
        return ""
    return date_ja(aware.astimezone(zone or local_zone()).date())


def local_today(zone: dt.tzinfo | None = None) -> dt.date:
    return dt.datetime.now(zone or local_zone()).date()
