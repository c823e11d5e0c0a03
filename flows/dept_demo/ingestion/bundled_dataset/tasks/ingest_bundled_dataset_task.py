"""Task: write scikit-learn's wine dataset into raw."""

from pathlib import Path

from prefect import task
from prefect.logging import get_run_logger

from airnub_prefect_starter.core.data_ingestion import ingest_bundled_dataset


@task(name="ingest-bundled-dataset", retries=1)
def ingest_bundled_dataset_task(raw_file: Path, keep_existing: bool = False) -> dict:
    """Write the bundled dataset to `raw_file` unless an identical copy is there (or any copy, with `keep_existing`)."""
    if keep_existing and raw_file.exists():
        get_run_logger().info("%s: kept as it is (keep_existing)", raw_file)
        return {"file": str(raw_file), "written": False, "kept_existing": True}
    result = ingest_bundled_dataset(raw_file)
    get_run_logger().info("%s: %d rows (%s)", raw_file, result["rows"], "written" if result["written"] else "unchanged")
    return result
