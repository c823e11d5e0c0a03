"""Start and stop the real processes integration tests need: every one in its own process group."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from airnub.testing.helpers import PROJECT_ROOT


def stop(process: subprocess.Popen, grace_seconds: float = 20) -> None:
    """SIGTERM the process group of `process`, then SIGKILL it when it has not ended after `grace_seconds`."""
    for sig, wait in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def background(command: list[str], env: dict, log: Path, cwd: Path = PROJECT_ROOT) -> Iterator[subprocess.Popen]:
    """Run `command` in the project (`cwd`) in its own process group, output to `log`; stop it on exit."""
    with open(log, "ab") as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield process
    finally:
        stop(process)


def wait_healthy(api_url: str, process: subprocess.Popen, log: Path, timeout_seconds: float = 150) -> float:
    """Seconds until the Prefect API at `api_url` answers its health check; fails when the server exits or hangs."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_seconds:
        if process.poll() is not None:
            raise AssertionError(f"the server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=5) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"no answer from {api_url} after {timeout_seconds} s:\n{log.read_text()[-3000:]}")


def make(*args: str, env: dict, timeout: float = 300, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess:
    """`make ARGS` in the project (`cwd`), as a user types it; output captured."""
    return subprocess.run(["make", "--no-print-directory", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
