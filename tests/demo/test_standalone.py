"""The demo's `python -m` entry points run the same validated steps as its flows."""

from __future__ import annotations

import subprocess
import sys

from airnub.testing.helpers import PROJECT_ROOT

PACKAGE = "airnub_prefect_starter"


def _run(module: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"{PACKAGE}.data_science.{module}"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_data_science_modules_run_standalone(subprocess_env, tmp_path):
    from airnub_prefect_starter.core.data_ingestion import ingest_bundled_dataset

    ingest_bundled_dataset(tmp_path / "data" / "raw" / "wine.csv")
    for module in ("dataset_processing", "feature_engineering", "modeling.train", "modeling.predict"):
        done = _run(module, subprocess_env)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "models" / "wine_classifier.joblib").exists()
    assert (tmp_path / "data" / "processed" / "wine_predictions.parquet").exists()


def test_standalone_processing_validates_the_raw_files_as_the_flow_does(subprocess_env, tmp_path):
    from airnub_prefect_starter.core.data_ingestion import ingest_bundled_dataset

    raw = tmp_path / "data" / "raw"
    ingest_bundled_dataset(raw / "wine.csv")
    (raw / "dropped").mkdir()
    (raw / "dropped" / "bad.csv").write_text((raw / "wine.csv").read_text().replace("\n14.23,", "\nnot-a-number,", 1))
    done = _run("dataset_processing", subprocess_env)
    assert done.returncode != 0
    assert "bad.csv" in done.stderr and "DataValidationError" in done.stderr, done.stderr[-2000:]
    assert not (tmp_path / "data" / "interim" / "wine_clean.parquet").exists(), "nothing written from a bad file"
