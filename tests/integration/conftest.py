"""Integration fixtures: a real Prefect server (`make serve`) with a temporary home, on a free loopback port."""

from integration.servers import server  # noqa: F401  (a fixture: tests/demo/ imports it too)
