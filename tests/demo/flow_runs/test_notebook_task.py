"""The papermill task: injected values reach the report notebook, and nbdev-clean keeps the parameters tag."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from airnub.orchestration.notebook_flow import notebook_flow
from airnub.testing.helpers import PROJECT_ROOT

REPORT = "nbs/reports/model_evaluation.ipynb"


def test_injected_title_reaches_the_report_notebook(pipeline_run):
    run = notebook_flow(REPORT, {"title": "Harvest review 4711"})
    executed = nbformat.read(run.output_notebook, as_version=4)
    tags = [cell.metadata.get("tags", []) for cell in executed.cells]
    parameters_at, injected_at = (next(i for i, t in enumerate(tags) if tag in t)
                                  for tag in ("parameters", "injected-parameters"))
    assert injected_at == parameters_at + 1, "papermill injects right after the parameters cell"
    assert 'title = "Harvest review 4711"' in executed.cells[injected_at].source
    page = run.html.read_text()
    assert "<title>Harvest review 4711</title>" in page and '">Harvest review 4711<' in page, "title and top heading"


def test_nbdev_clean_keeps_the_parameters_tag(tmp_path):
    copy = shutil.copy(PROJECT_ROOT / REPORT, tmp_path / "report.ipynb")
    subprocess.run([Path(sys.executable).parent / "nbdev-clean", "--fname", copy], cwd=PROJECT_ROOT, check=True)
    cells = nbformat.read(copy, as_version=4).cells
    assert sum("parameters" in c.metadata.get("tags", []) for c in cells) == 1



def test_the_report_run_by_hand_runs_again_after_retraining(pipeline_run):
    """The report reads the model file by itself (no parameter names it): a retrained model is a new run."""
    from airnub_prefect_starter.data_science.modeling.train import train_and_save

    paths, _ = pipeline_run
    first = notebook_flow(REPORT)
    assert notebook_flow(REPORT).from_cache, "nothing changed"
    card = train_and_save(paths.features, paths.model, paths.model_card, test_size=0.5, random_state=7)
    retrained = notebook_flow(REPORT)
    assert not retrained.from_cache and retrained.run_dir != first.run_dir
    assert retrained.values["accuracy"] == round(card["metrics"]["accuracy"], 4)
    assert retrained.reason.startswith("ran: ") and "models" in retrained.reason, retrained.reason
