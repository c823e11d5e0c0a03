"""Task: take CSV files dropped into the inbox into raw, once each."""

from pathlib import Path

from prefect import task
from prefect.logging import get_run_logger

from airnub_prefect_starter.core.data_ingestion import ingest_inbox


@task(name="ingest-inbox")
def ingest_inbox_task(inbox: Path, dropped: Path, manifest_file: Path, pattern: str = "*.csv") -> dict:
    """Validate and copy new files matching `pattern` from `inbox` into `dropped`; the manifest skips old ones."""
    result = ingest_inbox(inbox, dropped, manifest_file, pattern)
    get_run_logger().info("inbox %s (%s): ingested %s, skipped %d already ingested",
                          inbox, pattern, result["ingested"] or "nothing", len(result["skipped"]))
    return result
