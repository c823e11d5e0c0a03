"""A real Prefect server (`make serve`) with a temporary home, on a free loopback port: the `server` fixture."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import free_port, output_overrides, seed_prefect_home
from integration.processes import background, wait_healthy


@dataclass
class Server:
    """A `make serve` server: where it keeps its database, and how clients reach it."""

    home: Path
    port: int
    env: dict  # the environment `make variables/deploy/worker` and `prefect ...` run with
    log: Path
    database: Path  # a migrated SQLite database, copied into `home` before a first start on SQLite

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @contextmanager
    def start(self, extra_env: dict | None = None) -> Iterator[float]:
        """Run `make serve` until the block ends; yields the seconds its API took to answer."""
        on_sqlite = "PREFECT_API_DATABASE_CONNECTION_URL" not in {**self.env, **(extra_env or {})}
        if on_sqlite and not (self.home / "prefect.db").exists():
            seed_prefect_home(self.home, self.database)
        command = ["make", "--no-print-directory", "serve", f"SERVER_HOME={self.home}", f"SERVER_PORT={self.port}"]
        with background(command, {**self.env, **(extra_env or {})}, self.log) as process:
            yield wait_healthy(self.api_url, process, self.log)


@pytest.fixture
def server(tmp_path, prefect_database) -> Server:
    """A server definition with its own home, port and client environment (outputs under tmp_path)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PREFECT_API_", "AIRNUB_"))}
    port = free_port()
    env.update(output_overrides(tmp_path), PREFECT_HOME=str(tmp_path / "client-home"),
               PREFECT_API_URL=f"http://127.0.0.1:{port}/api", PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_WORKER_QUERY_SECONDS="1")
    return Server(home=tmp_path / "server-home", port=port, env=env, log=tmp_path / "server.log",
                  database=prefect_database)
