"""Runs writing the same outputs take turns; runs writing other outputs do not wait for them.

Every writer publishes files atomically (temporary file, then rename), but two runs of the same
pipeline at once (two deployments, two `make run`) could still mix their outputs: one run's
features with the other's model. Stage and pipeline flows therefore hold a lock on the outputs they
write while they run: a department's outputs (a flow in `flows/dept_<id>/` writes those of
`dept_<id>`), so runs of one department take turns (the second then usually finds its work in the
cache) and runs of two departments go on side by side. Nested flows share their parent's lock.

Where the lock lives (`output_locks` in settings.ini, `output_locks_on_server`):
- `files`: an fcntl lock on `<data_root>/.airnub-locks/<outputs>.lock`; the operating system frees it
  when its holder dies, even by SIGKILL. It holds between processes of one machine (and on a local
  disk), not between machines sharing a network file system.
- `server`: a Prefect global concurrency limit of one slot, `airnub-outputs-<package>-<outputs>`, made
  when missing; the server holds it for every machine. The slot is leased: a holder renews its lease
  while it runs, and the server frees the slot of a holder that died once the lease runs out
  (LEASE_SECONDS, the least Prefect allows, plus the server's check every 15 s).
- `auto`: `server` when the flow talks to a Prefect server that is not the project's own local one
  (a team server: workers elsewhere), `files` otherwise.
"""

from __future__ import annotations

import contextvars
import fcntl
import functools
import inspect
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from prefect.logging import get_run_logger

from airnub.engine.settings import Settings, load_settings
from airnub.engine.storage import sweep_partials
from airnub.project import package_name

LOCKS_FOLDER = ".airnub-locks"  # below data_root: one `<outputs>.lock` file per set of outputs
LEASE_SECONDS = 60  # a server-side slot's lease, renewed while its holder runs (Prefect's least: 60 s)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_held: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("airnub_outputs_held", default=frozenset())


def outputs_of(function: Callable, root: Path) -> str:
    """The outputs a flow writes, by name: its department's (`flows.dept_x.…`, or a file `flows/dept_x/…` of the
    project run as a script) -> `dept_x`; else its module's."""
    parts = function.__module__.split(".")
    if parts[0] == "__main__":
        file = Path(inspect.getfile(function)).resolve()
        parts = list(file.relative_to(root).with_suffix("").parts) if file.is_relative_to(root) else [file.stem]
    return parts[1] if len(parts) > 2 and parts[0] == "flows" else parts[-1]


def lock_file(settings: Settings, outputs: str) -> Path:
    """The file whose fcntl lock guards `outputs` (`files` locks)."""
    return settings.paths.data_root / LOCKS_FOLDER / f"{outputs}.lock"


def limit_name(settings: Settings, outputs: str) -> str:
    """The Prefect global concurrency limit that guards `outputs` (`server` locks): one per project and outputs."""
    return f"airnub-outputs-{package_name(settings.paths.root)}-{outputs}".replace("_", "-")


def _api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or ""


def locks_on_server(settings: Settings, api_url: str | None = None) -> bool:
    """True when the outputs locks are Prefect's limits: `output_locks`, and for `auto` the server flows talk to."""
    if settings.output_locks != "auto":
        return settings.output_locks == "server"
    url = urlsplit(_api_url() if api_url is None else api_url)
    if not url.hostname:  # no server named: Prefect's temporary server, in this process
        return False
    own = url.port == settings.server.port and url.hostname in (settings.server.host, *LOCAL_HOSTS)
    return not own


@contextmanager
def _file_lock(path: Path, wait_seconds: float, waiting: Callable[[], None]) -> Iterator[None]:
    """Hold the fcntl lock on `path`, waiting at most `wait_seconds` for another holder."""
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
                    waiting()
                    announced = True
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_limit(name: str) -> bool:
    """Make the one-slot global concurrency limit `name` when the server has none; True when it is taken now."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            found = client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
            except ObjectAlreadyExists:  # another run made it first
                pass
            return False
    return found.active_slots >= found.limit


@contextmanager
def server_lock(name: str, wait_seconds: float, waiting: Callable[[], None] = lambda: None,
                lease_seconds: float = LEASE_SECONDS) -> Iterator[None]:
    """Hold the only slot of the Prefect global concurrency limit `name` (made when missing), on a renewed lease."""
    from prefect.concurrency.sync import concurrency

    if ensure_limit(name):
        waiting()
    try:
        with concurrency(name, occupy=1, timeout_seconds=wait_seconds, lease_duration=lease_seconds, strict=True,
                         raise_on_lease_renewal_failure=False):  # a server hiccup does not stop a long run
            yield
    except TimeoutError:
        raise TimeoutError(f"another run has held the Prefect concurrency limit {name} for over "
                           f"{wait_seconds:.0f} s") from None


@contextmanager
def hold_outputs(outputs: str, wait_seconds: float = 3600) -> Iterator[None]:
    """Hold the lock on `outputs` for this block (at once when this run holds it already)."""
    held = _held.get()
    if outputs in held:
        yield
        return
    settings = load_settings()
    on_server = locks_on_server(settings)
    where = limit_name(settings, outputs) if on_server else lock_file(settings, outputs)

    def waiting() -> None:
        get_run_logger().info("waiting for another run to finish writing %s (lock %s)", outputs, where)

    lock = server_lock(str(where), wait_seconds, waiting) if on_server else _file_lock(where, wait_seconds, waiting)
    with lock:
        token = _held.set(held | {outputs})
        if swept := sweep_partials([settings.paths.data_root, settings.paths.models]):
            get_run_logger().info("removed %d half-written file(s) a stopped run left: %s", len(swept),
                                  ", ".join(p.name for p in swept[:5]))
        try:
            yield
        finally:
            _held.reset(token)


def one_run_at_a_time(outputs: str | None = None, wait_seconds: float = 3600) -> Callable[[Callable], Callable]:
    """Decorate a flow: it holds the lock on the outputs it writes while it runs (`outputs`: their name; None: the
    flow's department, see `outputs_of`)."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with hold_outputs(outputs or outputs_of(function, load_settings().paths.root), wait_seconds):
                return function(*args, **kwargs)

        return locked

    return decorate
