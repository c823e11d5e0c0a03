"""Helpers of the generator tests: copy the project, run a generator in the copy, snapshot the copy."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
OUTSIDE_THE_COPY = {".venv", ".git", "data", "models", "reports", ".cache", ".nbval", ".pytest_cache", ".ruff_cache",
                    ".prefect", "site", ".docs-build"}  # at the top only: nbs/reports/ is part of the copy


def copy_project(source: Path, target: Path) -> Path:
    """Copy the project at `source` to `target`, without its outputs, environment, caches and history."""
    def skipped(folder: str, names: list[str]) -> set[str]:
        top = Path(folder) == source
        return {n for n in names if n == "__pycache__" or n.endswith(".egg-info") or (top and n in OUTSIDE_THE_COPY)}

    return Path(shutil.copytree(source, target, ignore=skipped))
# The scaffolding every test module starts from: script, arguments.
SCAFFOLD = [
    ("add_department", "--name", "Harbour Ops", "--id", "dept_harbour_ops"),
    ("add_category", "--department", "harbour_ops", "--stage", "processing", "--name", "Tide Gauges"),
    ("add_task", "--department", "harbour_ops", "--stage", "processing", "--category", "tide_gauges",
     "--name", "smooth readings"),
    ("airnub new task", "--department", "harbour_ops", "--stage", "processing", "--name", "tide report",
     "--notebook-task"),
]


def snapshot(root: Path) -> dict[str, str]:
    """Every file under `root` (but caches) with the hash of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def copy_env(root: Path, prefect_home: Path) -> dict[str, str]:
    """Environment in which `flows` and `airnub_prefect_starter` resolve to the copy at `root`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRNUB_")}
    # AIRNUB_SERVER_AUTOSTART=false: the copy's commands run on Prefect's temporary server (that path is tested
    # here), not on a project server of the copy's own that would outlive the test
    return {**env, "AIRNUB_PROJECT_ROOT": str(root), "PYTHONPATH": str(root), "PREFECT_HOME": str(prefect_home),
            "AIRNUB_SERVER_AUTOSTART": "false",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}


def generate(root: Path, env: dict, command: str, *args: str, yes: bool = True) -> subprocess.CompletedProcess:
    """Run a generator in the copy: `add_<kind>` as its script, `airnub new <kind>` as the console command."""
    head = [str(BIN / "airnub"), *command.split()[1:]] if command.startswith("airnub") else \
        [sys.executable, f"scripts/generators/{command}.py"]
    return subprocess.run([*head, *args, *(["--yes"] if yes else [])], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)


def scaffold_copy(source: Path, folder: Path, prefect_home: Path, commands: list[tuple[str, ...]]
                  ) -> tuple[Path, dict, dict]:
    """`(root, env, before)`: a copy of the project at `source` in `folder`, `commands` run in it as a user runs them,
    and the snapshot of the copy before they ran."""
    root = copy_project(source, folder / "airnub-prefect-starter")
    env = copy_env(root, prefect_home)
    before = snapshot(root)
    for command, *args in commands:
        done = generate(root, env, command, *args)
        assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return root, env, before


def assert_again_changes_nothing(root: Path, env: dict, commands: list[tuple[str, ...]]) -> None:
    """Running `commands` again says "nothing to do" and leaves every file of the copy as it was."""
    tree = snapshot(root)
    for command, *args in commands:
        again = generate(root, env, command, *args)
        assert again.returncode == 0 and "nothing to do" in again.stdout, again.stderr
    assert snapshot(root) == tree
