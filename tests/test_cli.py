"""The `airnub` console script, run as a user runs it: a subprocess with its own Prefect home."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import PROJECT_ROOT, write_notebook

AIRNUB = Path(sys.executable).parent / "airnub"


def airnub(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([AIRNUB, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_run_a_single_stage(subprocess_env, tmp_path):
    done = airnub("run", "demo", "--stage", "ingestion", env=subprocess_env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["bundled_dataset"]["rows"] == 178
    assert len(pd.read_csv(tmp_path / "data" / "raw" / "wine.csv")) == 178
    assert not (tmp_path / "data" / "interim" / "wine_clean.parquet").exists(), "only the ingestion stage ran"


@pytest.mark.parametrize(("args", "named", "listed"), [
    (("run", "harbour"), "'harbour'", "demo"),
    (("run", "demo", "--stage", "cooking"), "'cooking'", "ingestion, processing, analysis"),
])
def test_unknown_department_or_stage_is_refused(subprocess_env, args, named, listed):
    done = airnub(*args, env=subprocess_env)
    assert done.returncode == 2
    assert named in done.stderr and listed in done.stderr


def test_notebook_command_converts_and_injects_parameters(subprocess_env, tmp_path):
    subprocess_env["AIRNUB_NOTEBOOKS_DIR"] = str(tmp_path)
    notebook = write_notebook(tmp_path / "area.ipynb", "side: int = 2\nlabels: list = []",
                              "print('area', side * side, 'labels', len(labels))")
    done = airnub("notebook", str(notebook), "-p", "side", "7", "-p", "labels", "[a, b, c]", env=subprocess_env)
    assert done.returncode == 0, done.stderr
    html = Path(done.stdout.split("report: ")[1].strip())
    assert html.is_relative_to(tmp_path / "reports") and "area 49 labels 3" in html.read_text()
