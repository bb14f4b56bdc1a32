"""What the app takes from its libraries beyond their everyday API, checked loudly.

One piece is left that builds on a library's extension interface rather than calling it:
forms_app.ratelimit.memory, the ``memory://`` storage (limits' `Storage` interface,
registered by its scheme; it spares a thread start per hit, see bench/README.md). When a
new limits major changes that interface, these tests fail before a worker does; the pins
in pyproject.toml (limits, Flask-Limiter, WTForms: same major) keep such a release out.
"""

from __future__ import annotations

from importlib.metadata import version

from limits import parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from forms_app.ratelimit.memory import SCHEME, ProcessMemoryStorage


def test_the_pinned_majors_are_the_ones_installed() -> None:
    majors = {name: version(name).split(".")[0] for name in ("limits", "Flask-Limiter", "WTForms")}
    assert majors == {"limits": "5", "Flask-Limiter": "4", "WTForms": "3"}


def test_the_memory_storage_implements_every_abstract_method_of_limits_storage() -> None:
    missing = {
        name for name in Storage.__abstractmethods__
        if getattr(ProcessMemoryStorage, name) is getattr(Storage, name)
    }
    assert not missing
    assert not ProcessMemoryStorage.__abstractmethods__


def test_limits_finds_the_memory_storage_by_its_scheme() -> None:
    assert isinstance(storage_from_string(f"{SCHEME}://"), ProcessMemoryStorage)


def test_the_fixed_window_strategy_works_on_it() -> None:
    """Every call Flask-Limiter's fixed-window limits make: hit, test, stats, clear."""
    storage = ProcessMemoryStorage()
    limiter = FixedWindowRateLimiter(storage)
    item = parse("2 per minute")
    assert limiter.hit(item, "k") and limiter.hit(item, "k") and not limiter.hit(item, "k")
    assert not limiter.test(item, "k")
    stats = limiter.get_window_stats(item, "k")
    assert stats.remaining == 0 and stats.reset_time > 0
    limiter.clear(item, "k")
    assert limiter.test(item, "k")
    assert storage.check() and storage.reset() is not None
