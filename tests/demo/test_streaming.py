"""The demo's steps stream: cut into small chunks, each gives what it gives on the whole table, chunk after chunk.

200,000 rows in two CSV files (with rows delivered twice and rows with a gap) go through ingestion, cleaning,
features, training and scoring with a chunk of 10,000 rows; each result is compared with the same step computed on
the whole table in memory, and the written tables hold one row group per chunk (the steps really wrote in chunks).
"""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from airnub.engine.storage import write_csv
from airnub_prefect_starter.core.data_cleaning import clean_raw_files
from airnub_prefect_starter.core.data_ingestion import ingest_inbox, read_manifest
from airnub_prefect_starter.core.model_inference import score_features
from airnub_prefect_starter.data_science.dataset_processing import clean_dataset, synthetic_wine
from airnub_prefect_starter.data_science.feature_engineering import add_features, build_feature_table
from airnub_prefect_starter.data_science.modeling.predict import predict_frame
from airnub_prefect_starter.data_science.modeling.train import train_and_save, training_rows

CHUNK = 10_000
COPIES = 1_124  # x 178 = 200,072 rows


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two inbox files of synthetic wine (the second repeats 3,000 rows of the first, 5 rows lack a value),
    ingested, cleaned and turned into features a chunk at a time."""
    root = tmp_path_factory.mktemp("streaming")
    wine = synthetic_wine(COPIES)
    first, second = wine.iloc[:120_000], pd.concat([wine.iloc[120_000:], wine.iloc[:3_000]], ignore_index=True)
    second.loc[[10, 20_000, 40_000, 60_000, 79_000], "hue"] = np.nan
    inbox = root / "inbox"
    inbox.mkdir()
    write_csv(first, inbox / "a.csv")
    write_csv(second, inbox / "b.csv")
    dropped = root / "raw" / "dropped"
    result = ingest_inbox(inbox, dropped, root / "raw" / "manifest.json", chunk_rows=CHUNK)
    assert result["ingested"] == ["a.csv", "b.csv"]
    rows = {record["source"]: record["rows"] for record in read_manifest(root / "raw" / "manifest.json").values()}
    assert rows == {"a.csv": len(first), "b.csv": len(second)}, "ingestion counted every chunk's rows"
    paths = {"raw": sorted(dropped.glob("*.csv")), "interim": root / "interim.parquet",
             "features": root / "features.parquet", "model": root / "model.joblib", "card": root / "model.json",
             "predictions": root / "predictions.parquet"}
    paths["counts"] = clean_raw_files(paths["raw"], paths["interim"], chunk_rows=CHUNK)
    build_feature_table(paths["interim"], paths["features"], chunk_rows=CHUNK)
    return paths


def test_cleaning_in_chunks_gives_the_whole_table_result(tables: dict) -> None:
    whole, counts = clean_dataset(pd.concat([pd.read_csv(path) for path in tables["raw"]], ignore_index=True))
    assert tables["counts"] == {**counts, "files": 2}
    assert (counts["duplicate_rows"], counts["incomplete_rows"]) == (3_000, 5), "duplicates found across files"
    pd.testing.assert_frame_equal(pd.read_parquet(tables["interim"]), whole)
    assert pq.ParquetFile(tables["interim"]).metadata.num_row_groups >= len(whole) // CHUNK, "written in chunks"


def test_features_in_chunks_give_the_whole_table_result(tables: dict) -> None:
    expected = add_features(pd.read_parquet(tables["interim"]))
    pd.testing.assert_frame_equal(pd.read_parquet(tables["features"]), expected)
    assert pq.ParquetFile(tables["features"]).metadata.num_row_groups == -(-len(expected) // CHUNK)


def test_training_reads_a_seeded_sample_of_a_large_table(tables: dict) -> None:
    card = train_and_save(tables["features"], tables["model"], tables["card"], max_rows=40_000)
    assert card["table_rows"] == pq.ParquetFile(tables["features"]).metadata.num_rows > 40_000
    assert card["train_rows"] == 30_000 and card["params"]["max_rows"] == 40_000  # 75 % of the sample
    sample = training_rows(tables["features"], 40_000, card["params"]["random_state"], chunk_rows=CHUNK)
    pd.testing.assert_frame_equal(sample, training_rows(tables["features"], 40_000, card["params"]["random_state"]))
    assert card["metrics"]["accuracy"] > 0.9


def test_scoring_in_chunks_gives_the_whole_table_result(tables: dict) -> None:
    train_and_save(tables["features"], tables["model"], tables["card"], max_rows=40_000)
    summary = score_features(tables["model"], tables["card"], tables["features"], tables["predictions"],
                             chunk_rows=CHUNK)
    features = pd.read_parquet(tables["features"])
    expected = pd.concat([features, predict_frame(joblib.load(tables["model"]), features)], axis=1)
    predicted = pd.read_parquet(tables["predictions"])
    pd.testing.assert_frame_equal(predicted, expected)
    assert pq.ParquetFile(tables["predictions"]).metadata.num_row_groups > 1
    counts = expected["prediction"].value_counts().sort_index()
    assert summary["rows"] == len(expected)
    assert summary["predicted_classes"] == {str(k): int(v) for k, v in counts.items()}
    assert summary["mean_probability"] == round(float(expected["probability"].mean()), 4)
    assert summary["agreement_with_target"] == round(float((expected["prediction"] == expected["target"]).mean()), 4)
