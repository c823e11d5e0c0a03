"""Task: add the engineered features to the interim table."""

from pathlib import Path

from prefect import task
from prefect.logging import get_run_logger

from airnub.orchestration.cache import cached
from airnub_prefect_starter.data_science.feature_engineering import build_feature_table


@task(name="build-feature-table")
@cached(outputs=("processed_file",))
def build_feature_table_task(interim_file: Path, processed_file: Path, min_rows: int = 1) -> dict:
    """Build the processed feature table from the interim table, refusing one of fewer than `min_rows` rows."""
    shape = build_feature_table(interim_file, processed_file, min_rows)
    get_run_logger().info("%s: %d rows, %d features", processed_file, shape["rows"], shape["features"])
    return shape
