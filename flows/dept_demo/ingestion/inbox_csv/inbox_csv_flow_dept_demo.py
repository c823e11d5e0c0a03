"""Ingestion category: CSV files dropped into the inbox folder, into raw with a manifest."""

from prefect import flow

from airnub.engine.settings import load_settings
from airnub.orchestration.config import load_config
from airnub_prefect_starter.core.data_ingestion import inbox_files
from airnub_prefect_starter.data_science.config_ds import data_paths
from flows.dept_demo.ingestion.inbox_csv.tasks.ingest_inbox_task import ingest_inbox_task
from flows.dept_demo.ingestion.inbox_csv.tasks.validate_csv_task import validate_csv_task


@flow(name="inbox-csv-dept-demo")
def inbox_csv_flow_dept_demo(pattern: str | None = None) -> dict:
    """Validate the settled inbox files matching `pattern` side by side, then ingest the new ones."""
    config = load_config("dept_demo", "ingestion", "inbox_csv", overrides={"pattern": pattern})
    settings = load_settings()
    paths = data_paths(settings.paths)
    limits = {"quiet_seconds": settings.inbox_quiet_seconds, "max_file_bytes": settings.inbox_max_megabytes * 2**20}
    # Only regular files inside the inbox, within the size limit; files still being written wait for a later run.
    files, _ = inbox_files(paths.inbox, config["pattern"], **limits)
    # One task per file on the flow's task runner (threads, processes or a Dask cluster): a malformed
    # file fails its task, and the run stops before anything is copied. ingest_inbox checks the new
    # files once more before copying them (cheap for CSV files; it keeps that function safe on its own).
    validate_csv_task.map(files).result()
    return ingest_inbox_task(paths.inbox, paths.raw_dropped, paths.ingest_manifest, config["pattern"], **limits)


if __name__ == "__main__":
    inbox_csv_flow_dept_demo()
