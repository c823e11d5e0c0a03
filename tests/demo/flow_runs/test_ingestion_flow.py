"""Ingestion of dropped CSV files: once each, with a manifest; a malformed file stops the run cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pandas as pd
import pytest

from airnub.engine.storage import machine
from airnub_prefect_starter.core.data_validation import DataValidationError
from airnub_prefect_starter.data_science.dataset_processing import load_bundled_wine
from flows.dept_demo.ingestion_flow_dept_demo import ingestion_flow_dept_demo
from flows.dept_demo.processing_flow_dept_demo import processing_flow_dept_demo


def drop_csv(paths, name: str, frame: pd.DataFrame) -> None:
    paths.inbox.mkdir(parents=True, exist_ok=True)
    frame.to_csv(paths.inbox / name, index=False)


def new_wines(count: int) -> pd.DataFrame:
    """`count` wines not in the bundled dataset (alcohol shifted), so cleaning keeps them."""
    return load_bundled_wine().head(count).assign(alcohol=lambda f: f["alcohol"] + 0.123)


def test_dropped_csv_is_ingested_once_and_reaches_processed(project):
    drop_csv(project, "harvest_2026.csv", new_wines(12))
    first = ingestion_flow_dept_demo()
    assert first["inbox_csv"]["ingested"] == ["harvest_2026.csv"]
    manifest = json.loads(project.ingest_manifest.read_text())
    (record,) = manifest.values()
    assert record["source"] == "harvest_2026.csv" and record["rows"] == 12
    assert (project.raw_dropped / record["raw_file"]).exists()

    second = ingestion_flow_dept_demo()
    assert second["inbox_csv"] == {"ingested": [], "skipped": ["harvest_2026.csv"], "waiting": {}}
    assert len(list(project.raw_dropped.glob("*.csv"))) == 1

    processing_flow_dept_demo()
    assert len(pd.read_parquet(project.features)) == 178 + 12


@pytest.mark.parametrize(("frame", "column"), [
    (new_wines(5).drop(columns=["flavanoids"]), "flavanoids"),
    (new_wines(5).astype({"magnesium": object}).assign(magnesium=["100", "101", "lots", "99", "98"]), "magnesium"),
])
def test_malformed_csv_stops_the_run_and_keeps_earlier_outputs(project, frame, column):
    ingestion_flow_dept_demo()
    processing_flow_dept_demo()
    good_features = project.features.read_bytes()

    drop_csv(project, "broken_delivery.csv", frame)
    with pytest.raises(DataValidationError) as refused:
        ingestion_flow_dept_demo()
    assert "broken_delivery.csv" in str(refused.value) and column in str(refused.value)

    assert list(project.raw_dropped.glob("*.csv")) == []
    assert not project.ingest_manifest.exists()
    assert project.features.read_bytes() == good_features
    assert [p.name for p in project.processed.iterdir()] == ["wine_features.parquet"]


def test_a_file_still_being_written_waits_and_its_complete_version_replaces_the_earlier_one(project):
    """Caught mid-copy: cut mid-number it waits; in whole lines it is taken, and the whole file later replaces it."""
    content = new_wines(12).to_csv(index=False).encode()
    project.inbox.mkdir(parents=True)
    delivery = project.inbox / "harvest.csv"
    delivery.write_bytes(content[:-5])  # the last value cut short, as `target` first would leave `1` of `1280.0`
    first = ingestion_flow_dept_demo()["inbox_csv"]
    assert first == {"ingested": [], "skipped": [], "waiting": {"harvest.csv": "its last line has no line break yet"}}
    assert list(project.raw_dropped.glob("*.csv")) == [] and not project.ingest_manifest.exists()

    delivery.write_bytes(content[: content.index(b"\n", len(content) // 2) + 1])  # whole lines, but not all yet
    assert ingestion_flow_dept_demo()["inbox_csv"]["ingested"] == ["harvest.csv"]
    delivery.write_bytes(content)  # the copy completes
    assert ingestion_flow_dept_demo()["inbox_csv"]["ingested"] == ["harvest.csv"]
    (record,) = json.loads(project.ingest_manifest.read_text()).values()
    assert record["rows"] == 12 and len(record["replaces"]) == 1
    assert [p.name for p in project.raw_dropped.glob("*.csv")] == [record["raw_file"]], "one copy, not two"
    processing_flow_dept_demo()
    assert len(pd.read_parquet(project.features)) == 178 + 12


def test_a_file_changed_within_the_quiet_period_waits(project, monkeypatch):
    monkeypatch.setenv("AIRNUB_INBOX_QUIET_SECONDS", "30")
    drop_csv(project, "fresh.csv", new_wines(4))
    waiting = ingestion_flow_dept_demo()["inbox_csv"]["waiting"]
    assert list(waiting) == ["fresh.csv"] and "less than inbox_quiet_seconds = 30" in waiting["fresh.csv"]
    assert not project.ingest_manifest.exists()
    an_hour_ago = time.time() - 3600
    os.utime(project.inbox / "fresh.csv", (an_hour_ago, an_hour_ago))
    assert ingestion_flow_dept_demo()["inbox_csv"]["ingested"] == ["fresh.csv"]


def test_the_same_content_under_two_names_in_one_batch_is_copied_once(project):
    drop_csv(project, "north.csv", new_wines(6))
    drop_csv(project, "north_copy.csv", new_wines(6))
    result = ingestion_flow_dept_demo()["inbox_csv"]
    assert result == {"ingested": ["north.csv"], "skipped": ["north_copy.csv"], "waiting": {}}
    assert len(list(project.raw_dropped.glob("*.csv"))) == 1
    assert len(json.loads(project.ingest_manifest.read_text())) == 1


def test_the_next_run_removes_what_a_killed_run_left_half_written(project, caplog):
    """A run killed (kill -9) between writing `.name.<hex>.<pid>-<machine>.tmp` and its rename leaves that file; the
    next run removes it (its writer is gone), and only it."""
    ended = subprocess.Popen([sys.executable, "-c", ""])
    ended.wait()  # the killed writer: its pid names no process now
    writer = f"{ended.pid}-{machine()}"
    left = [project.interim / f".wine_clean.parquet.0123456789ab.{writer}.tmp",
            project.models / f".model.joblib.abcdef012345.{writer}.tmp"]
    for path in left:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a table")
    kept = project.interim / ".notes.tmp"  # not a name storage writes
    kept.write_text("mine")
    ingestion_flow_dept_demo()
    assert not any(path.exists() for path in left) and kept.read_text() == "mine"
    assert any(r.getMessage().startswith("removed 2 half-written file(s) a stopped run left: ") for r in caplog.records)
