"""Storage: the queue database every other part of the sidecar writes to.

- `db`: one engine per process and URL (SQLite or PostgreSQL), write and read transactions
  (`write_tx`, `read_tx`), the engine of the running app (`app_engine`);
- `errors`: which database errors mean "unavailable, try again" (`QueueUnavailable`);
- `schema`: the tables (SQLAlchemy Core); `migrations`: create and upgrade them.
"""
