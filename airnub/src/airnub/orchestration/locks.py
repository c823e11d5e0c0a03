"""One pipeline writing the project's outputs at a time.

Every writer publishes files atomically (temporary file, then rename), but two runs of the same
pipeline at once (two deployments, two `make run`) could still mix their outputs: one run's
features with the other's model. Stage and pipeline flows therefore hold an exclusive lock on
the data root while they run; a second run waits for it (and then usually finds its work in the
cache). The operating system releases the lock when a run dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prefect.logging import get_run_logger

from airnub.engine.settings import load_settings

LOCK_FILE = ".airnub-outputs.lock"
# what storage.atomic_path writes before the rename: `.<name>.<12 hex>.tmp`, beside the file it becomes
PARTIAL = re.compile(r"\..+\.[0-9a-f]{12}\.tmp")


def sweep_partials(folders: list[Path]) -> list[Path]:
    """Remove the half-written files a killed run left under `folders`; only a lock holder may (no writer is busy)."""
    swept = [path for folder in folders if folder.is_dir() for path in folder.rglob(".*.tmp")
             if PARTIAL.fullmatch(path.name) and path.is_file()]
    for path in swept:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return swept
_held = contextvars.ContextVar("airnub_outputs_lock_held", default=False)


@contextmanager
def one_run_at_a_time(wait_seconds: float = 3600) -> Iterator[None]:
    """Hold the outputs lock for this block (or decorated flow); nested flows share their parent's."""
    if _held.get():
        yield
        return
    path = load_settings().paths.data_root / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        deadline, announced = time.monotonic() + wait_seconds, False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another run has held {path} for over {wait_seconds:.0f} s") from None
                if not announced:
                    get_run_logger().info("waiting for another run to finish writing (lock %s)", path)
                    announced = True
                time.sleep(0.2)
        token = _held.set(True)
        paths = load_settings().paths
        if swept := sweep_partials([paths.data_root, paths.models]):  # every writer of these holds this lock
            get_run_logger().info("removed %d half-written file(s) a stopped run left: %s", len(swept),
                                  ", ".join(p.name for p in swept[:5]))
        try:
            yield
        finally:
            _held.reset(token)
            fcntl.flock(handle, fcntl.LOCK_UN)
