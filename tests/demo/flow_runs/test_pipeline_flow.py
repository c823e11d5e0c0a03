"""The demo pipeline end to end on the session's Prefect server: every stage leaves what a user opens."""

from __future__ import annotations

import json
from importlib.metadata import version

import nbformat
import pandas as pd
from prefect.artifacts import Artifact

from airnub.orchestration.config import config_file, read_config_file
from airnub.testing.helpers import PROJECT_ROOT
from airnub_prefect_starter.data_science.feature_engineering import FEATURE_COLUMNS


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
    assert f"<title>{title}</title>" in html and f'">{title}<' in html, \
        "the page's title and top heading come from configs/variables/dept_demo/analysis/evaluation.yaml"
    assert "Model evaluation report" not in html, "the title replaces the notebook's own heading"
    assert result["analysis"]["evaluation"]["report"] == str(runs[0] / "model_evaluation.html")


def test_report_for_stakeholders_has_no_code_notes_or_record_noise_and_the_full_copy_sits_beside_it(pipeline_run):
    paths, result = pipeline_run
    (run_dir,) = (paths.reports / "model_evaluation").iterdir()
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "model_evaluation.full.html", "model_evaluation.html", "model_evaluation.ipynb", "run.json"]
    page, full = (run_dir / "model_evaluation.html").read_text(), (run_dir / "model_evaluation.full.html").read_text()
    code, note, noise = "split_features", "A parameterised report", "accuracy = "
    assert code not in page and note not in page and noise not in page and 'InputArea-prompt">' not in page
    assert "Held-out metrics" in page and "rows the model never trained on" in page, "the prose stays"
    assert code in full and note in full and 'InputArea-prompt">' in full, "the full copy shows everything"
    assert result["analysis"]["evaluation"]["full_report"] == str(run_dir / "model_evaluation.full.html")


def test_artifact_summarises_metrics_and_points_at_report(pipeline_run):
    _, result = pipeline_run
    evaluation = result["analysis"]["evaluation"]
    artifact = Artifact.get("dept-demo-model-evaluation")
    assert evaluation["metrics"]["accuracy"] > 0.9, "the report notebook recorded its metrics"
    for name, value in evaluation["metrics"].items():
        assert f"| {name} | {value} |" in artifact.data
    assert f"| rows scored | {evaluation['scoring']['rows']} |" in artifact.data
    assert "| name | value |\n|---|---|\n" in artifact.data, "the header stands over its columns"
    assert f"Report: `{evaluation['report']}`" in artifact.data, "no reports server here: the path, as text"
    assert f"Report with code: `{evaluation['full_report']}`" in artifact.data and "file://" not in artifact.data


def test_a_second_run_with_nothing_changed_is_served_from_the_cache(pipeline_run, caplog):
    from flows.dept_demo.pipeline_flow_dept_demo import pipeline_flow_dept_demo

    paths, first = pipeline_run
    written = {p: p.stat().st_mtime_ns for p in (paths.interim_dataset, paths.features, paths.model, paths.predictions)}
    second = pipeline_flow_dept_demo()
    assert second["ingestion"]["bundled_dataset"]["written"] is False
    assert (second["processing"], second["analysis"]) == (first["processing"], first["analysis"])
    assert {p: p.stat().st_mtime_ns for p in written} == written, "nothing was rewritten"
    assert len(list((paths.reports / "model_evaluation").iterdir())) == 1, "the report was not run again"
    assert sum("served from the cache" in r.getMessage() for r in caplog.records) == 5


def test_two_pipelines_at_once_take_turns_and_both_complete(subprocess_env, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    airnub = Path(sys.executable).parent / "airnub"
    homes = [{**subprocess_env, "PREFECT_HOME": str(tmp_path / f"home{n}")} for n in range(2)]
    runs = [subprocess.Popen([airnub, "run", "demo"], env=home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True) for home in homes]
    logs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], logs
    assert sum("waiting for another run to finish writing" in log for log in logs) == 1
    waited = next(log for log in logs if "waiting for another run" in log)
    assert waited.count("served from the cache") == 5, "the second run found the first one's work"
    card = json.loads((tmp_path / "models" / "wine_classifier.json").read_text())
    assert card["metrics"]["accuracy"] > 0.9 and len(pd.read_parquet(tmp_path / "data" / "processed" /
                                                                      "wine_predictions.parquet")) == 178
