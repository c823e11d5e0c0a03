"""Helpers shared by the tool's tests and a project's: commands, ports, servers' homes, notebooks, a second user."""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from airnub.engine.settings import SETTINGS_FILE, find_project_root, load_settings

PROJECT_ROOT = find_project_root()  # the project the tests run in (pytest runs from its folder)
AIRNUB = Path(sys.executable).parent / "airnub"
# The project kernel as settings.ini names it (its one home; environment overrides are for runs).
KERNEL = load_settings(PROJECT_ROOT, environ={}, check_kernel=False).kernel_name


def airnub(*args: str, env: dict) -> subprocess.CompletedProcess:
    """Run the `airnub` console script from the project folder, as a user does."""
    return subprocess.run([AIRNUB, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)


def migrated_prefect_database(folder: Path) -> Path:
    """`folder/prefect.db`: an empty Prefect database with every migration applied, made once (by `make server-db`,
    as `make setup` makes the project server's) for the test processes that share `folder`."""
    database = folder / "prefect.db"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "prefect.db.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one test process migrates; the others wait for it, then copy
        if not database.exists():
            home = folder / "migrating"  # renamed when whole: a failed migration leaves no database to copy
            env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_API_")}
            done = subprocess.run(["make", "--no-print-directory", "server-db", f"SERVER_HOME={home}"],
                                  cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stdout + done.stderr
            (home / "prefect.db").rename(database)
    return database


def seed_prefect_home(home: Path, database: Path) -> Path:
    """`home`, holding a copy of the migrated `database`: a Prefect server started there skips its ~6 s of
    migrations (what a fresh server does first is Prefect's own business; the tests are about what comes after)."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(database, home / "prefect.db")
    return home


def wait_for(condition, seconds: float = 30) -> bool:
    """Poll `condition` until it holds or `seconds` pass; its last answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def injected_cell(notebook: Path) -> str:
    """The source of the cell papermill (or airnub) injected into an executed or prepared notebook."""
    cells = nbformat.read(notebook, as_version=4).cells
    return next(cell.source for cell in cells if "injected-parameters" in cell.metadata.get("tags", []))


def kernels_of(pid: int) -> set:
    """The notebook kernels among the descendants of `pid` (psutil processes)."""
    import psutil

    return {process for process in psutil.Process(pid).children(recursive=True)
            if "ipykernel_launcher" in " ".join(process.cmdline())}


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def output_overrides(tmp: Path) -> dict[str, str]:
    """AIRNUB_* variables that move data, models and reports under `tmp` (the code and nbs/ stay), no inbox wait."""
    return {"AIRNUB_DATA_ROOT": str(tmp / "data"), "AIRNUB_MODELS_DIR": str(tmp / "models"),
            "AIRNUB_REPORTS_DIR": str(tmp / "reports"), "AIRNUB_CACHE_DIR": str(tmp / "cache"),
            "AIRNUB_INBOX_QUIET_SECONDS": "0"}  # tests drop complete files: no need to wait for them to settle


# A 396-byte YAML document whose aliases expand to 9**9 strings ("billion laughs").
BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True))


def own_notebooks_dir(folder: Path) -> dict[str, str]:
    """AIRNUB_* variables that make `folder` (outside the project) the notebooks folder, as settings.ini allows."""
    return {"AIRNUB_NOTEBOOKS_DIR": str(folder), "AIRNUB_ALLOW_NOTEBOOKS_OUTSIDE_PROJECT": "true"}


RECORD = "from airnub.engine.notebook_values import record"


def write_notebook(path: Path, parameters: str | None, *cells: str, kernel: str = KERNEL) -> Path:
    """A notebook at `path`: a `parameters`-tagged cell holding `parameters` (none when None), then `cells`."""
    code = [new_code_cell(source) for source in ([parameters] if parameters is not None else []) + list(cells)]
    if parameters is not None:
        code[0].metadata["tags"] = ["parameters"]
    metadata = {"kernelspec": {"name": kernel, "display_name": kernel, "language": "python"}}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=code, metadata=metadata), path)
    return path


# A department's Variables as configs/variables/ holds them (a file per flow or task), for tests that need no demo.
VARIABLES = {"dept_ops/ingestion/inbox_csv.yaml": "pattern: '*.csv'\n",
             "dept_ops/processing/cleaning.yaml": "include_dropped_files: false\n",
             "dept_ops/analysis/training.yaml": "test_size: 0.25\nrandom_state: 42\nregularisation: 1.0\n",
             "dept_ops/analysis/training/notify_webhook.yaml": "message: 'trained: {accuracy:.3f}'\n"}


def write_variables(folder: Path) -> Path:
    """`folder` holding the YAML files of VARIABLES (a configs/variables/ tree of a project's own)."""
    for relative, text in VARIABLES.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    return folder


def config_project(root: Path) -> Path:
    """A project at `root` with only what `airnub variables sync` reads: settings, pyproject and VARIABLES."""
    for name in (SETTINGS_FILE, "pyproject.toml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes((PROJECT_ROOT / name).read_bytes())
    write_variables(root / "configs" / "variables")
    return root


# A second, unprivileged local user for the shared-machine tests (issue 19): made once with `useradd`, driven with
# `runuser`; it can reach loopback ports, /tmp and whatever the owner left readable, and nothing else.
SECOND_USER = "airnub-second"


def second_user_available() -> str | None:
    """None when a second user can be made and driven here; else the reason a test must be skipped."""
    if os.geteuid() != 0:
        return "needs root to make a second local user (useradd, runuser)"
    if not (shutil.which("useradd") and shutil.which("runuser")):
        return "needs useradd and runuser to make a second local user"
    return None


def ensure_second_user() -> str:
    """The name of the second local user, made when missing (no home, no password, a plain shell)."""
    if subprocess.run(["id", "-u", SECOND_USER], capture_output=True).returncode != 0:
        made = subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", SECOND_USER],
                              capture_output=True, text=True)
        # two test processes may make it at once: the loser finds it made
        if made.returncode != 0 and subprocess.run(["id", "-u", SECOND_USER], capture_output=True).returncode != 0:
            raise RuntimeError(f"useradd {SECOND_USER}: {made.stderr.strip()}")
    return SECOND_USER


def as_second_user(*command: str, input: str | None = None, timeout: float = 60,
                   env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `command` as the second user (from /tmp, with a minimal environment plus `env`)."""
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", **(env or {})}
    return subprocess.run(["runuser", "-u", ensure_second_user(), "--", "env", "-i",
                           *(f"{name}={value}" for name, value in environment.items()), *command],
                          cwd="/tmp", input=input, capture_output=True, text=True, timeout=timeout)


def second_user_python(code: str, *args: str, timeout: float = 60,
                       env: dict | None = None) -> subprocess.CompletedProcess:
    """Run Python `code` as the second user with the machine's own Python (/usr/bin/python3): no project venv."""
    return as_second_user("/usr/bin/python3", "-c", code, *args, timeout=timeout, env=env)
