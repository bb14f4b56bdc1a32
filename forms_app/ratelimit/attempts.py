"""Wrong support IDs: the one interface the submit path asks (`FailedAttempts.check`).

Each wrong ID is counted per client and per ID with the fixed-window counter of
forms_app.ratelimit.counters (increment, then compare), in Redis when
``RATELIMIT_STORAGE_URI`` is ``redis://...``, otherwise in the queue database's
``rate_counters`` table, inside the submit's own write transaction. Parallel wrong guesses
therefore get at most the limit of "wrong ID" answers; the rest are told to wait. When Redis
is down the check raises `AttemptsUnavailable`: the view answers 503 with the form kept
rather than let guesses through uncounted.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Connection

from forms_app.ratelimit.clients import client_scope
from forms_app.ratelimit.counters import Counter, CounterUnavailable

T = TypeVar("T")


class AttemptsUnavailable(RuntimeError):
    """The failed-attempt storage (Redis) cannot be reached: nothing may be checked now."""


class Refusal(enum.Enum):
    """Why `FailedAttempts.check` found nothing to accept."""

    WRONG = "wrong"  # unknown, expired or revoked ID; counted, attempts are left
    BLOCKED = "blocked"  # the client or the ID has no attempt left


def client_key(pepper: str, address: str | None) -> str:
    """A keyed hash of the client's scope (the raw address is not kept with attempts)."""
    scope = client_scope(address)
    return hmac.new(pepper.encode(), f"client:{scope}".encode(), hashlib.sha256).hexdigest()


class FailedAttempts:
    """Wrong support IDs per client and per ID, on the app's `Counter`."""

    def __init__(
        self, counter: Counter, *, per_client: int, per_id: int, window: int, in_queue: bool
    ) -> None:
        self.counter = counter
        # True: the counts live in the queue database and are kept in the submit's transaction.
        self.in_queue = in_queue
        self._limits = (per_client, per_id)
        self._window = window

    def check(
        self, conn: Connection, *, client: str, id_key: str, lookup: Callable[[], T | None]
    ) -> T | Refusal:
        """Refuse a client or ID with no attempt left; else look the ID up; count a miss.

        `conn` is the submit's write transaction (used for counts in the queue database),
        `lookup` finds the valid ID (None when it is unknown, expired or revoked). Returns
        what `lookup` found, `Refusal.WRONG` for a miss counted within the limits, or
        `Refusal.BLOCKED`. Raises AttemptsUnavailable when the counts cannot be reached.
        """
        keys = (f"failed-client:{client}", f"failed-id:{id_key}")  # client first: lock order
        in_queue = conn if self.in_queue else None
        with self._reachable():
            counts = [self.counter.get(key, conn=in_queue) for key in keys]
            if counts[0] >= self._limits[0] or counts[1] >= self._limits[1]:
                return Refusal.BLOCKED
            found = lookup()
            if found is not None:
                return found
            counts = [self.counter.incr(key, self._window, conn=in_queue) for key in keys]
        if counts[0] <= self._limits[0] and counts[1] <= self._limits[1]:
            return Refusal.WRONG
        return Refusal.BLOCKED

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except CounterUnavailable as exc:
            raise AttemptsUnavailable(str(exc)) from exc
