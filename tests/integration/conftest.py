"""Integration fixtures: a real Prefect server (`make serve`) with a temporary home, on a free loopback port."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import output_overrides
from integration.processes import background, free_port, wait_healthy


@dataclass
class Server:
    """A `make serve` server: where it keeps its database, and how clients reach it."""

    home: Path
    port: int
    env: dict  # the environment `make variables/deploy/worker` and `prefect ...` run with
    log: Path

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self, extra_env: dict | None = None):
        """`make serve` in the background (a context manager); waits until the API answers."""
        return _serving(self, extra_env or {})


class _serving:
    def __init__(self, server: Server, extra_env: dict):
        self.server, self.extra_env = server, extra_env

    def __enter__(self):
        server = self.server
        self.context = background(["make", "--no-print-directory", "serve", f"SERVER_HOME={server.home}",
                                   f"SERVER_PORT={server.port}"], {**server.env, **self.extra_env}, server.log)
        process = self.context.__enter__()
        try:
            self.startup_seconds = wait_healthy(server.api_url, process, server.log)
        except BaseException:
            self.context.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *failure):
        return self.context.__exit__(*failure)


@pytest.fixture
def server(tmp_path) -> Server:
    """A server definition with its own home, port and client environment (outputs under tmp_path)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PREFECT_API_", "AIRNUB_"))}
    port = free_port()
    env.update(output_overrides(tmp_path), PREFECT_HOME=str(tmp_path / "client-home"),
               PREFECT_API_URL=f"http://127.0.0.1:{port}/api", PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_WORKER_QUERY_SECONDS="1", PREFECT_SERVER_API_HOST="127.0.0.1")
    return Server(home=tmp_path / "server-home", port=port, env=env, log=tmp_path / "server.log")
