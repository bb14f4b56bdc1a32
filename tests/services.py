"""The local PostgreSQL and Redis that tests use, each behind `require_service`.

Registered as a pytest plugin in conftest.py, so `pg_url` is a fixture everywhere;
`postgres_schema()` and `redis_url()` are imported by the tests that call them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from conftest import require_service
from sqlalchemy import create_engine, text

from forms_app.storage.db import dispose_all

POSTGRES_USERS = ("postgres", "root")
REDIS_URL = "redis://127.0.0.1:6379/0"


def _reachable_postgres_url() -> str | None:
    for user in POSTGRES_USERS:
        url = f"postgresql+psycopg://{user}@127.0.0.1:5432/test"
        probe = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with probe.connect() as conn:
                conn.execute(text("SELECT 1"))
            return url
        except Exception:
            continue
        finally:
            probe.dispose()
    return None


def postgres_url() -> str:
    """URL of the local PostgreSQL `test` database (user postgres or root)."""
    url = _reachable_postgres_url()
    require_service("PostgreSQL", url is not None, "127.0.0.1:5432 db test")
    assert url is not None
    return url


@contextmanager
def postgres_schema() -> Iterator[str]:
    """URL of a fresh schema in the local PostgreSQL `test` database, dropped afterwards."""
    base = postgres_url()
    schema = f"kbtest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        dispose_all()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema in the local PostgreSQL `test` database, dropped afterwards."""
    with postgres_schema() as url:
        yield url


def redis_url() -> str:
    """URL of the local Redis (database 0)."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        available = bool(client.ping())
    except redis.RedisError:
        available = False
    finally:
        client.close()
    require_service("Redis", available, "127.0.0.1:6379")
    return REDIS_URL
