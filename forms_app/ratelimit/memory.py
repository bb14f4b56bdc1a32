"""``memory://`` for this app: fixed-window counters in process memory, without a timer thread.

limits' own `MemoryStorage` starts a ``threading.Timer`` on every hit when none is alive and
waits for that thread to start, to free expired keys: under load a new thread every 10 ms in
each worker (bench/README.md measured it at a third of a submit's server time). This storage
implements limits' public `Storage` interface (a backend registered by its
``STORAGE_SCHEME``, as limits documents for custom storages) for the fixed-window strategy,
the one the app uses: a counter and its expiry per key under one lock, so an increment and
its result are one step; expired keys are dropped when read and swept inline at most once
per `SWEEP_INTERVAL`.
"""

from __future__ import annotations

import threading
import time

from limits.storage import Storage

SCHEME = "cmskit-memory"


class ProcessMemoryStorage(Storage):
    """Fixed-window counters of one process (``cmskit-memory://``)."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 (read by limits' storage registry)
    SWEEP_INTERVAL = 10.0

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._counts: dict[str, tuple[int, float]] = {}  # key: (value, expires at, time.time)
        self._lock = threading.Lock()
        self._next_sweep = time.monotonic() + self.SWEEP_INTERVAL

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` (the window starts with the first increment) and return the value."""
        now = time.time()
        with self._lock:
            value, expires = self._counts.get(key, (0, 0.0))
            if expires <= now:
                value, expires = 0, now + expiry
            value = max(value + amount, 0)
            self._counts[key] = (value, expires)
        self._maybe_sweep()
        return value

    def get(self, key: str) -> int:
        with self._lock:
            value, expires = self._counts.get(key, (0, 0.0))
        return value if expires > time.time() else 0

    def get_expiry(self, key: str) -> float:
        with self._lock:
            _value, expires = self._counts.get(key, (0, 0.0))
        return expires if expires > time.time() else time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            count = len(self._counts)
            self._counts.clear()
        return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def sweep(self) -> int:
        """Forget expired counters; returns how many are left."""
        now = time.time()
        with self._lock:
            for key in [k for k, (_v, expires) in self._counts.items() if expires <= now]:
                del self._counts[key]
            return len(self._counts)

    def _maybe_sweep(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_INTERVAL
            self.sweep()
