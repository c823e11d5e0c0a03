"""`airnub notebook`, `airnub sweep` and `airnub params`: a checked notebook request run as a flow, and its answer."""

from __future__ import annotations

import json
import time
from pathlib import Path

from airnub.commands.requests import NotebookRequest, ParamsRequest, SweepRequest
from airnub.engine.notebook_parameters import read_contract
from airnub.engine.parameter_types import excerpt
from airnub.engine.run_records import NotebookRun


def deliver(executed: Path, output: Path) -> Path:
    """A copy of the executed notebook at `output` (papermill's OUT), its papermill metadata naming that path."""
    notebook = json.loads(executed.read_text(encoding="utf-8"))
    notebook.setdefault("metadata", {}).setdefault("papermill", {})["output_path"] = str(output)
    output.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return output


def print_run(run: NotebookRun, as_json: bool, seconds: float, flow_run: str = "", output: Path | None = None) -> None:
    """The answer of a notebook run (or of the cache): its reason, values and files; with `output`, papermill's OUT."""
    if output is not None:  # papermill's OUT: a copy of the executed notebook
        deliver(Path(run.output_notebook), output)
    if as_json:
        print(json.dumps({**run.__dict__, "seconds": round(seconds, 3)}, indent=2, default=str))
        return
    if run.from_cache:
        print(f"{run.notebook.name}: {run.reason} (checked in {seconds:.1f} s); --no-cache runs it again")
    else:
        print(f"{run.notebook.name}: completed in {seconds:.1f} s{flow_run}\n{run.reason}")
    print(f"values: {json.dumps(run.values)}\nexecuted notebook: {run.output_notebook}\nreport: {run.html}")
    if output is not None:
        print(f"output notebook: {output}")
    if run.full_html:
        print(f"report with code: {run.full_html}")


def run_notebook_command(request: NotebookRequest) -> int:
    """Run the checked notebook request as the `notebook` flow; print its answer."""
    from airnub.commands.pipelines import flow_run_line
    from airnub.orchestration.notebook_flow import notebook_flow

    started = time.monotonic()
    state = notebook_flow(request.notebook, request.parameters, use_cache=request.use_cache,
                          cell_timeout=request.timeout, cwd=request.cwd, inputs=list(request.inputs),
                          report_mode=request.report_mode, return_state=True)
    print_run(state.result(), request.json, time.monotonic() - started, flow_run_line(state),
              output=Path(request.output) if request.output else None)
    return 0


def run_sweep_command(request: SweepRequest) -> int:
    """Run the notebook over every combination of the checked grid; one line per run."""
    from airnub.orchestration.sweep_flow import run_sweep

    runs = run_sweep(request.notebook, request.grid, use_cache=request.use_cache, cell_timeout=request.timeout)
    for run in runs:
        print(f"{json.dumps(run.parameters)} -> {json.dumps(run.values)}{' (cache)' if run.from_cache else ''}")
    return 0


def list_parameters(request: ParamsRequest) -> int:
    """Print a notebook's parameters: name, type, default and help (and the ones whose names look secret)."""
    notebook = Path(request.notebook)
    contract = read_contract(notebook)
    if contract is None:
        print(f"{notebook.name}: no cell tagged 'parameters'; it takes no parameters")
        return 0
    print(f"Parameters of {notebook.name} (set with -p NAME VALUE, -r NAME TEXT, -y YAML or -f FILE.yaml):")
    names = max((len(name) for name in contract), default=0)
    types = max((len(declared.type) for declared in contract.values()), default=0)
    for name, declared in contract.items():
        line = f"  {name:<{names}}  {declared.type:<{types}}  default {excerpt(declared.default)}"
        notes = [declared.help] if declared.help else []
        if declared.secret:
            notes.append("(its name looks secret: values are refused; `# not-secret` on its line allows them)")
        print("  ".join([line, *notes]))
    return 0
