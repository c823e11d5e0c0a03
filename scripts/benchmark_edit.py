"""`make bench`'s `one_function_edit_rerun`: a run after a one-function edit of a notebook, over a first run.

On a copy of the project (the checkout's notebooks are never edited): a first run of the demo's pipeline, then
the training function edited in its notebook (nbs/data_science/30_modeling_train.ipynb) and exported with
nbdev-export, then the run again. Each run is a process of its own whose imports find the copy's package (an
editable install maps the package to the checkout: PYTHONPATH puts the copy first), timed around the pipeline's
call alone, after a warm-up flow (as the in-process figures are). The plan before each run says which steps run;
ingestion, cleaning and features must be served from the cache after the edit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

NOTEBOOK = Path("nbs") / "data_science" / "30_modeling_train.ipynb"
EDIT = ('"train_rows": int(len(y_train)),', '"train_rows": int(len(y_train)), "test_rows": int(len(y_test)),')
UNCHANGED = ("ingest-bundled-dataset", "ingest-inbox", "clean-raw-files", "build-feature-table")
# at the top: outputs and tools, not the project; anywhere: caches
LEFT_OUT = {".venv", ".git", ".prefect", ".cache", ".nbval", ".docs-build", "site", "data", "models", "reports"}
CACHES = {"__pycache__", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints"}

# The child: plan (which steps would run), then one timed call of the pipeline; prints one JSON line.
CHILD = """
import json, time
from prefect import flow
from airnub.orchestration.plan import plan_flow
from airnub.services.warm_runner import preload
from airnub.orchestration.subflows import without_heartbeats
from flows.dept_demo.pipeline_flow_dept_demo import pipeline_flow_dept_demo
preload()
flow(lambda: None, name="warm-up")()
runs = [step.name for step in plan_flow(pipeline_flow_dept_demo)[0] if step.verdict.runs]
with without_heartbeats():
    started = time.perf_counter()
    pipeline_flow_dept_demo()
    print(json.dumps({"seconds": time.perf_counter() - started, "ran": runs}))
"""


def copy_project(root: Path, target: Path) -> Path:
    """The project's sources (no outputs, no venv) copied to `target`."""
    def left_out(folder: str, names: list[str]) -> list[str]:
        return [name for name in names if name in CACHES or (Path(folder) == root and name in LEFT_OUT)]

    shutil.copytree(root, target, ignore=left_out, symlinks=True)
    return target


def edit_training(project: Path) -> None:
    """Edit the training function in its notebook (the model card gains the held-out row count), then export."""
    notebook = project / NOTEBOOK
    node = json.loads(notebook.read_text(encoding="utf-8"))
    cells = [cell for cell in node["cells"] if EDIT[0] in "".join(cell["source"])]
    if len(cells) != 1:
        raise RuntimeError(f"{NOTEBOOK}: the training function's card line ({EDIT[0]}) is not in one cell")
    cells[0]["source"] = "".join(cells[0]["source"]).replace(*EDIT)
    notebook.write_text(json.dumps(node, indent=1) + "\n", encoding="utf-8")
    exporter = Path(sys.executable).parent / "nbdev-export"
    subprocess.run([str(exporter)], cwd=project, check=True, capture_output=True, text=True)


def timed_run(project: Path, env: dict) -> dict:
    """One run of the copy's pipeline in a process of its own: its seconds and the steps its plan said would run."""
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=project, capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(project), "AIRNUB_PROJECT_ROOT": str(project)})
    if done.returncode != 0:
        raise RuntimeError(f"the pipeline in {project} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def one_function_edit_rerun(root: Path, scratch: Path, env: dict) -> dict[str, float]:
    """Seconds of the first run and of the run after the edit, in a copy of `root` with outputs under `scratch`."""
    project = copy_project(root, scratch / "edit" / "project")
    env = {**env, **{f"AIRNUB_{key}": str(scratch / "edit" / folder) for key, folder in (
        ("DATA_ROOT", "data"), ("MODELS_DIR", "models"), ("REPORTS_DIR", "reports"), ("CACHE_DIR", "cache"))},
        "AIRNUB_INBOX_QUIET_SECONDS": "0"}
    first = timed_run(project, env)
    edit_training(project)
    again = timed_run(project, env)
    if served := [name for name in UNCHANGED if name in again["ran"]]:
        raise RuntimeError(f"after the training edit these steps ran again, not from the cache: {', '.join(served)}")
    print(f"one_function_edit_rerun: after the edit these steps ran: {', '.join(again['ran'])}", file=sys.stderr)
    return {"edit_first_run": first["seconds"], "edit_rerun": again["seconds"]}


if __name__ == "__main__":  # alone: `python scripts/benchmark_edit.py` against PREFECT_API_URL (or a temporary server)
    import tempfile

    from airnub.engine.settings import load_settings

    scratch = Path(tempfile.mkdtemp(prefix="airnub-bench-edit-"))
    try:
        seconds = one_function_edit_rerun(load_settings().paths.root, scratch, dict(os.environ))
        print(json.dumps({**seconds, "ratio": seconds["edit_rerun"] / seconds["edit_first_run"]}, indent=2))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
