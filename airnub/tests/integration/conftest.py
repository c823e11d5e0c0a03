"""Integration fixtures: a real Prefect server (`make serve`) with a temporary home, on a free loopback port; the
built docs site, served. They live in modules of their own: tests/demo/ uses them too."""

from airnub.testing.browser import site_url  # noqa: F401
from airnub.testing.servers import server  # noqa: F401
