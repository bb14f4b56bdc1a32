"""Reviewer notifications through the outbox table (filled in by the review-side work)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection


def enqueue_new_request(conn: Connection, request: Mapping[str, Any]) -> None:
    """Queue notifications for a new request, inside the submit transaction.

    `request` holds the inserted row's columns (id, receipt, form, title, product, created_at).
    Does nothing when no notification channel is configured.
    """
