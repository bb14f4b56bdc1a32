"""The one counter behind every limit (forms_app.ratelimit.counters), on each of its stores:
parallel increments each get a value of their own (no two callers see the same count, none
is lost), and a window that has passed starts again at the first increment."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from limits.storage import storage_from_string
from review_helpers import migrated_engine
from services import postgres_schema, redis_url

from forms_app.ratelimit.counters import Counter, SqlCounter, StorageCounter
from forms_app.ratelimit.memory import ProcessMemoryStorage

THREADS, EACH = 16, 40


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.service),
        pytest.param("redis", marks=pytest.mark.service),
    ]
)
def counter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Counter]:
    if request.param == "memory":
        yield StorageCounter(ProcessMemoryStorage())
    elif request.param == "sqlite":
        engine = migrated_engine(f"sqlite:///{tmp_path / 'queue.sqlite3'}")
        yield SqlCounter(lambda: engine)
    elif request.param == "postgresql":
        with postgres_schema() as url:
            engine = migrated_engine(url)
            yield SqlCounter(lambda: engine)
    else:
        storage = storage_from_string(redis_url(), wrap_exceptions=True)
        yield StorageCounter(storage, prefix=f"counter-test-{uuid.uuid4().hex[:10]}:")


def test_parallel_increments_each_get_their_own_value(counter: Counter) -> None:
    seen: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def work() -> None:
        barrier.wait()
        for _ in range(EACH):
            value = counter.incr("parallel", 60)
            with lock:
                seen.append(value)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(seen) == list(range(1, THREADS * EACH + 1))
    assert counter.get("parallel") == THREADS * EACH


def test_a_window_starts_at_the_first_increment_and_ends(counter: Counter) -> None:
    assert counter.get("window") == 0
    assert [counter.incr("window", 1) for _ in range(3)] == [1, 2, 3]
    assert counter.incr("window", 1, -1) == 2  # what a successful login gives back
    assert counter.get("other") == 0
    time.sleep(1.2)
    assert counter.get("window") == 0
    assert counter.incr("window", 1) == 1
