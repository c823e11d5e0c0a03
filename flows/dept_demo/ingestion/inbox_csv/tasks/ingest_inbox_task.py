"""Task: take CSV files dropped into the inbox into raw, once each."""

from pathlib import Path

from prefect import task
from prefect.logging import get_run_logger

from airnub.engine.storage import file_sha256
from airnub.orchestration.plan import planned
from airnub_prefect_starter.core.data_ingestion import inbox_files, ingest_inbox, read_manifest


def new_in_inbox(inbox: Path, dropped: Path, manifest_file: Path, pattern: str = "*.csv",
                 quiet_seconds: float = 0, max_file_bytes: int | None = None) -> str | None:
    """A plan's reason to ingest: the ready inbox files whose content the manifest does not hold (None: none)."""
    files, _ = inbox_files(inbox, pattern, quiet_seconds, max_file_bytes)
    manifest = read_manifest(manifest_file)
    new = [path.name for path in files if file_sha256(path) not in manifest]
    return f"new in the inbox: {', '.join(new)}" if new else None


@task(name="ingest-inbox")
@planned(new_in_inbox)
def ingest_inbox_task(inbox: Path, dropped: Path, manifest_file: Path, pattern: str = "*.csv",
                      quiet_seconds: float = 0, max_file_bytes: int | None = None) -> dict:
    """Validate and copy new files matching `pattern` from `inbox` into `dropped`; the manifest skips old ones."""
    result = ingest_inbox(inbox, dropped, manifest_file, pattern, quiet_seconds, max_file_bytes)
    logger = get_run_logger()
    logger.info("inbox %s (%s): ingested %s, skipped %d already ingested",
                inbox, pattern, result["ingested"] or "nothing", len(result["skipped"]))
    for name, reason in result["waiting"].items():
        logger.warning("%r: left for a later run, it may still be being written (%s)", name, reason)
    return result
