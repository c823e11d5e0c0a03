"""Task: write scikit-learn's wine dataset into raw."""

import hashlib
from pathlib import Path

from prefect import task
from prefect.logging import get_run_logger

from airnub.engine.storage import file_sha256
from airnub.orchestration.plan import planned
from airnub_prefect_starter.core.data_ingestion import ingest_bundled_dataset
from airnub_prefect_starter.data_science.dataset_processing import load_bundled_wine


def would_write(raw_file: Path, keep_existing: bool = False) -> str | None:
    """A plan's reason to ingest: the raw copy is missing or (unless kept) not the bundled dataset's bytes."""
    if not Path(raw_file).exists():
        return f"{raw_file} does not exist yet"
    if keep_existing:
        return None
    bundled = hashlib.sha256(load_bundled_wine().to_csv(index=False).encode()).hexdigest()
    return None if file_sha256(raw_file) == bundled else f"{raw_file} is not the bundled dataset"


@task(name="ingest-bundled-dataset", retries=1)
@planned(would_write)  # not cached: its result says whether this run wrote the file
def ingest_bundled_dataset_task(raw_file: Path, keep_existing: bool = False) -> dict:
    """Write the bundled dataset to `raw_file` unless an identical copy (any, with `keep_existing`) is there."""
    result = ingest_bundled_dataset(raw_file, keep_existing)
    get_run_logger().info("%s: %d rows (%s)", raw_file, result["rows"], "written" if result["written"] else "unchanged")
    return result
