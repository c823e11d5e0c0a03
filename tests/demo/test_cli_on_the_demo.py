"""`airnub run demo`: one stage of the demo, and what the end of its run says, cached on the second run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from airnub.testing.helpers import airnub


def test_run_a_single_stage(subprocess_env, tmp_path):
    done = airnub("run", "demo", "--stage", "ingestion", "--json", env=subprocess_env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["bundled_dataset"]["rows"] == 178
    assert len(pd.read_csv(tmp_path / "data" / "raw" / "wine.csv")) == 178
    assert not (tmp_path / "data" / "interim" / "wine_clean.parquet").exists(), "only the ingestion stage ran"


def test_the_end_of_a_run_says_what_happened_in_a_few_lines(subprocess_env, tmp_path):
    first = airnub("run", "demo", env=subprocess_env)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert len(lines) <= 5 and lines[0].startswith("pipeline-dept-demo: completed in "), first.stdout
    assert "/runs/flow-run/" in lines[0] and subprocess_env["AIRNUB_SERVER_PORT"] in lines[0], "which server ran it"
    written = lines[1].removeprefix("written: ").split(", ")
    assert str(tmp_path / "models" / "wine_classifier.joblib") in written, first.stdout
    report = Path(next(line for line in lines if line.startswith("report: ")).removeprefix("report: "))
    assert report.is_file() and report.is_relative_to(tmp_path / "reports") and report.name == "model_evaluation.html"
    assert f"report with code: {report.with_name('model_evaluation.full.html')}" in lines, first.stdout
    again = airnub("run", "demo", env=subprocess_env)
    assert again.returncode == 0 and "written: nothing (every step was served from the cache" in again.stdout
    assert f"report: {report}" in again.stdout
