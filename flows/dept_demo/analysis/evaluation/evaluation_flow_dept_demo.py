"""Analysis category: score the data, run the evaluation report notebook, publish an artifact.

The report runs in report mode: `model_evaluation.html` is the copy for stakeholders (no code),
`model_evaluation.full.html` beside it shows the code and developer notes, and the executed notebook
stays too.
"""

from pathlib import Path

from prefect import flow

from airnub.orchestration.config import load_config
from airnub.orchestration.notebook_task import publish_report_task, run_notebook_task
from airnub_prefect_starter.data_science.config_ds import data_paths
from flows.dept_demo.analysis.evaluation.tasks.score_features_task import score_features_task

REPORT_NOTEBOOK = Path("reports") / "model_evaluation.ipynb"  # inside the notebooks folder


@flow(name="evaluation-dept-demo")
def evaluation_flow_dept_demo(report_title: str | None = None) -> dict:
    """Predictions for the processed table, the evaluation report, and an artifact summarising both."""
    config = load_config("dept_demo", "analysis", "evaluation", overrides={"report_title": report_title})
    paths = data_paths()
    scoring = score_features_task(paths.model, paths.model_card, paths.features, paths.predictions)
    run = run_notebook_task(paths.notebooks / REPORT_NOTEBOOK, {"title": config["report_title"]},
                            inputs=[paths.model, paths.model_card, paths.features], report_mode=True)
    publish_report_task(run, key="dept-demo-model-evaluation",
                        values={"rows scored": scoring["rows"], "mean probability": scoring["mean_probability"]})
    return {"scoring": scoring, "metrics": run.values, "report": str(run.html), "full_report": str(run.full_html)}


if __name__ == "__main__":
    evaluation_flow_dept_demo()
