"""A real Prefect server (`make serve`: the project's server) with a temporary home, on a free loopback port: the
`server` fixture. Its clients are given its URL and credential as a team server's users set them."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from airnub.services.server_identity import credential
from airnub.testing.helpers import AIRNUB, PROJECT_ROOT, free_port, output_overrides, seed_prefect_home
from airnub.testing.processes import make


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
        """`make serve` (the server in the background), `airnub server stop` when the block ends; yields the seconds
        its API took to answer."""
        env = {**self.env, **(extra_env or {})}
        on_sqlite = "PREFECT_API_DATABASE_CONNECTION_URL" not in env
        if on_sqlite and not (self.home / "prefect.db").exists():
            seed_prefect_home(self.home, self.database)
        started = time.monotonic()
        done = make("serve", f"SERVER_HOME={self.home}", f"SERVER_PORT={self.port}", env=env)
        log = self.home / "server.log"
        assert done.returncode == 0, done.stdout + done.stderr + (log.read_text()[-3000:] if log.exists() else "")
        try:
            yield time.monotonic() - started
        finally:
            subprocess.run([AIRNUB, "server", "stop"], cwd=PROJECT_ROOT, capture_output=True, timeout=120,
                           env={**env, "AIRNUB_SERVER_HOME": str(self.home), "AIRNUB_SERVER_PORT": str(self.port)})


def define_server(folder: Path, database: Path) -> Server:
    """A server definition with its own home, port and client environment (outputs under `folder`)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PREFECT_API_", "AIRNUB_"))}
    port, home = free_port(), folder / "server-home"
    env.update(output_overrides(folder), PREFECT_HOME=str(folder / "client-home"),
               PREFECT_API_URL=f"http://127.0.0.1:{port}/api", PREFECT_API_AUTH_STRING=credential(home),
               AIRNUB_REPORTS_PORT=str(free_port()), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_WORKER_QUERY_SECONDS="1")
    return Server(home=home, port=port, env=env, log=folder / "server.log", database=database)


@pytest.fixture
def server(tmp_path, prefect_database) -> Server:
    """A server definition with its own home, port and client environment (outputs under tmp_path)."""
    return define_server(tmp_path, prefect_database)
