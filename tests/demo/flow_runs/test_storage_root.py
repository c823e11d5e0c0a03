"""One storage root for every output: the demo pipeline run with AIRNUB_STORAGE_ROOT writes its data, models, reports,
run cache and locks there, and nothing in the project folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from airnub.testing.helpers import PROJECT_ROOT

SKIPPED = {".git", ".venv", "__pycache__"}  # the checkout's history, its tools, Python's bytecode


def files_of(root: Path) -> dict[str, tuple[int, int]]:
    """Every file below `root` (outside SKIPPED) with its size and modification time."""
    found = {}
    for path in root.rglob("*"):
        if not SKIPPED & set(path.relative_to(root).parts) and path.is_file():
            status = path.stat()
            found[str(path.relative_to(root))] = (status.st_size, status.st_mtime_ns)
    return found


def test_the_pipeline_writes_below_the_storage_root_and_nothing_in_the_project(airnub_server, tmp_path):
    storage = tmp_path / "shared-storage"
    env = {**airnub_server, "AIRNUB_STORAGE_ROOT": str(storage), "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "AIRNUB_INBOX_QUIET_SECONDS": "0"}
    before = files_of(PROJECT_ROOT)
    done = subprocess.run([Path(sys.executable).parent / "airnub", "run", "demo"], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    after = files_of(PROJECT_ROOT)
    assert {name: after.get(name) for name in after if after.get(name) != before.get(name)} == {}, \
        "the run wrote in the project folder"
    written = {str(path.relative_to(storage)) for path in storage.rglob("*") if path.is_file()}
    for expected in ("data/raw/wine.csv", "data/interim/wine_clean.parquet", "data/processed/wine_features.parquet",
                     "data/processed/wine_predictions.parquet", "models/wine_classifier.joblib",
                     "data/.airnub-locks/dept_demo.lock"):
        assert expected in written, sorted(written)
    assert any(name.startswith("reports/model_evaluation/") and name.endswith(".html") for name in written)
    assert any(name.startswith(".cache/tasks/") for name in written) and any(
        name.startswith(".cache/notebooks/") for name in written), sorted(written)
