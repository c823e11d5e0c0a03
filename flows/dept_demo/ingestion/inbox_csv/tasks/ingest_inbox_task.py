"""Task: take CSV files dropped into the inbox into raw, once each."""

from pathlib import Path

from prefect import task
from prefect.logging import get_run_logger

from airnub_prefect_starter.core.data_ingestion import ingest_inbox


@task(name="ingest-inbox")
def ingest_inbox_task(inbox: Path, dropped: Path, manifest_file: Path) -> dict:
    """Validate and copy new CSV files from `inbox` into `dropped`; the manifest, not a result cache, skips old ones."""
    result = ingest_inbox(inbox, dropped, manifest_file)
    get_run_logger().info("inbox %s: ingested %s, skipped %d already ingested",
                          inbox, result["ingested"] or "nothing", len(result["skipped"]))
    return result
