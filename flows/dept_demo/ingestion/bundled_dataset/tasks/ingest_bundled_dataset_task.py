"""Task: write scikit-learn's wine dataset into raw."""

from pathlib import Path

from prefect import task
from prefect.logging import get_run_logger

from airnub_prefect_starter.core.data_ingestion import ingest_bundled_dataset
from flows.common.cache import cached


@task(name="ingest-bundled-dataset", retries=1)
@cached(outputs=("raw_file",))
def ingest_bundled_dataset_task(raw_file: Path, keep_existing: bool = False) -> dict:
    """Write the bundled dataset to `raw_file` unless an identical copy (any, with `keep_existing`) is there."""
    result = ingest_bundled_dataset(raw_file, keep_existing)
    get_run_logger().info("%s: %d rows (%s)", raw_file, result["rows"], "written" if result["written"] else "unchanged")
    return result
