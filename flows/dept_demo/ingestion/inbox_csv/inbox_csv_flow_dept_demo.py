"""Ingestion category: CSV files dropped into the inbox folder, into raw with a manifest."""

from prefect import flow

from airnub_prefect_starter.data_science.config_ds import load_settings
from flows.dept_demo.ingestion.inbox_csv.tasks.ingest_inbox_task import ingest_inbox_task


@flow(name="inbox-csv-dept-demo")
def inbox_csv_flow_dept_demo() -> dict:
    """Ingest new CSV files from the inbox (`inbox_dir` in settings.ini)."""
    paths = load_settings().paths
    return ingest_inbox_task(paths.inbox, paths.raw_dropped, paths.ingest_manifest)


if __name__ == "__main__":
    inbox_csv_flow_dept_demo()
