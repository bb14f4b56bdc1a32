"""Which database errors mean "busy, restarting or unreachable": the caller may try again.

Views turn them into a Japanese 503 (the form kept); the command line into a message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

# Errors that mean "the database is busy, restarting or unreachable": ask to retry.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)


class QueueUnavailable(RuntimeError):
    """The queue database cannot take the request now; nothing was stored."""


# Every error the sidecar answers with "unavailable, try again later".
DATABASE_DOWN: tuple[type[Exception], ...] = (*UNAVAILABLE_ERRORS, QueueUnavailable)


def first_line(error: BaseException) -> str:
    """The first line of an error's message (its type name when it has none), for logs."""
    text = str(error)
    return text.splitlines()[0] if text else type(error).__name__


@contextmanager
def unavailable_as_error() -> Iterator[None]:
    """Turn connection-level database errors into `QueueUnavailable`."""
    try:
        yield
    except UNAVAILABLE_ERRORS as exc:
        raise QueueUnavailable(first_line(exc)) from exc
