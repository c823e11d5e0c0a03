"""A pipeline killed with SIGKILL mid-run leaves only whole files behind, and the next run completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import joblib
import nbformat
import pandas as pd
import pytest

from airnub.testing.helpers import PROJECT_ROOT

AIRNUB = Path(sys.executable).parent / "airnub"


def start_pipeline(env: dict) -> subprocess.Popen:
    return subprocess.Popen([AIRNUB, "run", "demo"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def kill_when(run: subprocess.Popen, marker: str, delay: float, timeout: float = 300) -> str:
    """Read the run's log until `marker`, wait `delay` seconds, SIGKILL its whole process group; return the log."""
    lines, seen = [], threading.Event()

    def read() -> None:
        for line in run.stdout:
            lines.append(line)
            if marker in line:
                seen.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert seen.wait(timeout), f"never saw {marker!r}:\n{''.join(lines)}"
    time.sleep(delay)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=30)
    reader.join(timeout=10)
    return "".join(lines)


def unreadable_files(root: Path) -> list[str]:
    """Visible files under `root` that do not load completely (hidden temporary files are allowed)."""
    loaders = {".parquet": pd.read_parquet, ".csv": pd.read_csv, ".json": lambda p: json.loads(p.read_text()),
               ".joblib": joblib.load, ".ipynb": lambda p: nbformat.read(p, as_version=4),
               ".html": lambda p: p.read_text().rstrip().endswith("</html>") or 1 / 0}
    broken = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        try:
            loaders.get(path.suffix, lambda p: p.read_bytes())(path)
        except Exception as error:  # any failure to load is what this test looks for
            broken.append(f"{path.relative_to(root)}: {type(error).__name__}")
    return broken


@pytest.mark.integration
@pytest.mark.parametrize(("marker", "delay"), [
    ("for flow 'training-dept-demo'", 0.1),  # while the model is being fitted and saved
    ("for flow 'evaluation-dept-demo'", 1.5),  # while the report notebook runs in its kernel
], ids=["training", "report"])
def test_a_killed_pipeline_leaves_whole_files_and_the_next_run_completes(subprocess_env, tmp_path, marker, delay):
    killed_log = kill_when(start_pipeline(subprocess_env), marker, delay)
    assert "Finished in state Completed()\n" not in killed_log.splitlines()[-1]
    assert unreadable_files(tmp_path) == []

    rerun = start_pipeline(subprocess_env)
    log, _ = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, log
    assert unreadable_files(tmp_path) == []
    assert len(pd.read_parquet(tmp_path / "data" / "processed" / "wine_predictions.parquet")) == 178
    assert "clean_raw_files_task: served from the cache" in log, "cleaning had finished before the kill: reused"
