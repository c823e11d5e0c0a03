"""`make bench-scale`: the demo pipeline on a table larger than memory: rows, seconds, peak memory.

Writes `--rows` wine rows (the bundled 178 over and over, each measurement jittered as `synthetic_wine` does and
rounded to 2 decimals, generated a chunk at a time) as CSV files under the inbox's size limit into the inbox of a
temporary data root (AIRNUB_DATA_ROOT, AIRNUB_MODELS_DIR, AIRNUB_REPORTS_DIR, AIRNUB_CACHE_DIR point there), then
runs the demo's pipeline flow as a process (`python -m flows.dept_demo.pipeline_flow_dept_demo`, with a Prefect home
of its own) and samples the resident memory of that process and every process under it (the report's kernel,
Prefect's temporary server) five times a second. Prints rows, seconds and peak GiB; deletes the temporary data.

`--project PATH` runs another checkout's pipeline (its own .venv) on the same data: the figure of older code.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.csv as pa_csv

from airnub.engine.settings import load_settings
from airnub_prefect_starter.data_science.dataset_processing import TARGET_COLUMN, load_bundled_wine

GENERATED_CHUNK_ROWS = 1_000_000  # rows generated and written at once
BYTES_PER_ROW = 70  # about what one generated CSV row takes; the disk check and the file split use it
DISK_FACTOR = 4  # the data root at the end (inbox, raw copy, interim, features, predictions) against the CSV bytes


def file_rows(max_file_bytes: int) -> int:
    """Rows per inbox file: a whole number of chunks whose CSV stays well under `max_file_bytes`."""
    return max(1, int(0.8 * max_file_bytes / BYTES_PER_ROW) // GENERATED_CHUNK_ROWS) * GENERATED_CHUNK_ROWS


def generate_inbox(inbox: Path, rows: int, max_file_bytes: int, seed: int = 0) -> list[Path]:
    """Write `rows` jittered wine rows into CSV files in `inbox`, each under `max_file_bytes`; return the files."""
    wine = load_bundled_wine()
    measurements = [c for c in wine.columns if c != TARGET_COLUMN]
    base, target = wine[measurements].to_numpy(), wine[TARGET_COLUMN].to_numpy()
    spread, rng = wine[measurements].std().to_numpy(), np.random.default_rng(seed)
    inbox.mkdir(parents=True, exist_ok=True)
    files, per_file, done = [], file_rows(max_file_bytes), 0
    while done < rows:
        path, writer = inbox / f"harvest_{len(files):03d}.csv", None
        for start in range(done, min(rows, done + per_file), GENERATED_CHUNK_ROWS):
            count = min(GENERATED_CHUNK_ROWS, rows - start)
            which = np.arange(start, start + count) % len(base)
            jitter = rng.normal(0, 0.05, (len(measurements), count)) * spread[:, None]  # a row per column
            values = np.abs(base.T[:, which] + jitter).round(2)
            table = pa.table({**dict(zip(measurements, values, strict=True)), TARGET_COLUMN: target[which]})
            writer = writer or pa_csv.CSVWriter(str(path), table.schema)
            writer.write_table(table)
        writer.close()
        done = min(rows, done + per_file)
        if path.stat().st_size > max_file_bytes:
            raise SystemExit(f"benchmark_scale: {path.name} is {path.stat().st_size / 2**20:.0f} MB, over the inbox "
                             f"limit; lower BYTES_PER_ROW's file split in scripts/benchmark_scale.py")
        files.append(path)
    settled = time.time() - 3600  # older than inbox_quiet_seconds: the run takes them at once
    for path in files:
        os.utime(path, (settled, settled))
    return files


def peak_of_tree(process: subprocess.Popen, every: float = 0.2) -> tuple[list[int], threading.Thread]:
    """Start sampling the summed resident memory of `process` and its descendants; the peak lands in the list."""
    peak = [0]

    def sample() -> None:
        root = psutil.Process(process.pid)
        while process.poll() is None:
            with suppress(psutil.Error):
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]))
            time.sleep(every)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    return peak, thread


def run_pipeline(project: Path, scratch: Path) -> tuple[float, int, str]:
    """Run the demo pipeline of `project` on the outputs under `scratch`: its seconds, peak bytes, and its log."""
    python = project / ".venv" / "bin" / "python"
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PREFECT_", "AIRNUB_"))}
    env.update({f"AIRNUB_{key}": str(scratch / folder) for key, folder in (
        ("DATA_ROOT", "data"), ("MODELS_DIR", "models"), ("REPORTS_DIR", "reports"), ("CACHE_DIR", "cache"))},
        PREFECT_HOME=str(scratch / "prefect-home"), PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180")
    log = scratch / "pipeline.log"
    started = time.perf_counter()
    with open(log, "w") as output:
        process = subprocess.Popen([str(python), "-m", "flows.dept_demo.pipeline_flow_dept_demo"], cwd=project,
                                   env=env, stdout=output, stderr=subprocess.STDOUT)
        peak, sampler = peak_of_tree(process)
        code = process.wait()
        sampler.join()
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"benchmark_scale: the pipeline failed (exit {code}); its log:\n{log.read_text()[-4000:]}")
    return seconds, peak[0], log.read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000, help="rows to generate (default 100 M)")
    parser.add_argument("--project", type=Path, default=None, help="the checkout whose pipeline runs (default: this)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data root (its path is printed)")
    arguments = parser.parse_args()
    if arguments.rows < 1:
        parser.error(f"--rows: expected a positive number of rows, got {arguments.rows}")
    settings = load_settings()
    project = (arguments.project or settings.paths.root).resolve()
    if not (project / ".venv" / "bin" / "python").exists():
        parser.error(f"--project {project}: expected a checkout with its own .venv (run make setup there)")
    scratch = Path(tempfile.mkdtemp(prefix="airnub-bench-scale-"))
    needed, free = arguments.rows * BYTES_PER_ROW * DISK_FACTOR, shutil.disk_usage(scratch).free
    if needed > free:
        shutil.rmtree(scratch)
        raise SystemExit(f"benchmark_scale: --rows {arguments.rows:,} needs about {needed / 2**30:.0f} GiB of disk "
                         f"under {scratch.parent}, {free / 2**30:.0f} GiB are free")
    try:
        started = time.perf_counter()
        files = generate_inbox(scratch / "data" / "external" / "inbox", arguments.rows,
                               settings.inbox_max_megabytes * 2**20)
        generated = time.perf_counter() - started
        csv_bytes = sum(p.stat().st_size for p in files)
        seconds, peak, _ = run_pipeline(project, scratch)
        used = sum(p.stat().st_size for p in scratch.rglob("*") if p.is_file())
    finally:
        if not arguments.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"project      {project}")
    print(f"rows         {arguments.rows:,} in {len(files)} inbox file(s), {csv_bytes / 2**30:.2f} GiB of CSV "
          f"(generated in {generated:.0f} s)")
    print(f"seconds      {seconds:.0f}   the pipeline process, start to exit")
    print(f"peak GiB     {peak / 2**30:.2f}   resident, the pipeline process and its children, summed")
    print(f"disk GiB     {used / 2**30:.1f}   the temporary data root at the end" + (f" (kept: {scratch})"
                                                                                     if arguments.keep else ""))


if __name__ == "__main__":
    sys.exit(main())
