"""Task: validate the raw files and clean them into the interim table."""

from pathlib import Path

from prefect import task
from prefect.logging import get_run_logger

from airnub.orchestration.cache import cached
from airnub_prefect_starter.core.data_cleaning import clean_raw_files


@task(name="clean-raw-files")
@cached(outputs=("interim_file",))
def clean_raw_files_task(raw_files: list[Path], interim_file: Path) -> dict:
    """Validate each raw file, clean them together, write `interim_file`."""
    counts = clean_raw_files(raw_files, interim_file)
    get_run_logger().info("%s: %d rows from %d file(s); dropped %d incomplete, %d duplicate", interim_file,
                          counts["rows_out"], counts["files"], counts["incomplete_rows"], counts["duplicate_rows"])
    return counts
