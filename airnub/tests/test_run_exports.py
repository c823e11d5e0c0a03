"""A notebook edited and not exported: `airnub run` exports it first (and says so), or stops in one line (issue 20)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from airnub.orchestration.exports import export_stale, stale_notebooks
from airnub.testing.helpers import AIRNUB, output_overrides

SMOOTHING = "rolling(window, min_periods=1).mean()"


@pytest.fixture
def edited(department_project):
    """`edit(old, new)` in the exported function cell of the department's core notebook, undone after the test."""
    root, _ = department_project
    notebook = next((root / "nbs" / "core").glob("*_smooth_readings.ipynb"))
    module = root / "airnub_prefect_starter" / "core" / "smooth_readings.py"
    saved = notebook.read_bytes(), module.read_bytes()

    def edit(old: str, new: str) -> Path:
        node = json.loads(saved[0])
        cells = [cell for cell in node["cells"] if "".join(cell["source"]).startswith("#| export\ndef ")]
        assert old in "".join(cells[0]["source"])
        cells[0]["source"] = "".join(cells[0]["source"]).replace(old, new)
        notebook.write_text(json.dumps(node, indent=1))
        return notebook

    yield edit
    notebook.write_bytes(saved[0])
    module.write_bytes(saved[1])  # after the notebook: the module is the newer again, as a fresh export leaves it


def run_stage(root: Path, env: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([AIRNUB, "run", "harbour_ops", "--stage", "processing", "--json"], cwd=root,
                          env={**env, **output_overrides(tmp_path)}, capture_output=True, text=True, timeout=300)


def test_a_notebook_edited_after_its_export_is_exported_before_the_run(department_project, edited, tmp_path):
    root, env = department_project
    notebook = edited(SMOOTHING, f"{SMOOTHING} * 10")
    done = run_stage(root, env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"airnub: exported {notebook.relative_to(root)} (newer than its module)\n" in done.stderr
    smoothed = tmp_path / "data" / "processed" / "dept_harbour_ops" / "processing" / "smooth_readings.parquet"
    assert pd.read_parquet(smoothed)["level"].tolist() == [10.0, 20.0, 30.0, 50.0, 70.0], "the edited code ran"
    assert "* 10" in (root / "airnub_prefect_starter" / "core" / "smooth_readings.py").read_text()
    assert stale_notebooks(root) == [], "exported once: the next command has nothing to export"


def test_a_notebook_that_does_not_compile_stops_the_run_in_one_line(department_project, edited, tmp_path):
    root, env = department_project
    module = root / "airnub_prefect_starter" / "core" / "smooth_readings.py"
    before = module.read_bytes()
    notebook = edited("    result = frame.copy()", "    result = frame.copy(")
    done = run_stage(root, env, tmp_path)
    assert done.returncode == 1 and done.stdout == "", done.stdout
    assert done.stderr.startswith(f"airnub: {notebook.relative_to(root)}: its exported code does not compile ("), \
        done.stderr
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr
    assert module.read_bytes() == before, "the module is left as it was"
    assert [n for n, _ in stale_notebooks(root)] == [notebook], "still newer than its module: the next run retries"
    assert not (tmp_path / "data" / "processed").exists(), "no flow ran"


def test_nothing_stale_nothing_exported(department_project):
    root, _ = department_project
    said = []
    assert export_stale(root, say=said.append) == [] and said == []
