"""A throwaway PostgreSQL cluster on loopback, run as the `postgres` user (initdb and pg_ctl refuse root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from airnub.testing.helpers import free_port


def postgres_bin() -> Path | None:
    """The newest installed `/usr/lib/postgresql/<version>/bin`, or None when PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _as_postgres(command: list[str], timeout: float = 120) -> None:
    prefix = ["su", "postgres", "-s", "/bin/sh", "-c"] if os.geteuid() == 0 else ["sh", "-c"]
    done = subprocess.run([*prefix, subprocess.list2cmdline(command)], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


@contextmanager
def postgres_database(name: str = "prefect") -> Iterator[str]:
    """Start a cluster with database `name`; yield its asyncpg URL; stop the cluster and delete it on exit."""
    binaries = postgres_bin()
    folder = Path(tempfile.mkdtemp(prefix="airnub-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", free_port()
    try:
        _as_postgres([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"])
        _as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "postgres.log"), "-w", "-t", "60",
                      "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start"])
        try:
            _as_postgres([str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", name])
            yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{name}"
        finally:
            _as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
