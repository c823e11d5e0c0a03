"""Ingestion category: CSV files dropped into the inbox folder, into raw with a manifest."""

from prefect import flow

from airnub_prefect_starter.data_science.config_ds import load_settings
from flows.common.config import load_config
from flows.dept_demo.ingestion.inbox_csv.tasks.ingest_inbox_task import ingest_inbox_task
from flows.dept_demo.ingestion.inbox_csv.tasks.validate_csv_task import validate_csv_task


@flow(name="inbox-csv-dept-demo")
def inbox_csv_flow_dept_demo(pattern: str | None = None) -> dict:
    """Validate the inbox files matching `pattern` side by side, then ingest the new ones."""
    config = load_config("dept_demo", "ingestion", "inbox_csv", overrides={"pattern": pattern})
    paths = load_settings().paths
    files = sorted(paths.inbox.glob(config["pattern"])) if paths.inbox.exists() else []
    # One task per file on the flow's task runner (threads, processes or a Dask cluster): a malformed
    # file fails its task, and the run stops before anything is copied. ingest_inbox checks the new
    # files once more before copying them (cheap for CSV files; it keeps that function safe on its own).
    validate_csv_task.map(files).result()
    return ingest_inbox_task(paths.inbox, paths.raw_dropped, paths.ingest_manifest, config["pattern"])


if __name__ == "__main__":
    inbox_csv_flow_dept_demo()
