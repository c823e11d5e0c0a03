"""Task: check one dropped CSV file against the dataset's schema."""

from pathlib import Path

from prefect import task
from prefect.logging import get_run_logger

from airnub.orchestration.plan import follows_its_inputs, planned
from airnub_prefect_starter.core.data_validation import read_valid_chunks, shown_path


@task(name="validate-csv", task_run_name="validate-{path.name}")
@planned(follows_its_inputs)  # a new file is ingest-inbox's reason to run; this checks it on the way
def validate_csv_task(path: Path) -> int:
    """The number of rows of `path`; a file that does not match the schema raises, naming the file and column."""
    rows = sum(map(len, read_valid_chunks(path)))  # a chunk at a time: a file may be larger than memory
    get_run_logger().info("%s: %d valid rows", shown_path(path.name), rows)
    return rows
