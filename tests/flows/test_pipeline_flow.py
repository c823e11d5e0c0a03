"""The demo pipeline end to end on a temporary Prefect API: every stage leaves what a user opens."""

from __future__ import annotations

import json
from importlib.metadata import version

import nbformat
import pandas as pd
from helpers import PROJECT_ROOT
from prefect.artifacts import Artifact

from airnub_prefect_starter.data_science.feature_engineering import FEATURE_COLUMNS
from flows.common.config import config_file, read_config_file


def test_raw_interim_and_processed_are_filled(pipeline_run):
    paths, result = pipeline_run
    assert len(pd.read_csv(paths.raw_dataset)) == 178
    assert len(pd.read_parquet(paths.interim_dataset)) == 178
    features = pd.read_parquet(paths.features)
    assert set(FEATURE_COLUMNS) <= set(features.columns)
    predictions = pd.read_parquet(paths.predictions)
    assert (predictions["prediction"] == predictions["target"]).mean() > 0.95
    assert result["processing"]["cleaning"]["rows_out"] == 178


def test_model_is_saved_with_its_card(pipeline_run):
    paths, _ = pipeline_run
    card = json.loads(paths.model_card.read_text())
    assert paths.model.stat().st_size > 0
    assert card["versions"]["scikit-learn"] == version("scikit-learn")
    assert card["versions"]["pandas"] == version("pandas")
    assert card["metrics"]["accuracy"] > 0.9
    assert card["features"] == list(FEATURE_COLUMNS)


def test_report_notebook_and_html_with_plots(pipeline_run):
    paths, result = pipeline_run
    runs = list((paths.reports / "model_evaluation").iterdir())
    assert len(runs) == 1
    executed = nbformat.read(runs[0] / "model_evaluation.ipynb", as_version=4)
    images = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2, "the confusion matrix and the coefficient plot"
    html = (runs[0] / "model_evaluation.html").read_text()
    assert html.count("data:image/png;base64,") >= 2
    title = read_config_file(config_file("dept_demo", "analysis", "evaluation", root=PROJECT_ROOT))["report_title"]
    assert f'">{title}<' in html, "the heading comes from configs/variables/dept_demo/analysis/evaluation.yaml"
    assert result["analysis"]["evaluation"]["report"] == str(runs[0] / "model_evaluation.html")


def test_artifact_summarises_metrics_and_points_at_report(pipeline_run):
    paths, result = pipeline_run
    artifact = Artifact.get("dept-demo-model-evaluation")
    card = json.loads(paths.model_card.read_text())
    assert f"| accuracy | {card['metrics']['accuracy']} |" in artifact.data
    assert result["analysis"]["evaluation"]["report"] in artifact.data.replace("file://", "")
