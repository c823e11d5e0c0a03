"""Ingestion of dropped CSV files: once each, with a manifest; a malformed file stops the run cleanly."""

from __future__ import annotations

import json

import pandas as pd
import pytest

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
    assert second["inbox_csv"] == {"ingested": [], "skipped": ["harvest_2026.csv"]}
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
