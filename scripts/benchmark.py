"""`make bench`: what Prefect, the cache and parallel runs cost or save, as ratios measured side by side.

A run after a one-function edit is measured on a copy of the project (scripts/benchmark_edit.py).

Every measurement runs in this one process on fresh output folders (a temporary data, models,
reports and cache root) against the project's Prefect server (`airnub server start`, with a home and
ports of the bench's own, started by the CLI section's first command), with what the warm runner loads
before a command arrives (as `airnub run` meets it); the CLI section runs `airnub`, papermill and
`make run` as processes. Writes
reports/benchmarks/latest.json and prints a table with the absolute times behind each ratio.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import papermill
import psutil
from benchmark_dask import dask_sweep_vs_local
from benchmark_edit import one_function_edit_rerun

from airnub.engine.settings import ensure_directories, load_settings
from airnub.engine.storage import write_csv
from airnub_prefect_starter.core.data_cleaning import clean_raw_files
from airnub_prefect_starter.core.data_ingestion import ingest_bundled_dataset, ingest_inbox
from airnub_prefect_starter.core.model_inference import score_features
from airnub_prefect_starter.data_science.config_ds import data_paths
from airnub_prefect_starter.data_science.dataset_processing import synthetic_wine
from airnub_prefect_starter.data_science.feature_engineering import build_feature_table
from airnub_prefect_starter.data_science.modeling.train import train_and_save

REPORT = Path("reports") / "model_evaluation.ipynb"
SWEEP_RUNS = 8
SCALE = 100  # the large run's size, in multiples of the demo dataset


class PeakMemory:
    """Peak resident memory of this process and its children (notebook kernels), sampled every 50 ms."""

    def __enter__(self) -> PeakMemory:
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.05):
            with suppress(psutil.Error):
                self.peak = max(self.peak, sum(p.memory_info().rss for p in [me, *me.children(recursive=True)]))

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def fresh_outputs(scratch: Path, name: str) -> None:
    """Point data, models, reports and cache at an empty folder `scratch/name`."""
    root = scratch / name
    for key, folder in (("DATA_ROOT", "data"), ("MODELS_DIR", "models"), ("REPORTS_DIR", "reports"),
                        ("CACHE_DIR", "cache")):
        os.environ[f"AIRNUB_{key}"] = str(root / folder)
    os.environ["AIRNUB_INBOX_QUIET_SECONDS"] = "0"  # the synthetic file is written whole (atomically): take it at once


def raw_pipeline() -> None:
    """The demo's work without Prefect: the exported functions, then one plain papermill run of the report."""
    paths = data_paths(ensure_directories(load_settings().paths))
    paths.raw_dropped.mkdir(exist_ok=True)
    ingest_bundled_dataset(paths.raw_dataset)
    ingest_inbox(paths.inbox, paths.raw_dropped, paths.ingest_manifest)
    clean_raw_files(paths.raw_files(), paths.interim_dataset)
    build_feature_table(paths.interim_dataset, paths.features)
    train_and_save(paths.features, paths.model, paths.model_card)
    score_features(paths.model, paths.model_card, paths.features, paths.predictions)
    bare_report(paths.reports / "bare.ipynb")


def bare_report(output: Path) -> None:
    settings = load_settings()
    papermill.execute_notebook(settings.paths.notebooks / REPORT, output, parameters={"title": "Benchmark"},
                               kernel_name=settings.kernel_name, cwd=settings.paths.root, progress_bar=False)


def pipeline_at_scale(scratch: Path, copies: int) -> tuple[float, float]:
    """Seconds and peak MiB of the pipeline on the bundled dataset plus `copies - 1` synthetic copies in the inbox."""
    from flows.dept_demo.pipeline_flow_dept_demo import pipeline_flow_dept_demo

    fresh_outputs(scratch, f"scale-{copies}")
    paths = ensure_directories(load_settings().paths)
    if copies > 1:
        write_csv(synthetic_wine(copies - 1, seed=1), paths.inbox / "synthetic.csv")
    with PeakMemory() as memory:
        seconds = timed(pipeline_flow_dept_demo)
    return seconds, memory.peak / 2**20


SMALL_NOTEBOOK = {"cells": [
    {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "label = 'x'\nn = 3", "outputs": [],
     "execution_count": None},
    {"cell_type": "code", "metadata": {}, "source": "total = sum(range(n))\nprint(label, total)", "outputs": [],
     "execution_count": None}],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5}


def command_seconds(command: list[str], env: dict, runs: int = 1) -> float:
    """The fastest of `runs` wall times of `command` as a process (as a user meets it); it must succeed."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=load_settings().paths.root, capture_output=True, text=True)
        best = min(best, time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return best


def server_environment(scratch: Path) -> tuple[dict, str]:
    """The environment of `airnub` commands whose project server (home, ports) and outputs are the bench's own;
    the address of that server's API."""
    with socket.socket() as probe, socket.socket() as other:
        probe.bind(("127.0.0.1", 0))
        other.bind(("127.0.0.1", 0))
        port, reports_port = probe.getsockname()[1], other.getsockname()[1]
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PREFECT_", "AIRNUB_"))}
    env.update({f"AIRNUB_{key}": str(scratch / "cli" / folder) for key, folder in (
        ("DATA_ROOT", "data"), ("MODELS_DIR", "models"), ("REPORTS_DIR", "reports"), ("CACHE_DIR", "cache"))},
        AIRNUB_SERVER_HOME=str(scratch / "cli" / "server"), AIRNUB_REPORTS_PORT=str(reports_port),
        AIRNUB_SERVER_PORT=str(port), PREFECT_HOME=str(scratch / "cli" / "prefect-home"))
    return env, f"http://127.0.0.1:{port}/api"


def measure_cli(scratch: Path, env: dict) -> dict[str, float]:
    """The papermill CLI and `airnub` side by side, as processes, on one small notebook; and `make run` again.

    `airnub` runs on the default path of a fresh clone after `make setup`: its first command starts the project's
    server (that start is measured too), later commands reuse it; it keeps running for `measure`.
    """
    bin_dir, settings = Path(sys.executable).parent, load_settings()
    notebook = scratch / "cli" / "nbs" / "small.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_text(json.dumps(SMALL_NOTEBOOK))
    env = {**env, "AIRNUB_NOTEBOOKS_DIR": str(notebook.parent), "AIRNUB_ALLOW_NOTEBOOKS_OUTSIDE_PROJECT": "true"}
    airnub, seconds = [str(bin_dir / "airnub")], {}
    # the server's database as `make setup` leaves it (migrated), in the bench's own server home
    command_seconds(["make", "--no-print-directory", "server-db", f"SERVER_HOME={env['AIRNUB_SERVER_HOME']}"], env)
    seconds["cli_first_command"] = command_seconds(
        [*airnub, "notebook", str(notebook), "-p", "label", "first"], env)
    papermill_cli = [str(bin_dir / "papermill"), str(notebook), str(scratch / "cli" / "out.ipynb"),
                     "-k", settings.kernel_name, "-p", "label", "x"]
    seconds["papermill_cli"] = command_seconds(papermill_cli, env, runs=3)
    seconds["cli_fresh"] = command_seconds([*airnub, "notebook", str(notebook), "-p", "label", "x", "--no-cache"],
                                           env, runs=3)
    seconds["cli_cached"] = command_seconds([*airnub, "notebook", str(notebook), "-p", "label", "x"], env, runs=3)
    seconds["cli_help"] = command_seconds([*airnub, "--help"], env, runs=3)
    make = ["make", "--no-print-directory", "run"]
    project = {k: v for k, v in env.items() if not k.startswith(("AIRNUB_NOTEBOOKS", "AIRNUB_ALLOW_NOTEBOOKS"))}
    command_seconds(make, project)  # the first `make run` of this output tree
    seconds["make_run_again"] = command_seconds(make, project, runs=2)
    seconds["plan_seconds"] = command_seconds([*airnub, "run", "demo", "--plan"], project, runs=3)  # warm runner
    return seconds


def bare_prefect_tree() -> object:
    """The demo's tree of nested Prefect flows (pipeline, stages, categories) calling the same functions through one
    task each, with no cache, config or lock code: what Prefect itself charges for the pipeline's shape."""
    from prefect import flow, task

    paths = data_paths(ensure_directories(load_settings().paths))
    paths.raw_dropped.mkdir(exist_ok=True)
    step = task(lambda function, *args: function(*args), name="bare-step")

    def category(name: str, *calls: tuple) -> object:
        return flow(lambda: [step(function, *args) for function, *args in calls], name=f"bare-{name}")

    stages = {"ingestion": [category("bundled", (ingest_bundled_dataset, paths.raw_dataset)),
                            category("inbox", (ingest_inbox, paths.inbox, paths.raw_dropped, paths.ingest_manifest))],
              "processing": [category("cleaning", (lambda: clean_raw_files(paths.raw_files(), paths.interim_dataset),)),
                             category("features", (build_feature_table, paths.interim_dataset, paths.features))],
              "analysis": [category("training", (train_and_save, paths.features, paths.model, paths.model_card)),
                           category("evaluation", (score_features, paths.model, paths.model_card, paths.features,
                                                   paths.predictions),
                                    (bare_report, paths.reports / "bare-tree.ipynb"))]}
    tree = {name: flow(lambda flows=flows: [child() for child in flows], name=f"bare-{name}")
            for name, flows in stages.items()}
    return flow(lambda: [tree[name]() for name in stages], name="bare-pipeline")()


def measure(scratch: Path) -> dict[str, float]:
    from airnub.orchestration.notebook_flow import notebook_flow
    from airnub.orchestration.sweep_flow import run_sweep
    from flows.dept_demo.pipeline_flow_dept_demo import pipeline_flow_dept_demo

    seconds = {}
    fresh_outputs(scratch, "raw")
    seconds["raw_functions_and_papermill"] = timed(raw_pipeline)
    fresh_outputs(scratch, "pipeline")
    seconds["pipeline_first_run"] = timed(pipeline_flow_dept_demo)
    seconds["pipeline_cached_rerun"] = timed(pipeline_flow_dept_demo)
    fresh_outputs(scratch, "bare-tree")
    seconds["bare_prefect_tree"] = timed(bare_prefect_tree)
    report = str(load_settings().paths.notebooks / REPORT)
    seconds["papermill_task"] = min(timed(lambda: notebook_flow(report, {"title": "Benchmark"}, use_cache=False))
                                    for _ in range(2))
    bare = load_settings().paths.reports / "bare.ipynb"
    seconds["bare_papermill"] = min(timed(lambda: bare_report(bare)) for _ in range(2))
    grid = {"title": [f"Sweep run {n}" for n in range(SWEEP_RUNS)]}
    for label, workers in (("sweep_one_at_a_time", 1), ("sweep_parallel", os.cpu_count() or 2)):
        os.environ["AIRNUB_MAX_WORKERS"] = str(workers)
        seconds[label] = timed(lambda: run_sweep(report, grid, use_cache=False))
    os.environ.pop("AIRNUB_MAX_WORKERS")
    seconds["pipeline_demo_size"], seconds["peak_mib_demo_size"] = pipeline_at_scale(scratch, 1)
    seconds[f"pipeline_{SCALE}x"], seconds[f"peak_mib_{SCALE}x"] = pipeline_at_scale(scratch, SCALE)
    return seconds


def main() -> int:
    from prefect import flow
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    from airnub.orchestration.subflows import without_heartbeats
    from airnub.services.warm_runner import preload

    settings = load_settings()
    reports_root = settings.paths.reports  # before the outputs move to scratch folders
    scratch = Path(tempfile.mkdtemp(prefix="airnub-bench-"))
    os.environ["PREFECT_HOME"] = str(scratch / "prefect-home")
    env, api_url = server_environment(scratch)
    try:
        seconds = measure_cli(scratch, env)  # processes first; the project's server they start stays up
        auth = (Path(env["AIRNUB_SERVER_HOME"]) / "api-auth").read_text().strip()  # the server's credential
        clients = {**env, "PREFECT_API_URL": api_url, "PREFECT_API_AUTH_STRING": auth}
        seconds |= dask_sweep_vs_local(scratch / "cli" / "nbs" / "small.ipynb", clients, scratch, command_seconds)
        with temporary_settings(updates={PREFECT_API_URL: api_url, PREFECT_API_AUTH_STRING: auth}):  # flows here too
            flow(lambda: None, name="warm-up")()  # the first API call, before anything is timed
            preload()  # what the warm runner holds before a command arrives (`airnub run` meets it so)
            with without_heartbeats():  # flows run as `airnub run|notebook|sweep` runs them
                seconds |= measure(scratch)
        seconds |= one_function_edit_rerun(settings.paths.root, scratch, clients)  # processes, on the same server
    finally:
        subprocess.run([str(Path(sys.executable).parent / "airnub"), "server", "stop"], env=env,
                       cwd=settings.paths.root, capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    ratios = {"cli_fresh_vs_papermill": seconds["cli_fresh"] / seconds["papermill_cli"],
              "cli_cached_vs_papermill": seconds["cli_cached"] / seconds["papermill_cli"],
              "cli_first_command_vs_papermill": seconds["cli_first_command"] / seconds["papermill_cli"],
              "make_run_again_vs_pipeline": seconds["make_run_again"] / seconds["pipeline_cached_rerun"],
              "pipeline_vs_raw_ratio": seconds["pipeline_first_run"] / seconds["raw_functions_and_papermill"],
              "cached_rerun_ratio": seconds["pipeline_cached_rerun"] / seconds["pipeline_first_run"],
              "orchestration_vs_bare_prefect": seconds["pipeline_first_run"] / seconds["bare_prefect_tree"],
              "one_function_edit_rerun": seconds["edit_rerun"] / seconds["edit_first_run"],
              "notebook_overhead_ratio": seconds["papermill_task"] / seconds["bare_papermill"],
              "sweep_speedup": seconds["sweep_one_at_a_time"] / seconds["sweep_parallel"],
              "dask_sweep_vs_local": seconds["sweep_dask_cluster"] / seconds["sweep_local_threads"],
              f"scale_{SCALE}x_time_ratio": seconds[f"pipeline_{SCALE}x"] / seconds["pipeline_demo_size"],
              f"scale_{SCALE}x_peak_memory_ratio": seconds[f"peak_mib_{SCALE}x"] / seconds["peak_mib_demo_size"]}
    result = {"measured_at": datetime.now(UTC).isoformat(), "machine": {
        "cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "ratios": {k: round(v, 3) for k, v in ratios.items()}, "cli_help_seconds": round(seconds["cli_help"], 3),
        "plan_seconds": round(seconds["plan_seconds"], 3),
        "measured": {k: round(v, 3) for k, v in seconds.items()}}  # in seconds; peak_mib_* in MiB
    target = reports_root / "benchmarks" / "latest.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{'ratio':<32}{'value':>8}   behind it (seconds; peak memory in MiB)")
    behind = {"cli_fresh_vs_papermill": ("cli_fresh", "papermill_cli"),
              "cli_cached_vs_papermill": ("cli_cached", "papermill_cli"),
              "cli_first_command_vs_papermill": ("cli_first_command", "papermill_cli"),
              "make_run_again_vs_pipeline": ("make_run_again", "pipeline_cached_rerun"),
              "pipeline_vs_raw_ratio": ("pipeline_first_run", "raw_functions_and_papermill"),
              "cached_rerun_ratio": ("pipeline_cached_rerun", "pipeline_first_run"),
              "orchestration_vs_bare_prefect": ("pipeline_first_run", "bare_prefect_tree"),
              "one_function_edit_rerun": ("edit_rerun", "edit_first_run"),
              "notebook_overhead_ratio": ("papermill_task", "bare_papermill"),
              "sweep_speedup": ("sweep_one_at_a_time", "sweep_parallel"),
              "dask_sweep_vs_local": ("sweep_dask_cluster", "sweep_local_threads"),
              f"scale_{SCALE}x_time_ratio": (f"pipeline_{SCALE}x", "pipeline_demo_size"),
              f"scale_{SCALE}x_peak_memory_ratio": (f"peak_mib_{SCALE}x", "peak_mib_demo_size")}
    for name, value in ratios.items():
        top, bottom = behind[name]
        print(f"{name:<32}{value:>8.3f}   {top} {seconds[top]:.2f} / {bottom} {seconds[bottom]:.2f}")
    print(f"{'cli_help_seconds':<32}{seconds['cli_help']:>8.3f}   airnub --help, wall")
    print(f"{'plan_seconds':<32}{seconds['plan_seconds']:>8.3f}   airnub run demo --plan, wall (warm runner)")
    print(f"\nwritten to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
