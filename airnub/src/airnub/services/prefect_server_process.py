"""`prefect server start`, with the SQLite database's write transactions taking their lock up front.

`python -m airnub.services.prefect_server_process --host H --port P` is what `airnub server start` and `make serve` run.
It is Prefect's own command with one change, for a server on SQLite (the project's `.prefect/prefect.db`).

Prefect opens most API transactions DEFERRED: they read first and take the write lock at their first
write. When one of the server's own services (the event and task-run recorders) commits in between,
SQLite cannot upgrade the lock and answers SQLITE_BUSY at once, without waiting for `busy_timeout`.
The API turns that into `503 Service Unavailable`, and the client retries after 2**n seconds: a cached
pipeline run took 2.2 s longer about one time in three (PrefectHQ/prefect#18934). Begun IMMEDIATE, a
transaction waits its turn for the lock (up to Prefect's `busy_timeout`) instead of failing, as
Prefect's own state changes already do (`with_for_update=True`).

A server on PostgreSQL (`PREFECT_API_DATABASE_CONNECTION_URL`) is left as Prefect makes it.
"""

from __future__ import annotations

import sys


def take_write_lock_up_front() -> None:
    """Make every transaction Prefect's server begins on SQLite an IMMEDIATE one."""
    from prefect.server.database.configurations import AioSqliteConfiguration

    begin = AioSqliteConfiguration.begin_transaction

    def begin_immediate(self, session, with_for_update: bool = False):
        return begin(self, session, with_for_update=True)

    AioSqliteConfiguration.begin_transaction = begin_immediate


def main(argv: list[str]) -> None:
    """`prefect server start ARGV...`, IMMEDIATE on SQLite."""
    take_write_lock_up_front()
    from prefect.cli import app  # Prefect's command line reads sys.argv

    sys.argv = ["prefect", "server", "start", *argv]
    app()


if __name__ == "__main__":
    main(sys.argv[1:])
