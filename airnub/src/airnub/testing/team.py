"""A team on loopback: a repository, a developer's checkout, a Prefect server, one storage folder, and workers that
play other machines (airnub.testing.remote). The remote-worker tests and `make bench-team` use it.

The repository is a bare clone of the project's HEAD (served from a path, `file://`); the checkout is a clone of it
(the developer's `.venv` linked in, as in a checkout); every output of the server's side (its reports server) and of
the workers lies below the storage root. Each worker is a machine folder of its own (empty working folder, HOME,
audit log) on one venv built from the deployed commit, as two hosts running the same image.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from airnub.engine.settings import load_settings
from airnub.testing.helpers import PROJECT_ROOT, output_overrides
from airnub.testing.processes import background, make
from airnub.testing.remote import remote_env, remote_venv, worker_command
from airnub.testing.servers import Server

SUBMIT = """
import asyncio, json, sys
from prefect.deployments import run_deployment
async def main(name, count):
    runs = await asyncio.gather(*[run_deployment(name, timeout=0) for _ in range(count)])
    print(json.dumps([str(run.id) for run in runs]))
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""
STATES = """
import asyncio, json, sys
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
async def main(ids):
    async with get_client() as client:
        runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
    print(json.dumps({str(r.id): [r.state.type.value, r.state.name, r.run_count] for r in runs}))
asyncio.run(main(json.loads(sys.argv[1])))
"""


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=120).stdout


@dataclass
class Team:
    """What the machines share (the server, the storage root, the repository) and what they do not."""

    folder: Path
    server: Server
    repository: Path  # the bare repository workers clone
    checkout: Path  # the developer's clone, from which `make deploy` runs
    commit: str
    python: Path  # the workers' venv (built from the deployed commit)
    storage: Path
    pool: str

    @property
    def reports_url(self) -> str:
        """Where the server's reports server serves the storage root's reports (its state file says)."""
        return json.loads((self.server.home / "airnub-server.json").read_text())["reports_url"]

    def deploy(self, *args: str) -> subprocess.CompletedProcess:
        """`make deploy REPOSITORY=file://<repository> ARGS` in the checkout, as the developer types it."""
        return make("deploy", f"REPOSITORY=file://{self.repository}", *args, env=self.server.env, cwd=self.checkout)

    def machine(self, name: str) -> tuple[Path, dict]:
        """A machine's folder and its processes' environment: only the server, the storage and the reports' address."""
        machine = self.folder / name
        (machine / "work").mkdir(parents=True, exist_ok=True)
        env = remote_env(machine, self.python, [PROJECT_ROOT, self.checkout], PREFECT_API_URL=self.server.api_url,
                         PREFECT_API_AUTH_STRING=self.server.env["PREFECT_API_AUTH_STRING"],
                         AIRNUB_STORAGE_ROOT=str(self.storage), AIRNUB_REPORTS_URL=self.reports_url,
                         AIRNUB_INBOX_QUIET_SECONDS="0")
        return machine, env

    @contextmanager
    def worker(self, name: str, limit: int = 1) -> Iterator[tuple[subprocess.Popen, Path]]:
        """A process worker on the machine `name`, from its empty working folder; (its process, its log)."""
        machine, env = self.machine(name)
        log = machine / "worker.log"
        with background(worker_command(self.python, self.pool, limit), env, log, cwd=machine / "work") as process:
            yield process, log

    def submit(self, deployment: str, count: int) -> list[str]:
        """`count` runs of `deployment` submitted at once; their flow run ids."""
        done = subprocess.run([sys.executable, "-c", SUBMIT, deployment, str(count)], env=self.server.env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def states(self, ids: list[str]) -> dict[str, list]:
        """Each flow run's [state type, state name, run count]."""
        done = subprocess.run([sys.executable, "-c", STATES, json.dumps(ids)], env=self.server.env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def assemble_team(folder: Path, server: Server) -> Team:
    """The repository, the checkout and the workers' venv in `folder`; `server` moved onto the storage root."""
    repository, checkout, storage = folder / "repo.git", folder / "checkout", folder / "storage"
    git("clone", "--quiet", "--bare", str(PROJECT_ROOT), str(repository))
    git("clone", "--quiet", f"file://{repository}", str(checkout))
    (checkout / ".venv").symlink_to(PROJECT_ROOT / ".venv")  # the developer's venv; the workers have their own
    commit = git("rev-parse", "HEAD", cwd=checkout).strip()
    python = remote_venv(folder / "image", PROJECT_ROOT, str(repository), commit)
    for name in output_overrides(folder):  # every output below the one storage root the machines share
        server.env.pop(name, None)
    server.env["AIRNUB_STORAGE_ROOT"] = str(storage)
    return Team(folder=folder, server=server, repository=repository, checkout=checkout, commit=commit, python=python,
                storage=storage, pool=load_settings(PROJECT_ROOT).work_pool)


def ran_on(logs: dict[str, Path], ids: list[str]) -> dict[str, list[str]]:
    """For each flow run id, the workers (names of `logs`) that started it, once per start: one when none ran twice.

    Two workers may both log "submitting" a run they polled at once; the server gives it to one, the other logs
    "Aborted submission" of it: that is no start."""
    texts = {name: log.read_text() for name, log in logs.items()}

    def starts(text: str, run: str) -> int:
        return text.count(f"submitting flow run '{run}'") - text.count(f"Aborted submission of flow run '{run}'")

    return {run: [name for name, text in texts.items() for _ in range(starts(text, run))] for run in ids}
